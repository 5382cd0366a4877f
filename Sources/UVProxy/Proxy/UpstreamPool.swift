/// Idle keep-alive connections to one upstream, for one worker's loop. A connection comes back only
/// after its response was read to the end; a parked connection that the server closes is dropped.
final class UpstreamPool {
    let loop: EventLoop
    let upstream: UpstreamConfig
    let resolver: Resolver
    let tlsContext: TLSContext?
    private var idle: [UpstreamConnection] = []
    private let maxIdle: Int
    /// Parked connections older than this are closed instead of reused (servers drop idle ones).
    private let idleExpiryMs: UInt64 = 60_000

    init(loop: EventLoop, upstream: UpstreamConfig, resolver: Resolver, tlsContext: TLSContext?) {
        self.loop = loop
        self.upstream = upstream
        self.resolver = resolver
        self.tlsContext = tlsContext
        maxIdle = upstream.maxIdleConnections
    }

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
        guard !connection.isClosed, !retired, idle.count < maxIdle else {
            connection.close()
            return
        }
        connection.requestsServed += 1
        connection.parkedAt = loop.now
        connection.stream.tls?.releaseIdleBuffers()
        // Keep reading so that a server-side close (or stray bytes) is noticed while parked.
        connection.stream.startReading()
        idle.append(connection)
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
