/// Idle keep-alive connections to one upstream, for one worker's loop. A connection comes back only
/// after its response was read to the end; a parked connection that the server closes is dropped.
final class UpstreamPool {
    let loop: EventLoop
    let upstream: UpstreamConfig
    let resolver: Resolver
    let tlsContext: TLSContext?
    /// Oldest first; `take` reuses the newest, so a surplus left by a burst ages at the front.
    private var idle: [UpstreamConnection] = []
    private let maxIdle: Int
    /// Parked connections older than this are closed instead of reused (servers drop idle ones).
    private let idleExpiryMs: UInt64 = 60_000
    /// Idle connections beyond `maxIdle` are closed once unused this long (`surplus_idle_timeout`).
    private let surplusTimeoutMs: UInt64
    private var trimTimer: Timer?
    private var trimArmed = false

    init(loop: EventLoop, upstream: UpstreamConfig, resolver: Resolver, tlsContext: TLSContext?) {
        self.loop = loop
        self.upstream = upstream
        self.resolver = resolver
        self.tlsContext = tlsContext
        maxIdle = upstream.maxIdleConnections
        surplusTimeoutMs = UInt64(max(upstream.surplusIdleTimeoutMs, 0))
    }

    deinit { trimTimer?.close() }

    var idleCount: Int { idle.count }
    private var retired = false

    /// After a reload: close idle connections and accept no more.
    func retire() {
        retired = true
        closeAll()
    }

    /// An idle connection, or nil when a new one must be opened.
    func take() -> UpstreamConnection? {
        while let c = idle.popLast() {
            if c.isClosed { continue }
            if loop.now - c.parkedAt > idleExpiryMs {
                c.close()
                continue
            }
            return c
        }
        return nil
    }

    /// Opens a new connection; `user` hears `upstreamConnected` when it is ready (TLS included).
    func open(for user: any UpstreamConnectionUser, timeouts: UpstreamTimeouts) {
        let url = upstream.url
        resolver.resolve(host: url.host, port: url.port) { [self] result in
            let stream = TCPStream(loop: loop)
            let connection = UpstreamConnection(stream: stream, pool: self)
            connection.user = user
            switch result {
            case .failure(let error):
                user.upstreamConnected(connection, error: .uv(error))
                stream.close()
            case .success(let address):
                var session: TLSSession?
                if url.isTLS, let ctx = tlsContext {
                    do throws(TLSError) {
                        session = try TLSSession(context: ctx, serverName: url.host)
                    } catch {
                        user.upstreamConnected(connection, error: .tls(error))
                        stream.close()
                        return
                    }
                }
                stream.connect(to: address, tls: session, timeoutMs: UInt64(timeouts.connect),
                               tlsTimeoutMs: UInt64(timeouts.tlsHandshake))
            }
        }
    }

    /// Parks a connection whose response was read completely.
    func park(_ connection: UpstreamConnection) {
        connection.user = nil
        let surplus = idle.count >= maxIdle
        guard !connection.isClosed, !retired, maxIdle > 0, !surplus || surplusTimeoutMs > 0 else {
            connection.close()
            return
        }
        connection.requestsServed += 1
        connection.parkedAt = loop.now
        connection.stream.tls?.releaseIdleBuffers()
        // Keep reading so that a server-side close (or stray bytes) is noticed while parked.
        connection.stream.startReading()
        idle.append(connection)
        if surplus { scheduleTrim() }
    }

    /// Arms the trim for when the oldest idle connection's surplus time runs out.
    private func scheduleTrim() {
        guard !trimArmed, let oldest = idle.first else { return }
        trimArmed = true
        let timer: Timer
        if let trimTimer {
            timer = trimTimer
        } else {
            timer = Timer(loop: loop)
            timer.setAction { [weak self] in self?.trimSurplus() }
            trimTimer = timer
        }
        let due = oldest.parkedAt + surplusTimeoutMs
        timer.restart(after: due > loop.now ? due - loop.now : 0)
    }

    /// Closes the oldest idle connections, while more than `maxIdle` are idle, once unused for the
    /// surplus timeout; re-arms while a surplus remains.
    private func trimSurplus() {
        trimArmed = false
        let now = loop.now
        while idle.count > maxIdle, let oldest = idle.first, now - oldest.parkedAt >= surplusTimeoutMs {
            idle.removeFirst()
            oldest.close()
        }
        if idle.count > maxIdle { scheduleTrim() }
    }

    func forget(_ connection: UpstreamConnection) {
        if let i = idle.firstIndex(where: { $0 === connection }) { idle.remove(at: i) }
    }

    func closeAll() {
        let all = idle
        idle.removeAll()
        for c in all { c.close() }
    }
}
