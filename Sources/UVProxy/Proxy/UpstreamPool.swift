import UVNet
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
    /// The upstream's address: an IP literal is parsed once here; a host name's answer is kept until
    /// the resolver's own expiry (or a failed connection), so a new connection costs no lookup.
    private var address: SocketAddress?
    private var addressExpires: UInt64 = 0
    private var trimTimer: Timer?
    private var trimArmed = false
    /// The worker's metrics: connections opened and failed (per connection, never per request).
    var metrics: WorkerMetrics?
    /// Connections open now, parked or in use (`idleCount` of them parked).
    private(set) var openCount = 0

    init(loop: EventLoop, upstream: UpstreamConfig, resolver: Resolver, tlsContext: TLSContext?) {
        self.loop = loop
        self.upstream = upstream
        self.resolver = resolver
        self.tlsContext = tlsContext
        maxIdle = upstream.maxIdleConnections
        surplusTimeoutMs = UInt64(max(upstream.surplusIdleTimeoutMs, 0))
        if let literal = SocketAddress(ip: upstream.url.host, port: upstream.url.port) {
            address = literal
            addressExpires = .max
        }
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
            c.isParked = false
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
        if let address, addressExpires > loop.now {
            connect(to: address, for: user, timeouts: timeouts)
            return
        }
        let url = upstream.url
        resolver.resolve(host: url.host, port: url.port) { [self] result in
            switch result {
            case .failure(let error):
                metrics?.upstreamConnectionFailed(upstream.name)
                let stream = TCPStream(loop: loop)
                let connection = UpstreamConnection(stream: stream, pool: self)
                user.upstreamConnected(connection, error: .uv(error))
                stream.close()
            case .success(let answer):
                address = answer.address
                addressExpires = answer.expires
                connect(to: answer.address, for: user, timeouts: timeouts)
            }
        }
    }

    private func connect(to address: SocketAddress, for user: any UpstreamConnectionUser, timeouts: UpstreamTimeouts) {
        let stream = TCPStream(loop: loop)
        let connection = UpstreamConnection(stream: stream, pool: self)
        connection.user = user
        var session: TLSSession?
        let url = upstream.url
        if url.isTLS, let ctx = tlsContext {
            do throws(TLSError) {
                session = try TLSSession(context: ctx, serverName: url.host)
            } catch {
                metrics?.upstreamConnectionFailed(upstream.name)
                user.upstreamConnected(connection, error: .tls(error))
                stream.close()
                return
            }
        }
        stream.connect(to: address, tls: session, timeoutMs: UInt64(timeouts.connect),
                       tlsTimeoutMs: UInt64(timeouts.tlsHandshake))
    }

    /// A new connection failed (connect, TLS or a timeout): a host name is looked up again next time,
    /// in case its address changed.
    func connectFailed() {
        metrics?.upstreamConnectionFailed(upstream.name)
        guard addressExpires != .max else { return }
        address = nil
        resolver.forget(host: upstream.url.host, port: upstream.url.port)
    }

    /// A new connection is ready (TLS included): it counts as open until it closes.
    func connectionOpened(_ connection: UpstreamConnection) {
        connection.isCounted = true
        openCount += 1
        metrics?.upstreamConnectionOpened(upstream.name)
    }

    /// A connection counted by `connectionOpened` closed.
    func connectionClosed() { openCount -= 1 }

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
        // Reading may have found the server's close (or bytes) at once: then it closed itself.
        guard !connection.isClosed else { return }
        assert(!connection.isParked, "a connection was parked twice")
        connection.isParked = true
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
    /// surplus timeout; re-arms while a surplus remains. One pass, however many are due.
    private func trimSurplus() {
        trimArmed = false
        let now = loop.now
        var due = 0
        while idle.count - due > maxIdle, now - idle[due].parkedAt >= surplusTimeoutMs { due += 1 }
        if due > 0 {
            let closing = idle[..<due]
            idle.removeFirst(due)
            for c in closing {
                c.isParked = false
                c.close()
            }
        }
        if idle.count > maxIdle { scheduleTrim() }
    }

    /// Takes a connection that is closing out of the idle list (a no-op for one in use).
    func forget(_ connection: UpstreamConnection) {
        guard connection.isParked else { return }
        connection.isParked = false
        if let i = idle.lastIndex(where: { $0 === connection }) { idle.remove(at: i) }
    }

    func closeAll() {
        let all = idle
        idle.removeAll()
        for c in all {
            c.isParked = false
            c.close()
        }
    }
}
