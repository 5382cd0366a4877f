import Glibc

/// What the exchange's state machine reads from outside: the loop's clock, the wall clock (for an
/// HTTP-date `Retry-After`), jitter for backoffs, the route's fallback chain (circuit breakers) and
/// what its targets are configured with (read only when a failure asks). The exchange passes the loop's; tests pass a fake with a clock they move by hand.
protocol ExchangeEnvironment {
    /// ms of the loop's clock.
    var now: UInt64 { get }
    /// Unix seconds.
    var wallNow: Int { get }
    /// In 0...1.
    mutating func jitter() -> Double
    /// The target at `index` failed: counts it against its circuit and returns the next target of the
    /// chain whose circuit lets a request through (nil: none left). Only called on routes with fallbacks.
    mutating func failed(target index: Int) -> Int?
    /// The retry policy of target `index` (0: the route, n: its n-th fallback).
    func policy(target index: Int) -> RetryPolicy
    /// Whether the credential of target `index` can be refreshed after a 401.
    func credentialCanRefresh(target index: Int) -> Bool
}

/// The control of one exchange, without sockets, timers or buffers: explicit states, events in, at
/// most two actions out per event (`Actions`), one retry step (`reinitRequest`), and an injected
/// clock (`ExchangeEnvironment`). `Exchange` is the shell that feeds it what happens on the loop and
/// runs what it answers. Every (state, event) pair is tested in ExchangeStateMachineTests.
struct ExchangeStateMachine<Env: ExchangeEnvironment> {
    enum BodyMode: Equatable { case collect, translateStream, rawStream }

    /// The retries of a kind that happen at most once per exchange.
    struct Retried: Equatable {
        var stale = false
        var auth = false
        var rejection = false
    }

    /// The try in progress and the tries before it.
    struct Attempt: Equatable {
        /// Tries of the upstream so far (1 during the first): what the retry policy counts.
        var number = 1
        /// 0: the route itself; n: its n-th fallback.
        var targetIndex = 0
        /// Retries of every kind (policy, fallback, stale connection, token refresh, healing), for the log.
        var retries = 0
        var retried = Retried()
    }

    enum State: Equatable {
        /// Waiting for the credential (or, after a token refresh, for the fresh one).
        case preparing
        /// Waiting for a connection (from the pool or a new one).
        case connecting
        /// The request went out at `sentAt` on a connection that was `reused` from the pool.
        case waitingHead(sentAt: UInt64, reused: Bool)
        /// Reading the response body; `retryCandidate`: it is read whole and may be followed by a retry.
        case body(BodyMode, lastReadAt: UInt64, paused: Bool, retryCandidate: Bool)
        /// A retry waits for its timer.
        case waitingRetry(until: UInt64)
        case done(status: Int)
    }

    enum Event: Equatable {
        case credential(ok: Bool)
        case connected(reused: Bool)
        case connectFailed(tls: Bool)
        /// A response head; `shouldRetry` is its `x-should-retry` (read only for an error status).
        case head(status: Int, isStream: Bool, shouldRetry: String?)
        case bytesRead
        /// The response ended; `retryAfter`/`shouldRetry` are read only when it is a retry candidate.
        case ended(reusable: Bool, retryAfter: String?, shouldRetry: String?)
        /// A 400 the translator learned from: the request can be sent again without the refused part.
        case rejectionLearned(reusable: Bool)
        /// The upstream closed; `beforeAnyByte`: no response byte came and no request body byte went.
        case closed(beforeAnyByte: Bool)
        case clientBackedUp
        case clientWritable
        case clientGone
        /// The client's stream started outside a response head (keep-alive pings).
        case streamStarted
        case deadline
        case retryTimerFired
        /// The shell answered the client (or gave up on it) with this status.
        case finished(status: Int)
    }

    /// Why the exchange answers with an error of its own.
    enum Fault: Equatable {
        case connect
        case credential
        case closedBeforeHead
        case midResponse
        case firstByteTimeout(ms: UInt64)
        case idleTimeout(ms: UInt64)
        /// An event the state does not expect (a bug): 502.
        case illegal
    }

    enum RetryKind: Equatable { case connect, closedBeforeHead, status }

