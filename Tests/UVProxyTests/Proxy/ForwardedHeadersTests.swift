import Foundation
import Glibc
import XCTest
import Providers
@testable import UVProxy

/// The response headers a translated route passes on (`Exchange.appendForwardedUpstreamHeaders`, on the
/// head's bytes): each forwarded field exactly as the upstream sent it (name case kept, value trimmed of
/// its OWS only), followed at once by its counterpart under the client's dialect's name, and nothing for
/// the fields a client does not act on or whose reset cannot be read. The whole block is compared, so a
/// name or value mangled on the way, a field dropped or one added fails here.
final class ForwardedHeadersTests: XCTestCase {
    /// The client's head for one request through a route `ingress -> egress` whose upstream answers 200
    /// with `fields` and `body`; plus the Unix seconds before and after it.
    private func clientHead(ingress: String, egress: String, path: String, upstreamPath: String, request: String,
                            fields: String, body: String) throws -> (head: String, before: Int, after: Int) {
        let response = Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\(fields)Content-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
        let up = try ScriptedUpstream { fd, _ in
            while ScriptedUpstream.readHead(fd) { ScriptedUpstream.sendAll(fd, response[...]) }
        }
        defer { up.stop() }
        let p = try startProxy("""
        access_log: false
        upstreams:
          up: { url: "http://127.0.0.1:\(up.port)" }
        routes:
          - { path: \(path), upstream: up, ingress: \(ingress), egress: \(egress), upstream_path: "\(upstreamPath)", retries: false }
        """)
        defer { p.stop(); p.wait() }
        let c = try RawHTTPClient(port: p.port)
        let before = time(nil)
        c.send("POST \(path) HTTP/1.1\r\nHost: x\r\nX-Request-Id: fixed-id\r\nContent-Type: application/json\r\n"
               + "Content-Length: \(request.utf8.count)\r\n\r\n\(request)")
        let r = try XCTUnwrap(c.readResponse())
        let after = time(nil)
        XCTAssertEqual(r.status, 200, r.text)
        return (String(decoding: r.rawHead, as: UTF8.self), before, after)
    }

    /// The forwarded block: from the first forwarded line to the framing the connection writes last.
    private func block(_ head: String, from first: String) throws -> String {
        let start = try XCTUnwrap(head.range(of: first), "no \(first) in \(head)")
        let end = try XCTUnwrap(head.range(of: "Content-Length: ", range: start.upperBound..<head.endIndex), head)
        return String(head[start.lowerBound..<end.lowerBound])
    }

    func testAnthropicUpstreamToOpenAIClient() throws {
        let message = #"{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}"#
        let fields = "Anthropic-RateLimit-Requests-Limit: 100\r\n"
            + "Server: upstream\r\n"
            + "ANTHROPIC-RATELIMIT-TOKENS-REMAINING: \t 7 7 \t\r\n"
            + "anthropic-ratelimit-requests-reset: 2030-01-01T00:01:00Z\r\n"
            + "anthropic-ratelimit-tokens-reset: soon\r\n"
            + "anthropic-ratelimit-input-tokens-limit: 5\r\n"
            + "Date: Mon, 07 Dec 2026 06:00:00 GMT\r\n"
            + "Request-Id: req_1\r\n"
            + "X-Amzn-RequestId: amzn-1\r\n"
            + "anthropic-ratelimit-tokens-limit: caf\u{E9}\r\n"
            + "x-should-retry: false\r\n"
            + "x-ratelimit-limit-requests: 9\r\n"
        let (head, before, after) = try clientHead(
            ingress: "openai-chat", egress: "bedrock-anthropic", path: "/v1/chat/completions", upstreamPath: "/m/{model}/{action}",
            request: #"{"model":"us.anthropic.claude-sonnet-4-5-20250929-v1:0","messages":[{"role":"user","content":"hi"}]}"#,
            fields: fields, body: message)
        let forwarded = try block(head, from: "Anthropic-RateLimit-Requests-Limit")
        let when = 1_893_456_060  // 2030-01-01T00:01:00Z
        let resets = (before...after).map { "\(when - $0)s" }
        let expected = resets.map { reset in
            "Anthropic-RateLimit-Requests-Limit: 100\r\n"
                + "x-ratelimit-limit-requests: 100\r\n"
                + "ANTHROPIC-RATELIMIT-TOKENS-REMAINING: 7 7\r\n"
                + "x-ratelimit-remaining-tokens: 7 7\r\n"
                + "anthropic-ratelimit-requests-reset: 2030-01-01T00:01:00Z\r\n"
                + "x-ratelimit-reset-requests: \(reset)\r\n"
                + "anthropic-ratelimit-tokens-reset: soon\r\n"
                + "anthropic-ratelimit-input-tokens-limit: 5\r\n"
                + "Request-Id: req_1\r\n"
                + "X-Amzn-RequestId: amzn-1\r\n"
                + "anthropic-ratelimit-tokens-limit: caf\u{E9}\r\n"
                + "x-ratelimit-limit-tokens: caf\u{E9}\r\n"
                + "x-should-retry: false\r\n"
                + "x-ratelimit-limit-requests: 9\r\n"
        }
        XCTAssertTrue(expected.contains(forwarded), forwarded)
        XCTAssertFalse(head.contains("Server: upstream"))
        XCTAssertFalse(head.contains("Date: Mon, 07 Dec 2026"))
    }

