import Glibc
import XCTest
@testable import UVProxy
@testable import UVNet

/// The pool keeps its upstream's address: parsed once for an IP literal, looked up once per expiry for
/// a host name, and looked up again after a connection to it failed (the address may have moved).
/// Real loop, real `getaddrinfo` for `localhost`, real sockets.
final class UpstreamAddressCacheTests: XCTestCase {
    /// Records what the pool reports and closes what it is given.
    private final class User: UpstreamConnectionUser {
        var results: [Bool] = []  // true: connected
        func upstreamConnected(_ connection: UpstreamConnection, error: StreamError?) {
            results.append(error == nil)
            connection.close()
        }
        func upstreamRead(_ connection: UpstreamConnection, _ bytes: UnsafeRawBufferPointer) {}
        func upstreamEnded(_ connection: UpstreamConnection, error: StreamError?) {}
    }

    /// A port with a listener on 127.0.0.1 (accepting in the kernel's backlog), and one with none.
    private func listeningSocket() -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                _ = bind(fd, $0, len)
                _ = getsockname(fd, $0, &len)
            }
        }
        listen(fd, 16)
        return (fd, Int(UInt16(bigEndian: addr.sin_port)))
    }

    private func pool(_ loop: EventLoop, _ resolver: Resolver, host: String, port: Int) -> UpstreamPool {
        let url = UpstreamURL(scheme: "http", host: host, port: port, basePath: "")
        return UpstreamPool(loop: loop, upstream: UpstreamConfig(name: "up", url: url), resolver: resolver, tlsContext: nil)
    }

    /// Opens one connection and runs the loop until the pool reported it.
    private func open(_ loop: EventLoop, _ p: UpstreamPool, _ user: User) {
        let before = user.results.count
        p.open(for: user, timeouts: UpstreamTimeouts())
        // The lookup runs on libuv's thread pool: poll the loop for up to 5 s.
        for _ in 0..<5_000 where user.results.count == before {
            loop.runOnce()
            usleep(1_000)
        }
        loop.runOnce()
    }

    func testAHostNameIsLookedUpOnceThenAgainAfterAFailedConnection() {
        let loop = EventLoop()
        loop.unrefWakeup()
        let resolver = Resolver(loop: loop)
        let (fd, port) = listeningSocket()
        defer { close(fd) }
        let user = User()
        let p = pool(loop, resolver, host: "localhost", port: port)
        open(loop, p, user)
        open(loop, p, user)
        XCTAssertEqual(user.results, [true, true])
        XCTAssertEqual(resolver.lookups, 1, "the second connection used the kept address")

        // Nothing listens any more: the connection fails, and the next one asks again.
        close(fd)
        open(loop, p, user)
        XCTAssertEqual(user.results.last, false)
        XCTAssertEqual(resolver.lookups, 1, "the failing connection used the kept address")
        open(loop, p, user)
        XCTAssertEqual(user.results.last, false)
        XCTAssertEqual(resolver.lookups, 2, "a failed connection drops the kept address")
        open(loop, p, user)
        XCTAssertEqual(resolver.lookups, 3, "and the resolver's own cached answer")
    }

    func testAnIPLiteralIsNeverLookedUp() {
        let loop = EventLoop()
        loop.unrefWakeup()
        let resolver = Resolver(loop: loop)
        let (fd, port) = listeningSocket()
        let user = User()
        let p = pool(loop, resolver, host: "127.0.0.1", port: port)
        open(loop, p, user)
        close(fd)
        open(loop, p, user)
        open(loop, p, user)
        XCTAssertEqual(user.results, [true, false, false])
        XCTAssertEqual(resolver.lookups, 0)
    }
}