    enum Action: Equatable {
        /// Get the target's credential (`rejected`: the last one was refused: refresh it), then `credential`.
        case fetchCredential(rejected: Bool)
        /// Get a connection (`pooled`: from the pool first; false: a new one, after a stale one), then
        /// `connected` or `connectFailed`.
        case connect(pooled: Bool)
        /// Translate the request again (the translator learned from a rejection) and connect.
        case resend
        /// Switch to fallback target `target`, translate the request for it, then `fetchCredential`.
        case fallBack(target: Int)
        case sendRequest
        /// First-byte or idle deadline in ms (0: none).
        case armDeadline(UInt64)
        case startRetryTimer(ms: UInt64, kind: RetryKind)
        case release(reusable: Bool)
        case pauseUpstream
        case resumeUpstream
        /// Start the client's stream with the response head (the body mode says which kind).
        case startStream
        /// Answer with what the upstream said (the collected response, or the stream's end).
        case respond
        case answer(Fault)
        /// The client is gone: end without answering.
        case abandon
    }

    /// At most two actions, run in order.
    struct Actions: Equatable {
        var first: Action?
        var second: Action?
        init(_ first: Action? = nil, _ second: Action? = nil) {
            self.first = first
            self.second = second
        }
        static var none: Actions { Actions() }
    }

    /// The deadlines of the target in use (change with a fallback); its retry policy and credential
    /// come from the environment when a failure asks.
    struct Target: Equatable {
        var firstByteMs: UInt64
        var idleMs: UInt64
    }

    private(set) var state = State.preparing
    private(set) var attempt = Attempt()
    /// The client's response started as a stream (a response head or keep-alive pings).
    private(set) var clientStreamStarted = false
    /// Why the retry step answered instead (for the log), when it says.
    private(set) var gaveUpWhy: String?
    /// The status of the last response head.
    private(set) var responseStatus = 0
    var env: Env
    var target: Target
    let fallbacks: Int
    /// A pass-through request body streamed to the upstream is not kept: it cannot be sent again.
    let bodyStreamed: Bool
    /// A pass-through route (no translator): its responses stream raw.
    let passthrough: Bool
    let startedAt: UInt64
    /// Debug builds stop at an illegal transition; tests turn this off to check the release behaviour
    /// (and the log line off, to keep their output quiet).
    var assertsOnIllegal = true
    var logsIllegal = true

    /// How soon after the request a close before the response head counts as quick (retryable).
    static var quickCloseMs: UInt64 { 2_000 }

    init(env: Env, target: Target, fallbacks: Int, bodyStreamed: Bool, passthrough: Bool, startedAt: UInt64, targetIndex: Int = 0) {
        self.env = env
        self.target = target
        self.fallbacks = fallbacks
        self.bodyStreamed = bodyStreamed
        self.passthrough = passthrough
        self.startedAt = startedAt
        attempt.targetIndex = targetIndex
    }

    /// Starts at fallback `index` instead of the route (the route's own circuit is open).
    mutating func begin(atTarget index: Int) {
        attempt.targetIndex = index
    }

    // MARK: Reading the state

    var isDone: Bool { if case .done = state { return true } else { return false } }
    /// The request is on a connection (its head sent): body bytes may follow it.
    var isSending: Bool {
        switch state {
        case .waitingHead, .body: return true
        default: return false
        }
    }
    /// The body mode while the body is read, else nil.
    var mode: BodyMode? { if case .body(let m, _, _, _) = state { return m } else { return nil } }
    var isPaused: Bool { if case .body(_, _, true, _) = state { return true } else { return false } }
    var retryCandidate: Bool { if case .body(_, _, _, true) = state { return true } else { return false } }
    /// Keep-alive pings may go out: nothing of the response reached the client.
    var mayPing: Bool {
        switch state {
        case .done: return false
        case .body(let m, _, _, _): return m == .collect
        default: return true
        }
    }
    /// A 400 may still lead to a retry without the part the upstream refused.
    var mayLearnFromRejection: Bool { !attempt.retried.rejection && mode == .collect }

    // MARK: Events

    /// The first action of an exchange.
    func start() -> Action { .fetchCredential(rejected: false) }

    /// The one entry for events: dispatches on the event (inlined, so that the shell's call with a
    /// known event goes straight to its handler), each handler on the state.
    @inline(__always)
    mutating func handle(_ event: Event) -> Actions {
        switch event {
        case .credential(let ok): return credential(ok: ok)
        case .connected(let reused): return connected(reused: reused)
        case .connectFailed(let tls): return connectFailed(tls: tls)
        case .head(let status, let isStream, let shouldRetry): return head(status: status, isStream: isStream, shouldRetry: shouldRetry)
        case .bytesRead: return bytesRead()
        case .ended(let reusable, let retryAfter, let shouldRetry): return ended(reusable: reusable, retryAfter: retryAfter, shouldRetry: shouldRetry)
        case .rejectionLearned(let reusable): return rejectionLearned(reusable: reusable)
        case .closed(let beforeAnyByte): return closed(beforeAnyByte: beforeAnyByte)
        case .clientBackedUp: return clientBackedUp()
        case .clientWritable: return clientWritable()
        case .clientGone: return isDone ? .none : Actions(.release(reusable: false), .abandon)
        case .streamStarted:
            clientStreamStarted = true
            return .none
        case .deadline: return deadline()
        case .retryTimerFired: return retryTimerFired()
        case .finished(let status):
            if !isDone { state = .done(status: status) }
            return .none
        }
    }

