import Foundation
import XCTest
@testable import UVProxy

/// Keep-alive reuse and the one retry after a stale pooled connection, against a scripted upstream.
final class UpstreamPoolTests: XCTestCase {
    private func proxy(upstreamPort: Int) throws -> ProxyServer {
        let yaml = """
        access_log: false
        upstreams:
          up: { url: "http://127.0.0.1:\(upstreamPort)" }
        routes:
          - { path: /openai/v1/chat/completions, upstream: up, ingress: openai-chat, egress: openai-chat,
              upstream_path: /v1/chat/completions }
        """
        let p = try startProxy(yaml)
        return p
    }

    private func post(_ c: RawHTTPClient) -> Int? {
        c.send(RawHTTPClient.post("/openai/v1/chat/completions", body: #"{"model":"m","messages":[]}"#))
        return c.readResponse()?.status
    }

    func testKeepAliveConnectionIsReused() throws {
        let upstream = try ScriptedUpstream { fd, _ in
            while ScriptedUpstream.readHead(fd) { ScriptedUpstream.write(fd, ScriptedUpstream.okResponse) }
        }
        defer { upstream.stop() }
        let p = try proxy(upstreamPort: upstream.port)
        defer { p.stop(); p.wait() }
        let c = try RawHTTPClient(port: p.port)
        for _ in 0..<5 { XCTAssertEqual(post(c), 200) }
        XCTAssertEqual(upstream.connections, 1)
    }

    func testStalePooledConnectionIsRetriedOnceOnAFreshOne() throws {
        // Connection 1 answers one request, then takes the next and closes without a byte (a server
        // that dropped its idle connection just as the request arrived). Later connections answer.
        let upstream = try ScriptedUpstream { fd, n in
            if n == 1 {
                if ScriptedUpstream.readHead(fd) { ScriptedUpstream.write(fd, ScriptedUpstream.okResponse) }
                _ = ScriptedUpstream.readHead(fd)
                return
            }
            while ScriptedUpstream.readHead(fd) { ScriptedUpstream.write(fd, ScriptedUpstream.okResponse) }
        }
        defer { upstream.stop() }
        let p = try proxy(upstreamPort: upstream.port)
        defer { p.stop(); p.wait() }
        let c = try RawHTTPClient(port: p.port)
        XCTAssertEqual(post(c), 200)
        XCTAssertEqual(post(c), 200)
        XCTAssertEqual(upstream.connections, 2)
    }

    func testFreshConnectionClosedBeforeResponseIsA502NotARetryLoop() throws {
        let upstream = try ScriptedUpstream { fd, _ in _ = ScriptedUpstream.readHead(fd) }
        defer { upstream.stop() }
        let p = try proxy(upstreamPort: upstream.port)
        defer { p.stop(); p.wait() }
        let c = try RawHTTPClient(port: p.port)
        XCTAssertEqual(post(c), 502)
        XCTAssertEqual(upstream.connections, RetryPolicy().attempts, "each try on a fresh connection, bounded by the retry policy")
    }
}
