import Foundation
import Glibc
import XCTest
@testable import UVProxy
@testable import MockGateway

/// A route's fallbacks: tried in order when a target fails in a retryable way; a target whose
/// circuit opened is skipped until its cooldown ends, then probed and used again.
final class FallbackTests: XCTestCase {
    /// An upstream that answers 529 while `failing` is set, 200 otherwise, and counts requests.
    final class Flaky: @unchecked Sendable {
        let lock = NSLock()
        var failing = true
        var requests = 0
        var server: ScriptedUpstream!

        init() throws {
            server = try ScriptedUpstream { [self] fd, _ in
                while ScriptedUpstream.readHead(fd) {
                    lock.lock()
                    requests += 1
                    let fail = failing
                    lock.unlock()
                    ScriptedUpstream.write(fd, fail
                        ? "HTTP/1.1 529 Overloaded\r\nContent-Type: application/json\r\nContent-Length: 26\r\n\r\n{\"message\":\"Overloaded 1\"}"
                        : ScriptedUpstream.okResponse)
                }
            }
        }

        var count: Int { lock.lock(); defer { lock.unlock() }; return requests }
        func recover() { lock.lock(); failing = false; lock.unlock() }
    }

    func post(_ port: Int, _ path: String, _ body: String) throws -> RawHTTPClient.Response {
        let c = try RawHTTPClient(port: port)
        c.send(RawHTTPClient.post(path, body: body))
        return try XCTUnwrap(c.readResponse())
    }

    func testFallsBackToTheNextUpstreamAndReturnsAfterTheCooldown() throws {
        let flaky = try Flaky()
        defer { flaky.server.stop() }
        let mock = try MockServer(host: "127.0.0.1", port: 0)
        mock.start()
        defer { mock.stop() }
        let proxy = try startProxy("""
        listen: 127.0.0.1:0
        access_log: false
        upstreams:
          primary: { url: "http://127.0.0.1:\(flaky.server.port)" }
          backup: { url: "http://127.0.0.1:\(mock.port)" }
        routes:
          - { path: /v1/chat/completions, upstream: primary, ingress: openai-chat, upstream_path: /v1/openai/v1/chat/completions,
              fallbacks: [{ upstream: backup }], circuit: { failures: 1, cooldown: 400ms } }
        """)
        defer { proxy.stop(graceMs: 500); proxy.wait() }
        let body = #"{"model":"gpt-5","messages":[{"role":"user","content":"hi"}]}"#
        let first = try post(proxy.port, "/v1/chat/completions", body)
        XCTAssertEqual(first.status, 200)
        XCTAssertEqual(first.header("x-mini-proxy-upstream"), "backup")
        XCTAssertEqual(flaky.count, 1)
        // The primary's circuit is open: the next request goes straight to the backup.
        let second = try post(proxy.port, "/v1/chat/completions", body)
        XCTAssertEqual(second.header("x-mini-proxy-upstream"), "backup")
        XCTAssertEqual(flaky.count, 1, "skipped while open")
        // After the cooldown, one request probes the primary, which has recovered.
        flaky.recover()
        usleep(450_000)
        let third = try post(proxy.port, "/v1/chat/completions", body)
        XCTAssertEqual(third.status, 200)
        XCTAssertEqual(third.header("x-mini-proxy-upstream"), "primary")
        XCTAssertEqual(flaky.count, 2)
        let fourth = try post(proxy.port, "/v1/chat/completions", body)
        XCTAssertEqual(fourth.header("x-mini-proxy-upstream"), "primary", "closed again")
    }

    func testModelFallbackOnTheClaudeRoute() throws {
        let stack = try TestStack(yaml: TestStack.basicConfig.replacingOccurrences(
            of: "{ path: /bedrock/claude/v1/messages, upstream: mock, ingress: anthropic-messages, egress: bedrock-anthropic }",
            with: "{ path: /bedrock/claude/v1/messages, upstream: mock, ingress: anthropic-messages, egress: bedrock-anthropic, "
                + "fallbacks: [{ model: global.anthropic.claude-haiku-4-5-20251001-v1:0 }] }"))
        defer { stack.stop() }
        let r = try post(stack.proxyPort, "/bedrock/claude/v1/messages",
                         #"{"model":"us.anthropic.claude-sonnet-4-5-20250929-v1:0+status=529","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#)
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(r.header("x-mini-proxy-upstream"), "mock/global.anthropic.claude-haiku-4-5-20251001-v1:0")
        XCTAssertEqual(r.json?["model"] as? String, "global.anthropic.claude-haiku-4-5-20251001-v1:0")
    }

    func testEveryTargetFailingAnswersTheLastError() throws {
        let stack = try TestStack(yaml: TestStack.basicConfig.replacingOccurrences(
            of: "{ path: /openai/v1/chat/completions, upstream: mock,",
            with: "{ path: /openai/v1/chat/completions, upstream: mock, fallbacks: [{ upstream: mock }], retries: false,"))
        defer { stack.stop() }
        let r = try post(stack.proxyPort, "/openai/v1/chat/completions", #"{"model":"gpt-5+status=503+retry-after=120","messages":[]}"#)
        XCTAssertEqual(r.status, 503)
        XCTAssertEqual(r.header("retry-after"), "120")
    }
}