    private mutating func credential(ok: Bool) -> Actions {
        switch state {
        case .preparing:
            guard ok else { return Actions(.answer(.credential)) }
            state = .connecting
            return Actions(.connect(pooled: true))
        case .done: return .none
        default: return illegal(.credential(ok: ok))
        }
    }

    private mutating func connected(reused: Bool) -> Actions {
        switch state {
        case .connecting:
            state = .waitingHead(sentAt: env.now, reused: reused)
            return Actions(.sendRequest, .armDeadline(target.firstByteMs))
        case .done:
            // A connection that came after the end (the client left while it was being made).
            return Actions(.release(reusable: false))
        default: return illegal(.connected(reused: reused))
        }
    }

    private mutating func connectFailed(tls: Bool) -> Actions {
        switch state {
        case .connecting:
            // A refused or timed-out connect may work on a later try; a TLS failure will not.
            if !tls, let retry = reinitRequest(.connect) { return Actions(retry.0, retry.1) }
            return Actions(.answer(.connect))
        case .done: return .none
        default: return illegal(.connectFailed(tls: tls))
        }
    }

    private mutating func bytesRead() -> Actions {
        switch state {
        case .body(let m, _, let paused, let candidate):
            state = .body(m, lastReadAt: env.now, paused: paused, retryCandidate: candidate)
            return .none
        case .waitingHead, .done: return .none
        default: return illegal(.bytesRead)
        }
    }

    private mutating func closed(beforeAnyByte: Bool) -> Actions {
        switch state {
        case .waitingHead(let sentAt, let reused):
            if reused, beforeAnyByte, !attempt.retried.stale {
                // A stale pooled connection: nothing reached the client yet, so one retry on a fresh one is safe.
                attempt.retried.stale = true
                attempt.retries += 1
                state = .connecting
                return Actions(.release(reusable: false), .connect(pooled: false))
            }
            // A close soon after the request left is a connection that was going away (safe to try again);
            // one after the upstream had it for a while may have been worked on (and billed): answered.
            if env.now - sentAt <= Self.quickCloseMs, let retry = reinitRequest(.closedBeforeHead) {
                return Actions(retry.0, retry.1)
            }
            return Actions(.answer(.closedBeforeHead))
        case .body:
            return Actions(.answer(.midResponse))
        case .done: return .none
        default: return illegal(.closed(beforeAnyByte: beforeAnyByte))
        }
    }

    private mutating func rejectionLearned(reusable: Bool) -> Actions {
        guard case .body(.collect, _, _, _) = state, !attempt.retried.rejection else { return illegal(.rejectionLearned(reusable: reusable)) }
        attempt.retried.rejection = true
        attempt.retries += 1
        state = .connecting
        return Actions(.release(reusable: reusable), .resend)
    }

    private mutating func clientBackedUp() -> Actions {
        guard case .body(let m, let last, false, let candidate) = state, clientStreamStarted else { return .none }
        state = .body(m, lastReadAt: last, paused: true, retryCandidate: candidate)
        return Actions(.pauseUpstream)
    }

    private mutating func clientWritable() -> Actions {
        guard case .body(let m, let last, true, let candidate) = state else { return .none }
        state = .body(m, lastReadAt: last, paused: false, retryCandidate: candidate)
        return Actions(.resumeUpstream)
    }

    private mutating func deadline() -> Actions {
        switch state {
        case .waitingHead:
            let ms = target.firstByteMs
            return ms > 0 ? Actions(.answer(.firstByteTimeout(ms: ms))) : .none
        case .body(_, let lastReadAt, let paused, _):
            // Fires at most once per period; re-armed while bytes keep coming or the client is the slow side.
            let ms = target.idleMs
            guard ms > 0 else { return .none }
            if paused { return Actions(.armDeadline(ms)) }
            let idleFor = env.now - lastReadAt
            if idleFor < ms { return Actions(.armDeadline(ms - idleFor)) }
            return Actions(.answer(.idleTimeout(ms: ms)))
        default:
            return .none  // a deadline of a try that is over
        }
    }

