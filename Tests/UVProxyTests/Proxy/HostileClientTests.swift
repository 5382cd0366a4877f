import Foundation
import Glibc
import XCTest
@testable import UVProxy

/// Slow, silent, churning and over-limit clients, and the remaining upstream timeouts.
final class HostileClientTests: XCTestCase {
    private func stack(limits: String = "", timeouts: String = "", scheme: String = "") throws -> TestStack {
        try TestStack(yaml: """
        access_log: false
        limits: { head_timeout: 300ms, body_timeout: 300ms, keep_alive_timeout: 300ms \(limits) }
        upstreams:
          mock:
            url: MOCK_URL
            \(timeouts)
        routes:
          - { path: /openai/v1/chat/completions, upstream: mock, ingress: openai-chat, egress: openai-chat,
              upstream_path: /v1/openai/v1/chat/completions }
        """)
    }

    func testSlowlorisHeadIsCutWith408() throws {
        let s = try stack()
        defer { s.stop() }
        let c = try s.client()
        c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n")
        let started = Date()
        let r = try XCTUnwrap(c.readResponse())
        XCTAssertEqual(r.status, 408)
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
        XCTAssertTrue(c.readEOF())
    }

    func testSlowBodyIsCutWith408() throws {
        let s = try stack()
        defer { s.stop() }
        let c = try s.client()
        c.send("POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"model\"")
        let r = try XCTUnwrap(c.readResponse())
        XCTAssertEqual(r.status, 408)
        XCTAssertNotNil(r.json?["error"])
    }

    func testIdleKeepAliveConnectionIsClosedQuietly() throws {
        let s = try stack()
        defer { s.stop() }
        let c = try s.client()
        c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(c.readResponse()?.status, 200)
        let started = Date()
        XCTAssertTrue(c.readEOF())
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
    }

    func testTenThousandConnectionsOpenedAndDropped() throws {
        let s = try stack()
        defer { s.stop() }
        var refused = 0
        for i in 0..<10_000 {
            guard let c = try? s.client() else {
                refused += 1
                continue
            }
            if i % 3 == 0 { c.send("GET /heal") }  // some leave half a request behind
        }
        XCTAssertEqual(refused, 0)
        let c = try s.client()
        c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(c.readResponse()?.status, 200)
    }

    func testNULAndBareLFInHeadersAreRejected() throws {
        let s = try stack()
        defer { s.stop() }
        for v in ["GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\u{0}b\r\n\r\n", "GET /healthz HTTP/1.1\nHost: x\n\n"] {
            let c = try s.client()
            c.send(v)
            XCTAssertEqual(c.readResponse()?.status, 400)
            XCTAssertTrue(c.readEOF())
        }
    }

    func testTotalTimeoutIs504() throws {
        let s = try stack(timeouts: "timeouts: { total: 300ms }")
        defer { s.stop() }
        let c = try s.client()
        c.send(RawHTTPClient.post("/openai/v1/chat/completions", body: #"{"model":"gpt-5+wait=2000","messages":[]}"#))
        let r = try XCTUnwrap(c.readResponse())
        XCTAssertEqual(r.status, 504)
        XCTAssertTrue(r.text.contains("total timeout"), r.text)
    }

    func testTLSHandshakeTimeoutIs504() throws {
        // Accepts and says nothing: the TLS handshake never completes.
        let silent = try ScriptedUpstream { fd, _ in
            var b: UInt8 = 0
            while read(fd, &b, 1) == 1 {}
        }
        defer { silent.stop() }
        let yaml = """
        access_log: false
        upstreams:
          up: { url: "https://127.0.0.1:\(silent.port)", timeouts: { tls_handshake: 300ms } }
        routes:
          - { path: /openai/v1/chat/completions, upstream: up, ingress: openai-chat, egress: openai-chat, upstream_path: /x }
        """
        let p = try startProxy(yaml)
        defer { p.stop(); p.wait() }
        let c = try RawHTTPClient(port: p.port)
        c.send(RawHTTPClient.post("/openai/v1/chat/completions", body: #"{"model":"m","messages":[]}"#))
        let r = try XCTUnwrap(c.readResponse())
        XCTAssertEqual(r.status, 504)
        XCTAssertTrue(r.text.contains("TLS handshake"), r.text)
    }
}

/// The connect timeout, on loopback: a listener that never accepts, whose accept queue is already
/// full, drops further SYNs, so a connect to it hangs until the proxy gives up.
final class ConnectTimeoutTests: XCTestCase {
    func testConnectTimeoutIs504() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        listen(fd, 0)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        let port = Int(UInt16(bigEndian: addr.sin_port))
        // Fill the accept queue (never accepted), so the next SYN is dropped.
        var fillers: [Int32] = []
        defer { fillers.forEach { close($0) } }
        for _ in 0..<4 {
            let f = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(f, $0, len) } }
            fillers.append(f)
        }
        usleep(50_000)
        let yaml = """
        access_log: false
        upstreams:
          up: { url: "http://127.0.0.1:\(port)", timeouts: { connect: 300ms } }
        routes:
          - { path: /openai/v1/chat/completions, upstream: up, ingress: openai-chat, egress: openai-chat, upstream_path: /x }
        """
        let p = try startProxy(yaml)
        defer { p.stop(); p.wait() }
        let c = try RawHTTPClient(port: p.port)
        let started = Date()
        c.send(RawHTTPClient.post("/openai/v1/chat/completions", body: #"{"model":"m","messages":[]}"#))
        let r = try XCTUnwrap(c.readResponse())
        XCTAssertEqual(r.status, 504, r.text)
        XCTAssertTrue(r.text.contains("connect"), r.text)
        XCTAssertLessThan(Date().timeIntervalSince(started), 3)
    }
}
