import UVNet
import HTTP1

/// One loop's listener and its client connections: accepts, enforces the connection limit, and
/// drains connections for a graceful stop. Used by both the proxy and the mock upstream.
package final class HTTPServer {
    let loop: EventLoop
    private(set) var listener: Listener?
    private var connections: [ObjectIdentifier: HTTPServerConnection] = [:]
    private let settings: ServerSettings
    private let handler: any HTTPRequestHandler
    private let maxConnections: Int
    private let tlsContext: TLSContext?
    private var draining = false
    private var onDrained: (() -> Void)?

    package init(loop: EventLoop, host: String, port: Int, reusePort: Bool, settings: ServerSettings,
         maxConnections: Int, handler: any HTTPRequestHandler, tls: TLSContext? = nil) throws(UVError) {
        self.loop = loop
        self.settings = settings
        self.handler = handler
        self.maxConnections = maxConnections
        self.tlsContext = tls
        listener = try Listener(loop: loop, host: host, port: port, reusePort: reusePort) { [unowned self] stream in
            self.accept(stream)
        }
    }

    package var port: Int { listener?.port ?? 0 }
    var connectionCount: Int { connections.count }

    private func accept(_ stream: TCPStream) {
        if draining {
            stream.close()
            return
        }
        if connections.count >= maxConnections {
            // Answer rather than leave the client hanging in the accept queue.
            let (contentType, body) = handler.errorResponse(status: 503, message: "too many connections (limit \(maxConnections))", target: nil)
            var out = [UInt8]()
            HTTPWriter.appendStatusLine(503, into: &out)
            HTTPWriter.appendHeader("Content-Type", contentType, into: &out)
            HTTPWriter.appendHeader("Content-Length", String(body.count), into: &out)
            HTTPWriter.appendHeader("Retry-After", "1", into: &out)
            out.append(contentsOf: "Connection: close\r\n\r\n".utf8)
            out.append(contentsOf: body)
            stream.write(out)
            stream.closeAfterFlush()
            return
        }
        if let tlsContext {
            do throws(TLSError) {
                stream.acceptTLS(try TLSSession(context: tlsContext, serverName: nil))
            } catch {
                stream.close()
                return
            }
        }
        let connection = HTTPServerConnection(stream: stream, settings: settings, handler: handler)
        let id = ObjectIdentifier(connection)
        connections[id] = connection
        connection.onClose = { [unowned self] in
            self.connections[id] = nil
            if self.draining, self.connections.isEmpty { self.finishDrain() }
        }
    }

    /// Stops accepting; lets in-flight requests finish; calls `done` when every connection closed.
    package func drain(_ done: @escaping () -> Void) {
        draining = true
        onDrained = done
        listener?.close()
        listener = nil
        for c in connections.values { c.draining = true }
        if connections.isEmpty { finishDrain() }
    }

    /// Closes every connection now (the drain deadline passed).
    package func closeAll() {
        for c in Array(connections.values) { c.close(byServer: true) }
    }

    private func finishDrain() {
        let d = onDrained
        onDrained = nil
        d?()
    }
}
