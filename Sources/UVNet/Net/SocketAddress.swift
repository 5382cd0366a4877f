internal import CLibUV
import Glibc

/// An IPv4 or IPv6 socket address.
package struct SocketAddress: Sendable, CustomStringConvertible {
    private var storage = sockaddr_storage()

    package init?(ip: String, port: Int) {
        var s = sockaddr_storage()
        let ok = withUnsafeMutableBytes(of: &s) { raw -> Bool in
            if uv_ip4_addr(ip, Int32(port), raw.baseAddress!.assumingMemoryBound(to: sockaddr_in.self)) == 0 { return true }
            return uv_ip6_addr(ip, Int32(port), raw.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self)) == 0
        }
        guard ok else { return nil }
        storage = s
    }

    init(copying addr: UnsafePointer<sockaddr>, port: Int) {
        withUnsafeMutableBytes(of: &storage) { raw in
            let len = addr.pointee.sa_family == sa_family_t(AF_INET6)
                ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size
            raw.baseAddress!.copyMemory(from: addr, byteCount: len)
            let portBE = UInt16(port).bigEndian
            if addr.pointee.sa_family == sa_family_t(AF_INET6) {
                raw.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self).pointee.sin6_port = portBE
            } else {
                raw.baseAddress!.assumingMemoryBound(to: sockaddr_in.self).pointee.sin_port = portBE
            }
        }
    }

    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>) -> R) -> R {
        withUnsafeBytes(of: storage) { body($0.baseAddress!.assumingMemoryBound(to: sockaddr.self)) }
    }

    package var description: String {
        withSockAddr { sa -> String in
            var name = [CChar](repeating: 0, count: 64)
            if sa.pointee.sa_family == sa_family_t(AF_INET6) {
                sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { _ = uv_ip6_name($0, &name, 64) }
            } else {
                sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { _ = uv_ip4_name($0, &name, 64) }
            }
            return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// True for an IP literal (used to decide SNI and IP-vs-hostname verification).
    static func isIPLiteral(_ host: String) -> Bool { SocketAddress(ip: host, port: 0) != nil }
}

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
