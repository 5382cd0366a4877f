import Glibc
import Providers
import UVNet

/// Hands a value to a closure on another loop's thread. The closure only ever runs on its own loop.
private struct LoopBound<T>: @unchecked Sendable { let value: T }

/// The credential of one upstream: a static value, an environment variable, or a token printed by a
/// command. Shared by every worker; the command runs once at a time (single flight across all
/// loops) and its token is cached until its JWT `exp` minus the skew, or the configured TTL.
/// Tokens never reach a log line or an error message.
final class CredentialSource: @unchecked Sendable {
    typealias Completion = (Result<String, APIError>) -> Void

    let config: AuthConfig
    /// The upstream's name (the `upstream` label of the credential metrics).
    let upstream: String
    private let lock = Lock()
    /// The command's token with the prefix, made once per token (not per request: joining them allocated
    /// and cost ~700 instructions per request); every request shares this one String.
    private var token: String?
    /// A static or environment value with the prefix, made once (nil: none, or the variable is unset or empty).
    private let fixedValue: String?
    private var expiresAt: Double = 0
    /// The value comes from a command (is cached and refreshed), not from the config or the environment.
    private let isCommand: Bool
    private var running = false
    private var waiters: [(loop: EventLoop, done: Completion)] = []
    private let clock: @Sendable () -> Double
    /// How many times the command ran (tests assert single flight).
    private(set) var runs = 0

    init(config: AuthConfig, upstream: String = "", clock: @escaping @Sendable () -> Double = CredentialSource.wallClock) {
        self.config = config
        self.upstream = upstream
        self.clock = clock
        switch config.source {
        case .staticValue(let v): fixedValue = config.prefix + v
        case .env: fixedValue = config.token.flatMap { $0.isEmpty ? nil : config.prefix + $0 }
        case .command: fixedValue = nil
        }
        if case .command = config.source { isCommand = true } else { isCommand = false }
    }

    /// The header to send, or nil when the upstream has no auth.
    /// `rejected` is a token the upstream just refused (401): it is dropped and the command runs again.
    /// A command run this call starts is counted in `metrics` (the calling worker's).
    func value(on loop: EventLoop, rejected: String? = nil, metrics: WorkerMetrics? = nil, _ done: @escaping Completion) {
        switch config.source {
        case .staticValue:
            done(.success(fixedValue!))
        case .env(let name):
            // The variable was read once, at load.
            if let v = fixedValue {
                done(.success(v))
            } else {
                done(.failure(APIError(status: 502, type: "api_error",
                                       message: "upstream credential: environment variable \(name) is not set")))
            }
        case .command(let command):
            lock.lock()
            if let rejected, token == rejected {
                token = nil
            }
            if let token, clock() < expiresAt {
                lock.unlock()
                done(.success(token))
                return
            }
            waiters.append((loop, done))
            let start = !running
            running = true
            if start { runs += 1 }
            lock.unlock()
            if start { run(command, on: loop, metrics: metrics) }
        }
    }

    /// The header value at hand, without a callback: a static or environment value, or the command's
    /// token while it is fresh (`rejected`, a token the upstream just refused, is dropped first). Nil
    /// when `value(on:)` must be asked (a command run to start or to wait for, or an unset variable's
    /// error). The exchange asks this first: a cached token costs a lock and a clock read, no closure.
    func cachedValue(rejected: String?) -> String? {
        guard isCommand else { return fixedValue }
        lock.lock()
        defer { lock.unlock() }
        if let rejected, token == rejected { token = nil }
        if let token, clock() < expiresAt { return token }
        return nil
    }

    /// True when a 401 from the upstream is worth a refresh and one retry.
    var canRefresh: Bool {
        if case .command = config.source { return true }
        return false
    }

    private func run(_ command: AuthConfig.Command, on loop: EventLoop, metrics: WorkerMetrics?) {
        let argv: [String]
        switch command {
        case .argv(let a): argv = a
        case .shell(let s): argv = ["/bin/sh", "-c", s]
        }
        let timeout = config.commandTimeout
        let started = metrics == nil ? 0 : monotonicNanoseconds()
        ProcessRunner(loop: loop).run(argv, timeoutMs: UInt64(timeout)) { [self] outcome in
            let result = self.interpret(outcome, timeoutMs: timeout)
            if let metrics {
                let ok = if case .success = result { true } else { false }
                metrics.credentialCommand(upstream: upstream, ns: monotonicNanoseconds() - started, ok: ok)
            }
            lock.lock()
            let prefixed = result.map { config.prefix + $0 }
            if case .success(let t) = result, case .success(let v) = prefixed {
                token = v
                expiresAt = Self.expiry(of: t, now: clock(), ttlMs: config.ttl, skewMs: config.refreshSkew)
            }
            running = false
            let ready = waiters
            waiters.removeAll()
            lock.unlock()
            for w in ready {
                if w.loop === loop {
                    w.done(prefixed)
                } else {
                    let bound = LoopBound(value: (w.done, prefixed))
                    w.loop.execute { bound.value.0(bound.value.1) }
                }
            }
        }
    }

    private func interpret(_ outcome: ProcessOutcome, timeoutMs: Int) -> Result<String, APIError> {
        func failure(_ status: Int, _ why: String) -> Result<String, APIError> {
            .failure(APIError(status: status, type: "api_error", message: "upstream credential command \(why)", code: "credential_command_failed"))
        }
        switch outcome {
        case .timedOut:
            return failure(503, "timed out after \(timeoutMs) ms")
        case .signaled(let sig):
            return failure(502, "was killed by signal \(sig)")
        case .failedToStart(let e):
            return failure(502, "could not start: \(e.message)")
        case .exited(let status, let out, let err):
            if status != 0 {
                // stderr is diagnostic ("not logged in"); stdout may hold a token and is never shown.
                let firstLine = String(decoding: err.prefix(200), as: UTF8.self)
                    .split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
                return failure(502, "exited with status \(status)" + (firstLine.isEmpty ? "" : ": \(firstLine)"))
            }
            var t = Substring(String(decoding: out, as: UTF8.self))
            while let c = t.first, c.isWhitespace { t.removeFirst() }
            while let c = t.last, c.isWhitespace { t.removeLast() }
            if t.isEmpty { return failure(502, "printed no token") }
            if t.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) {
                return failure(502, "printed more than one line")
            }
            return .success(String(t))
        }
    }

    /// A JWT's `exp` minus the skew, or now plus the TTL when the token is not a JWT.
    static func expiry(of token: String, now: Double, ttlMs: Int, skewMs: Int) -> Double {
        if let exp = jwtExpiry(token) { return exp - Double(skewMs) / 1000 }
        return now + Double(ttlMs) / 1000
    }

    static func jwtExpiry(_ token: String) -> Double? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let payload = Base64.decode(parts[1]),
              case .object(let claims)? = try? JSONParser.parse(payload),
              case .number(let exp)? = claims["exp"]
        else { return nil }
        return exp.doubleValue
    }

    /// Seconds since 1970 (what the JWT `exp` claim counts).
    @Sendable static func wallClock() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