    private mutating func retryTimerFired() -> Actions {
        switch state {
        case .waitingRetry:
            state = .connecting
            return Actions(.connect(pooled: true))
        case .done: return .none
        default: return illegal(.retryTimerFired)
        }
    }

    private mutating func head(status: Int, isStream: Bool, shouldRetry: String?) -> Actions {
        guard case .waitingHead = state else { return illegal(.head(status: status, isStream: isStream, shouldRetry: shouldRetry)) }
        responseStatus = status
        let success = (200..<300).contains(status)
        var m: BodyMode = passthrough ? .rawStream : success && isStream ? .translateStream : .collect
        if status == 401, !attempt.retried.auth, !clientStreamStarted, !bodyStreamed, env.credentialCanRefresh(target: attempt.targetIndex) {
            m = .collect  // read it to the end, then retry with a fresh token
        }
        var candidate = false
        if status >= 400, !bodyStreamed {
            let policy = env.policy(target: attempt.targetIndex)
            if attempt.number < policy.attempts || attempt.targetIndex < fallbacks,
               RetryPlanner(policy: policy).isRetryable(status: status, shouldRetry: shouldRetry) {
                candidate = true
                m = .collect  // read it whole, then retry or answer with it
            }
        }
        state = .body(m, lastReadAt: env.now, paused: false, retryCandidate: candidate)
        let arm = Action.armDeadline(target.idleMs)
        switch m {
        case .collect:
            return Actions(arm)
        case .translateStream:
            if clientStreamStarted { return Actions(arm) }
            clientStreamStarted = true
            return Actions(.startStream, arm)
        case .rawStream:
            clientStreamStarted = true
            return Actions(.startStream, arm)
        }
    }

    private mutating func ended(reusable: Bool, retryAfter: String?, shouldRetry: String?) -> Actions {
        guard case .body(let m, _, _, let candidate) = state else {
            return illegal(.ended(reusable: reusable, retryAfter: retryAfter, shouldRetry: shouldRetry))
        }
        let release = Action.release(reusable: reusable)
        guard m == .collect else { return Actions(release, .respond) }
        // A collected response sent nothing to the client yet (keep-alive pings at most): a retry is safe.
        if responseStatus == 401, !attempt.retried.auth, !clientStreamStarted, env.credentialCanRefresh(target: attempt.targetIndex) {
            attempt.retried.auth = true
            attempt.retries += 1
            state = .preparing
            return Actions(release, .fetchCredential(rejected: true))
        }
        if candidate, let retry = reinitRequest(.status(responseStatus, retryAfter: retryAfter, shouldRetry: shouldRetry)) {
            // The retry step's first action is a release without reuse: this one, with it, replaces it.
            return Actions(release, retry.1)
        }
        return Actions(release, .respond)
    }


    // MARK: The retry step

    /// Every failure that may be retried comes here (nginx's `reinit_request`): the next fallback
    /// target first, else the retry policy (`RetryPlanner`, with the environment's clock and jitter).
    /// nil: no retry, the caller answers. Only called while nothing of an upstream response reached
    /// the client (pings aside).
    mutating func reinitRequest(_ failure: RetryPlanner.Failure) -> (Action, Action)? {
        guard !bodyStreamed, !isDone else { return nil }
        if fallbacks > 0, let next = env.failed(target: attempt.targetIndex) {
            attempt.number += 1
            attempt.retries += 1
            attempt.targetIndex = next
            state = .preparing
            return (.release(reusable: false), .fallBack(target: next))
        }
        let now = env.now
        let decision = RetryPlanner(policy: env.policy(target: attempt.targetIndex)).decide(failure, attempt: attempt.number, startedAt: startedAt, now: now,
                                                                  wallNow: env.wallNow, jitter: env.jitter())
        guard case .retry(let wait) = decision else {
            if case .answer(let why?) = decision { gaveUpWhy = why }
            return nil
        }
        attempt.number += 1
        attempt.retries += 1
        state = .waitingRetry(until: now + wait)
        let kind: RetryKind
        switch failure {
        case .connect: kind = .connect
        case .closedBeforeHead: kind = .closedBeforeHead
        case .status: kind = .status
        }
        return (.release(reusable: false), .startRetryTimer(ms: wait, kind: kind))
    }

    @inline(never)
    private mutating func illegal(_ event: Event) -> Actions {
        let message = "exchange: event \(event) in state \(state)"
        if assertsOnIllegal { assertionFailure(message) }
        if logsIllegal { Log.error(message) }
        return Actions(.release(reusable: false), .answer(.illegal))
    }
}
