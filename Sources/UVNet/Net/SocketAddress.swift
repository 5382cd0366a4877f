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
