import Foundation
import XCTest
@testable import UVProxy

/// A burst of N concurrent requests leaves N connections coming back to a pool that keeps
/// `max_idle_connections` (here 1). Those beyond it stay open for `surplus_idle_timeout`, so the next
/// burst reuses them, and are closed (oldest first) once unused that long; with 0 they close at once.
final class SurplusIdleTests: XCTestCase {
    /// An upstream that answers each request after 150 ms (so a burst's requests overlap) and counts
    /// the connections the proxy closed.
    private final class Upstream: @unchecked Sendable {
        private let lock = NSLock()
        private var closed = 0
        var server: ScriptedUpstream!
        var closedCount: Int { lock.lock(); defer { lock.unlock() }; return closed }

        init() throws {
            server = try ScriptedUpstream { [self] fd, _ in
                while ScriptedUpstream.readHead(fd) {
                    usleep(150_000)
                    ScriptedUpstream.write(fd, ScriptedUpstream.okResponse)
                }
                lock.lock(); closed += 1; lock.unlock()
            }
        }
    }

    private func proxy(_ up: Upstream, surplus: String) throws -> ProxyServer {
        try startProxy("""
        access_log: false
        upstreams:
          up: { url: "http://127.0.0.1:\(up.server.port)", max_idle_connections: 1, surplus_idle_timeout: \(surplus) }
        routes:
          - { path: /v1/chat/completions, upstream: up, ingress: openai-chat, egress: openai-chat, upstream_path: /c }
        """)
    }

    /// `n` requests at once, each on its own client connection; returns their statuses.
    private final class Statuses: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [Int] = []
        func add(_ s: Int) { lock.lock(); list.append(s); lock.unlock() }
        var all: [Int] { lock.lock(); defer { lock.unlock() }; return list }
    }

    private func burst(_ port: Int, _ n: Int) -> [Int] {
        // One thread per request (a dispatch pool would run only as many at once as there are cores).
        let statuses = Statuses()
        let done = DispatchGroup()
        for _ in 0..<n {
            done.enter()
            Thread.detachNewThread {
                var status = 0
                if let c = try? RawHTTPClient(port: port) {
                    c.send(RawHTTPClient.post("/v1/chat/completions", body: #"{"model":"m","messages":[]}"#))
                    status = c.readResponse()?.status ?? 0
                }
                statuses.add(status)
                done.leave()
            }
        }
        done.wait()
        return statuses.all
    }

    private func waitFor(_ what: () -> Bool, seconds: Double) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if what() { return true }
            usleep(20_000)
        }
        return what()
    }

    func testABurstReusesTheSurplusThenItCloses() throws {
        let up = try Upstream()
        defer { up.server.stop() }
        let p = try proxy(up, surplus: "800ms")
        defer { p.stop(); p.wait() }
        XCTAssertEqual(burst(p.port, 6), Array(repeating: 200, count: 6))
        XCTAssertEqual(up.server.connections, 6)
        XCTAssertEqual(burst(p.port, 6), Array(repeating: 200, count: 6))
        XCTAssertEqual(up.server.connections, 6, "the second burst reuses the first one's connections")
        XCTAssertEqual(up.closedCount, 0)
        // Unused for 800 ms: all but max_idle_connections (1) close.
        XCTAssertTrue(waitFor({ up.closedCount == 5 }, seconds: 3), "closed \(up.closedCount)")
        usleep(300_000)
        XCTAssertEqual(up.closedCount, 5, "max_idle_connections stay")
        XCTAssertEqual(burst(p.port, 1), [200])
        XCTAssertEqual(up.server.connections, 6, "the kept one is reused")
    }

    func testZeroClosesTheSurplusAtOnce() throws {
        let up = try Upstream()
        defer { up.server.stop() }
        let p = try proxy(up, surplus: "0")
        defer { p.stop(); p.wait() }
        XCTAssertEqual(burst(p.port, 6), Array(repeating: 200, count: 6))
        XCTAssertTrue(waitFor({ up.closedCount == 5 }, seconds: 2), "closed \(up.closedCount)")
        XCTAssertEqual(burst(p.port, 6), Array(repeating: 200, count: 6))
        XCTAssertGreaterThanOrEqual(up.server.connections, 11, "five new connections for the second burst")
    }

    func testConfig() throws {
        func load(_ v: String) throws -> UpstreamConfig {
            let config = try ConfigLoader.parse(yaml: """
            upstreams:
              up: { url: "http://127.0.0.1:9"\(v) }
            routes:
              - { path: /c, upstream: up, ingress: openai-chat, upstream_path: /c }
            """, environment: [:])
            return try XCTUnwrap(config.upstreams["up"])
        }
        XCTAssertEqual(try load("").surplusIdleTimeoutMs, 2_000)
        XCTAssertEqual(try load(", surplus_idle_timeout: 250ms").surplusIdleTimeoutMs, 250)
        XCTAssertEqual(try load(", surplus_idle_timeout: 0").surplusIdleTimeoutMs, 0)
        XCTAssertEqual(try load(", surplus_idle_timeout: 60s").surplusIdleTimeoutMs, 60_000)
        XCTAssertThrowsError(try load(", surplus_idle_timeout: 61s"))
        XCTAssertThrowsError(try load(", surplus_idle_timeout: 2h"))
        XCTAssertThrowsError(try load(", surplus_idle_timeout: soon"))
    }
}
