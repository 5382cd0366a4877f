internal import CLibUV
import Glibc

/// Resolves host names with `uv_getaddrinfo` (libuv's thread pool) and caches answers briefly per loop.
package final class Resolver {
    /// An address and the loop time (ms) until which it may be used without asking again.
    package typealias Answer = (address: SocketAddress, expires: UInt64)

    private let loop: EventLoop
    private var cache: [String: Answer] = [:]
    private let ttlMs: UInt64 = 30_000
    /// Lookups started (tests).
    private(set) var lookups = 0

    package init(loop: EventLoop) { self.loop = loop }

    package func resolve(host: String, port: Int, _ done: @escaping (Result<Answer, UVError>) -> Void) {
        if let literal = SocketAddress(ip: host, port: port) {
            done(.success((literal, .max)))
            return
        }
        let key = "\(host):\(port)"
        if let hit = cache[key], hit.expires > loop.now {
            done(.success(hit))
            return
        }
        let request = ResolveRequest(done: { [weak self] result in
            guard let self else { return done(result.map { ($0, 0) }) }
            switch result {
            case .success(let a):
                let answer = (a, self.loop.now + self.ttlMs)
                self.cache[key] = answer
                done(.success(answer))
            case .failure(let e):
                done(.failure(e))
            }
        }, port: port)
        lookups += 1
        request.start(loop: loop, host: host)
    }

    /// Drops a cached answer (a connection to it failed: the next one asks again).
    package func forget(host: String, port: Int) {
        cache["\(host):\(port)"] = nil
    }
}

private final class ResolveRequest {
    let req = UnsafeMutablePointer<uv_getaddrinfo_t>.allocate(capacity: 1)
    let done: (Result<SocketAddress, UVError>) -> Void
    let port: Int

    init(done: @escaping (Result<SocketAddress, UVError>) -> Void, port: Int) {
        self.done = done
        self.port = port
    }

    deinit { req.deallocate() }

    func start(loop: EventLoop, host: String) {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        // Lifetime: balanced in resolveCallback.
        req.pointee.data = Unmanaged.passRetained(self).toOpaque()
        let rc = uv_getaddrinfo(loop.handle, req, resolveCallback, host, nil, &hints)
        if rc < 0 {
            Unmanaged<ResolveRequest>.fromOpaque(req.pointee.data).release()
            done(.failure(UVError(rc)))
        }
    }

    fileprivate func finish(status: Int32, res: UnsafeMutablePointer<addrinfo>?) {
        defer { if let res { uv_freeaddrinfo(res) } }
        guard status == 0, let res, let addr = res.pointee.ai_addr else {
            done(.failure(UVError(status == 0 ? Int32(UV_EAI_NONAME.rawValue) : status)))
            return
        }
        // Prefer IPv4 when both exist: loopback gateways and most corporate gateways answer there.
        var pick = addr
        var p: UnsafeMutablePointer<addrinfo>? = res
        while let node = p {
            if node.pointee.ai_family == AF_INET, let a = node.pointee.ai_addr { pick = a; break }
            p = node.pointee.ai_next
        }
        done(.success(SocketAddress(copying: pick, port: port)))
    }
}

private func resolveCallback(_ req: UnsafeMutablePointer<uv_getaddrinfo_t>?, _ status: Int32, _ res: UnsafeMutablePointer<addrinfo>?) {
    guard let req, let data = req.pointee.data else { return }
    // Lifetime: releases the retain taken in start().
    Unmanaged<ResolveRequest>.fromOpaque(data).takeRetainedValue().finish(status: status, res: res)
}
