internal import CLibUV
import Glibc

/// A listening TCP socket (with `SO_REUSEPORT`, so each worker can own one) that hands accepted
/// streams to `onAccept`. Loop-confined.
package final class Listener {
    let loop: EventLoop
    private let handle: UnsafeMutablePointer<uv_tcp_t>
    private let onAccept: (TCPStream) -> Void
    private var closed = false

    package init(loop: EventLoop, host: String, port: Int, reusePort: Bool, backlog: Int32 = 4096,
         onAccept: @escaping (TCPStream) -> Void) throws(UVError) {
        self.loop = loop
        self.onAccept = onAccept
        handle = .allocate(capacity: 1)
        guard let address = SocketAddress(ip: host, port: port) else {
            handle.deallocate()
            throw UVError(Int32(UV_EINVAL.rawValue))
        }
        uv_tcp_init_ex(loop.handle, handle, UInt32(address.withSockAddr { $0.pointee.sa_family }))
        // Lifetime: balanced in listenerCloseCallback.
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
        do throws(UVError) {
            if reusePort {
                var fd: uv_os_fd_t = -1
                try uvCheck(uv_fileno(asHandle(handle), &fd))
                if CLibUV_set_reuseport(fd) != 0 { throw UVError(-errno) }
            }
            try uvCheck(address.withSockAddr { uv_tcp_bind(handle, $0, 0) })
            try uvCheck(uv_listen(asStream(handle), backlog, listenerConnectionCallback))
        } catch {
            close()
            throw error
        }
    }

    deinit { handle.deallocate() }

    /// The bound port (useful with port 0 in tests).
    package var port: Int {
        var storage = sockaddr_storage()
        var len = Int32(MemoryLayout<sockaddr_storage>.size)
        return withUnsafeMutablePointer(to: &storage) { p -> Int in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa -> Int in
                guard uv_tcp_getsockname(handle, sa, &len) == 0 else { return 0 }
                if sa.pointee.sa_family == sa_family_t(AF_INET6) {
                    return sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
                }
                return sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            }
        }
    }

    fileprivate func accept() {
        let stream = TCPStream(loop: loop)
        if !stream.accept(from: asStream(handle)) {
            stream.close()
            return
        }
        stream.setNoDelay()
        onAccept(stream)
    }

    package func close() {
        guard !closed else { return }
        closed = true
        uv_close(asHandle(handle), listenerCloseCallback)
    }
}

private func listenerConnectionCallback(_ s: UnsafeMutablePointer<uv_stream_t>?, _ status: Int32) {
    guard status == 0, let s, let data = s.pointee.data else { return }
    Unmanaged<Listener>.fromOpaque(data).takeUnretainedValue().accept()
}

private func listenerCloseCallback(_ h: UnsafeMutablePointer<uv_handle_t>?) {
    guard let h, let data = h.pointee.data else { return }
    // Lifetime: releases the retain taken in init.
    Unmanaged<Listener>.fromOpaque(data).release()
}