    func testOpenAIUpstreamToAnthropicClient() throws {
        let completion = #"{"id":"c1","object":"chat.completion","created":1,"model":"gpt-5","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}"#
        let fields = "X-RateLimit-Limit-Requests: 500\r\n"
            + "x-ratelimit-remaining-requests: 499\r\n"
            + "X-RATELIMIT-RESET-REQUESTS: 1m30s\r\n"
            + "x-ratelimit-reset-tokens: 20ms\r\n"
            + "x-ratelimit-reset-tokens: 1.2.3s\r\n"
            + "openai-processing-ms: 12\r\n"
            + "anthropic-ratelimit-requests-limit: 7\r\n"
            + "Retry-After: 1\r\n"
        let (head, before, after) = try clientHead(
            ingress: "anthropic-messages", egress: "openai-chat", path: "/v1/messages", upstreamPath: "/u",
            request: #"{"model":"gpt-5","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#,
            fields: fields, body: completion)
        let forwarded = try block(head, from: "X-RateLimit-Limit-Requests")
        let expected = (before...after).map { now in
            "X-RateLimit-Limit-Requests: 500\r\n"
                + "anthropic-ratelimit-requests-limit: 500\r\n"
                + "x-ratelimit-remaining-requests: 499\r\n"
                + "anthropic-ratelimit-requests-remaining: 499\r\n"
                + "X-RATELIMIT-RESET-REQUESTS: 1m30s\r\n"
                + "anthropic-ratelimit-requests-reset: \(ModelList.rfc3339(now + 90))\r\n"
                + "x-ratelimit-reset-tokens: 20ms\r\n"
                + "anthropic-ratelimit-tokens-reset: \(ModelList.rfc3339(now + 1))\r\n"
                + "x-ratelimit-reset-tokens: 1.2.3s\r\n"
                + "openai-processing-ms: 12\r\n"
                + "anthropic-ratelimit-requests-limit: 7\r\n"
        }
        XCTAssertTrue(expected.contains(forwarded), forwarded)
    }

    /// Dialects that agree: the fields pass, nothing is added.
    func testSameDialectAddsNothing() throws {
        let message = #"{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}"#
        let (head, _, _) = try clientHead(
            ingress: "anthropic-messages", egress: "bedrock-anthropic", path: "/v1/messages", upstreamPath: "/m/{model}/{action}",
            request: #"{"model":"us.anthropic.claude-sonnet-4-5-20250929-v1:0","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#,
            fields: "Anthropic-RateLimit-Requests-Reset: 2030-01-01T00:01:00Z\r\nx-ratelimit-limit-tokens: 3\r\n", body: message)
        let forwarded = try block(head, from: "Anthropic-RateLimit-Requests-Reset")
        XCTAssertEqual(forwarded, "Anthropic-RateLimit-Requests-Reset: 2030-01-01T00:01:00Z\r\nx-ratelimit-limit-tokens: 3\r\n")
    }
}
