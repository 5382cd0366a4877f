import Foundation
import Glibc
import XCTest
@testable import UVProxy

/// What Claude Code and benchmark harnesses ask besides their main requests: queries on every route,
/// public model lists, `HEAD` on base URLs, `<base>/health`, `count_tokens`, one User-Agent upstream.
final class ClientSurfaceTests: XCTestCase {
    static let config = TestStack.basicConfig.replacingOccurrences(of: "access_log: false", with: "access_log: false\ninbound_keys: [k-123]")
        .replacingOccurrences(of: "models:\n  - { id: gpt-5, owned_by: openai }", with: """
        models:
          - { id: gpt-5, owned_by: openai, dialects: [openai-chat] }
          - { id: other-model, owned_by: x, dialects: [bedrock-anthropic] }
          - { id: claude-opus-4-6, owned_by: anthropic, dialects: [bedrock-anthropic] }
          - { id: claude-sonnet-4-6, owned_by: anthropic, dialects: [bedrock-anthropic] }
        """)

    func testModelListsArePublicClaudeFirstAndTakeALimit() throws {
        let stack = try TestStack(yaml: Self.config)
        defer { stack.stop() }
        let c = try stack.client()
        c.send("GET /bedrock/claude/v1/models?limit=1000 HTTP/1.1\r\nHost: x\r\n\r\n")
        let all = try XCTUnwrap(c.readResponse())
        XCTAssertEqual(all.status, 200, "no key needed for the list")
        let ids = try XCTUnwrap(all.json?["data"] as? [[String: Any]]).map { $0["id"] as? String }
        XCTAssertEqual(ids, ["claude-opus-4-6", "claude-sonnet-4-6", "other-model"])
        c.send("GET /bedrock/claude/v1/models?beta=true&limit=1 HTTP/1.1\r\nHost: x\r\n\r\n")
        let one = try XCTUnwrap(c.readResponse())
        XCTAssertEqual(try XCTUnwrap(one.json?["data"] as? [[String: Any]]).count, 1)
        // Requests still need the key.
        c.send(RawHTTPClient.post("/bedrock/claude/v1/messages?beta=true", body: #"{"model":"claude-opus-4-6","max_tokens":5,"messages":[]}"#))
        XCTAssertEqual(try XCTUnwrap(c.readResponse()).status, 401)
        c.send(RawHTTPClient.post("/bedrock/claude/v1/messages?beta=true", body: #"{"model":"claude-opus-4-6","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#,
                                  headers: ["x-api-key": "k-123"]))
        XCTAssertEqual(try XCTUnwrap(c.readResponse()).status, 200, "?beta=true on the messages route")
    }

    func testHeadAndHealthOnRouteBases() throws {
        let stack = try TestStack(yaml: Self.config)
        defer { stack.stop() }
        let c = try stack.client()
        for path in ["/", "/bedrock", "/bedrock/claude", "/bedrock/claude/v1", "/openai/v1", "/provider/bedrock/format/openai/v1"] {
            c.send("HEAD \(path) HTTP/1.1\r\nHost: x\r\n\r\n")
            XCTAssertEqual(try XCTUnwrap(c.readResponse(headRequest: true)).status, 200, "HEAD \(path)")
        }
        for path in ["/health", "/healthz", "/bedrock/claude/health", "/bedrock/claude/v1/health", "/openai/v1/health",
                     "/openai/v1/healthz", "/provider/bedrock/format/openai/v1/health"] {
            c.send("GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n")
            let r = try XCTUnwrap(c.readResponse())
            XCTAssertEqual(r.status, 200, path)
            XCTAssertEqual(r.text, #"{"status":"ok"}"#, path)
        }
        for path in ["/nothere/health", "/bedrockx/health"] {
            c.send("GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n")
            XCTAssertEqual(try XCTUnwrap(c.readResponse()).status, 404, path)
        }
        c.send("HEAD /nothere HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(try XCTUnwrap(c.readResponse(headRequest: true)).status, 404)
        // A pass-through prefix route forwards `<prefix>/health` to its upstream instead.
        c.send("GET /google/health HTTP/1.1\r\nHost: x\r\nx-api-key: k-123\r\n\r\n")
        let forwarded = try XCTUnwrap(c.readResponse())
        XCTAssertEqual(forwarded.status, 200)
        XCTAssertTrue(forwarded.text.contains("/v1/google/health"), forwarded.text)
    }

    func testCountTokensIsAFast404InAnthropicShape() throws {
        let stack = try TestStack(yaml: Self.config)
        defer { stack.stop() }
        let c = try stack.client()
        c.send(RawHTTPClient.post("/bedrock/claude/v1/messages/count_tokens?beta=true", body: #"{"model":"claude-opus-4-6","messages":[]}"#,
                                  headers: ["x-api-key": "k-123"]))
        let r = try XCTUnwrap(c.readResponse())
        XCTAssertEqual(r.status, 404)
        XCTAssertEqual(r.json?["type"] as? String, "error")
        let error = try XCTUnwrap(r.json?["error"] as? [String: Any])
        XCTAssertEqual(error["type"] as? String, "not_found_error")
        XCTAssertTrue((error["message"] as? String ?? "").contains("token counting"))
    }

    func testPassthroughSendsOneUserAgent() throws {
        let seen = UnsafeSendableBox<[UInt8]>([])
        let upstream = try ScriptedUpstream { fd, _ in
            var head = [UInt8]()
            var byte: UInt8 = 0
            while read(fd, &byte, 1) == 1 {
                head.append(byte)
                if head.count >= 4, head.suffix(4) == [13, 10, 13, 10] { break }
            }
            seen.value = head
            ScriptedUpstream.write(fd, ScriptedUpstream.okResponse)
        }
        defer { upstream.stop() }
        let proxy = try startProxy("""
        listen: 127.0.0.1:0
        access_log: false
        upstreams: { u: { url: "http://127.0.0.1:\(upstream.port)" } }
        routes:
          - { path: /p/*, upstream: u, ingress: passthrough, upstream_path: /q/ }
        """)
        defer { proxy.stop(graceMs: 500); proxy.wait() }
        let c = try RawHTTPClient(port: proxy.port)
        c.send("GET /p/x HTTP/1.1\r\nHost: x\r\nUser-Agent: claude-cli/2.1.327\r\n\r\n")
        XCTAssertEqual(try XCTUnwrap(c.readResponse()).status, 200)
        let lines = String(decoding: seen.value, as: UTF8.self).split(separator: "\r\n").filter { $0.lowercased().hasPrefix("user-agent:") }
        XCTAssertEqual(lines.count, 1, "\(lines)")
        XCTAssertTrue(lines.first?.contains("mini-proxy/") ?? false)
    }
}

/// A value a test's upstream thread sets and the test reads after the response (the response orders them).
final class UnsafeSendableBox<T>: @unchecked Sendable {
    var value: T
    init(_ value: T) { self.value = value }
}
