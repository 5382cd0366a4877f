import Foundation
import Glibc
import XCTest
@testable import UVProxy

/// The retry rules, decided without sockets (`RetryPlanner`), then over loopback against the mock's
/// fault options (`fail-first=N`, `status`, `retry-after`, `should-retry`, `fault`).
final class RetryPlannerTests: XCTestCase {
    let planner = RetryPlanner(policy: RetryPolicy())

    func decide(_ f: RetryPlanner.Failure, attempt: Int = 1, now: UInt64 = 1_000, jitter: Double = 1) -> RetryPlanner.Decision {
        planner.decide(f, attempt: attempt, startedAt: 1_000, now: now, wallNow: 1_700_000_000, jitter: jitter)
    }

    func testStatusesAndHeaders() {
        XCTAssertEqual(decide(.status(429, retryAfter: nil, shouldRetry: nil)), .retry(afterMs: 250))
        XCTAssertEqual(decide(.status(503, retryAfter: nil, shouldRetry: nil)), .retry(afterMs: 250))
        XCTAssertEqual(decide(.status(529, retryAfter: nil, shouldRetry: nil)), .retry(afterMs: 250))
        XCTAssertEqual(decide(.status(500, retryAfter: nil, shouldRetry: nil)), .answer(why: nil), "500 only where configured")
        XCTAssertEqual(decide(.status(400, retryAfter: nil, shouldRetry: nil)), .answer(why: nil))
        XCTAssertEqual(decide(.status(429, retryAfter: nil, shouldRetry: "false")), .answer(why: nil))
        XCTAssertEqual(decide(.status(500, retryAfter: nil, shouldRetry: "true")), .retry(afterMs: 250))
        XCTAssertEqual(decide(.status(429, retryAfter: "2", shouldRetry: nil)), .retry(afterMs: 2_000))
        XCTAssertEqual(decide(.status(429, retryAfter: "Tue, 14 Nov 2023 22:13:23 GMT", shouldRetry: nil)), .retry(afterMs: 3_000),
                       "an HTTP date 3 s after wallNow")
        XCTAssertEqual(decide(.status(429, retryAfter: "Mon, 01 Jan 2001 00:00:00 GMT", shouldRetry: nil)), .retry(afterMs: 0))
        XCTAssertEqual(decide(.status(429, retryAfter: "soon", shouldRetry: nil)), .retry(afterMs: 250), "unreadable: backoff")
        guard case .answer(let why?) = decide(.status(429, retryAfter: "60", shouldRetry: nil)) else { return XCTFail("past the deadline") }
        XCTAssertTrue(why.contains("deadline"))
        var config = RetryPolicy()
        config.statuses = [500, 502, 504]
        XCTAssertEqual(RetryPlanner(policy: config).mayRetry(status: 502, shouldRetry: nil), true)
        XCTAssertEqual(RetryPlanner(policy: .off).mayRetry(status: 429, shouldRetry: "true"), false)
    }

    func testBackoffGrowsWithJitterAndStopsAtAttemptsAndDeadline() {
        XCTAssertEqual(decide(.connect, attempt: 1, jitter: 1), .retry(afterMs: 250))
        XCTAssertEqual(decide(.connect, attempt: 2, jitter: 1), .retry(afterMs: 500))
        XCTAssertEqual(decide(.connect, attempt: 2, jitter: 0), .retry(afterMs: 250), "jitter takes up to half")
        XCTAssertEqual(decide(.closedBeforeHead, attempt: 3), .answer(why: "gave up after 3 tries"))
        var long = RetryPolicy()
        long.attempts = 10
        let p = RetryPlanner(policy: long)
        XCTAssertEqual(p.decide(.connect, attempt: 9, startedAt: 0, now: 0, wallNow: 0, jitter: 1), .retry(afterMs: 8_000), "capped at max_backoff")
        guard case .answer = p.decide(.connect, attempt: 2, startedAt: 0, now: 29_900, wallNow: 0, jitter: 1) else { return XCTFail() }
        XCTAssertEqual(RetryPlanner(policy: .off).decide(.connect, attempt: 1, startedAt: 0, now: 0, wallNow: 0, jitter: 1), .answer(why: nil))
    }

    /// Upstream headers are input: absurd values give a bounded wait, never an overflow.
    func testHugeRetryAfterValuesDoNotTrap() {
        guard case .answer = decide(.status(429, retryAfter: "99999999999999999999999", shouldRetry: nil)) else { return XCTFail() }
        guard case .answer = decide(.status(429, retryAfter: "9223372036854775807", shouldRetry: nil)) else { return XCTFail() }
        XCTAssertNil(RetryPlanner.retryAfterSeconds("Sun, 06 Nov 99999999999 08:49:37 GMT", wallNow: 0))
        XCTAssertNil(RetryPlanner.retryAfterSeconds("Sun, 99999999999 Nov 1994 08:49:37 GMT", wallNow: 0))
        XCTAssertNil(RetryPlanner.retryAfterSeconds("Sun, 06 Nov 1994 99999999999:49:37 GMT", wallNow: 0))
        XCTAssertEqual(RetryPlanner(policy: RetryPolicy()).decide(.connect, attempt: 1, startedAt: 0, now: UInt64.max - 5,
                                                                 wallNow: 0, jitter: 1), .answer(why: "the upstream asked to wait 250 ms, past the retry deadline of 30000 ms"))
    }

    func testRetryAfterForms() {
        XCTAssertEqual(RetryPlanner.retryAfterSeconds("0", wallNow: 0), 0)
        XCTAssertEqual(RetryPlanner.retryAfterSeconds(" 17 ", wallNow: 0), 17)
        XCTAssertNil(RetryPlanner.retryAfterSeconds("-1", wallNow: 0))
        XCTAssertNil(RetryPlanner.retryAfterSeconds("1.5", wallNow: 0))
        XCTAssertEqual(RetryPlanner.retryAfterSeconds("Sun, 06 Nov 1994 08:49:37 GMT", wallNow: 784_111_777 - 10), 10)
        XCTAssertNil(RetryPlanner.retryAfterSeconds("Sun, 06 Foo 1994 08:49:37 GMT", wallNow: 0))
    }
}

final class RetryIntegrationTests: XCTestCase {
    var stack: TestStack!
    var logPath = ""

    override func setUpWithError() throws {
        logPath = NSTemporaryDirectory() + "mp-retry-\(UInt32.random(in: 0...UInt32.max)).log"
        stack = try TestStack(yaml: TestStack.basicConfig.replacingOccurrences(of: "access_log: false", with: "access_log: { path: \(logPath) }"))
    }

    override func tearDown() {
        stack?.stop()
        stack = nil
        unlink(logPath)
    }

    func post(_ path: String, model: String, stream: Bool = false) throws -> (status: Int, retryAfter: String?, ms: Double, text: String) {
        let c = try stack.client()
        let body = path.contains("messages")
            ? #"{"model":"\#(model)","max_tokens":5,"stream":\#(stream),"messages":[{"role":"user","content":"hi"}]}"#
            : #"{"model":"\#(model)","stream":\#(stream),"messages":[{"role":"user","content":"hi"}]}"#
        let start = Date()
        c.send(RawHTTPClient.post(path, body: body))
        let r = try XCTUnwrap(c.readResponse())
        return (r.status, r.header("retry-after"), Date().timeIntervalSince(start) * 1000, r.text)
    }

    func log() -> String {
        stack.stop()
        defer { stack = nil }
        return (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    func testA429HonoursRetryAfterThenSucceeds() throws {
        let r = try post("/openai/v1/chat/completions", model: "gpt-5+fail-first=1+status=429+retry-after=1+tag=a")
        XCTAssertEqual(r.status, 200)
        XCTAssertGreaterThanOrEqual(r.ms, 950, "waited for Retry-After: 1")
        XCTAssertLessThan(r.ms, 2_500)
        XCTAssertTrue(log().contains("retries=1"))
    }

    func testShouldRetryFalseIsNotRetried() throws {
        let r = try post("/openai/v1/chat/completions", model: "gpt-5+fail-first=1+status=503+should-retry=false+tag=b")
        XCTAssertEqual(r.status, 503)
        XCTAssertLessThan(r.ms, 200)
    }

    func testOverloaded529IsRetriedThenAnsweredOnTheClaudeRoute() throws {
        let r = try post("/bedrock/claude/v1/messages", model: "us.anthropic.claude-sonnet-4-5-20250929-v1:0+fail-first=2+status=529+tag=c")
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertGreaterThanOrEqual(r.ms, 375, "two backoffs: at least 125 + 250 ms with jitter")
        XCTAssertTrue(log().contains("retries=2"))
    }

    func testRetriesStopAtTheAttemptCount() throws {
        let r = try post("/openai/v1/chat/completions", model: "gpt-5+fail-first=5+status=529+tag=d")
        XCTAssertEqual(r.status, 529)
        XCTAssertTrue(log().contains("retries=2"))
    }

    func testResetBeforeTheHeadIsRetried() throws {
        let r = try post("/openai/v1/chat/completions", model: "gpt-5+fail-first=1+fault=reset-before-head+tag=e")
        XCTAssertEqual(r.status, 200)
    }

    func testResetAfterTheFirstClientByteIsNotRetried() throws {
        // The stream starts (status, events), then the upstream resets: an error event, no retry.
        let r = try post("/bedrock/claude/v1/messages", model: "us.anthropic.claude-sonnet-4-5-20250929-v1:0+fail-first=1+fault=reset-mid+tag=f", stream: true)
        XCTAssertEqual(r.status, 200)
        XCTAssertTrue(r.text.contains("event: error"), r.text)
        XCTAssertFalse(log().contains("retries="))
    }

    func testRetryAfterPastTheDeadlineIsAnsweredAtOnce() throws {
        let r = try post("/bedrock/claude/v1/messages", model: "us.anthropic.claude-sonnet-4-5-20250929-v1:0+status=429+retry-after=120+tag=g")
        XCTAssertEqual(r.status, 429)
        XCTAssertEqual(r.retryAfter, "120")
        XCTAssertLessThan(r.ms, 200)
        XCTAssertTrue(log().contains("past the retry deadline"))
    }

    func testConnectFailuresAreRetriedThenA502() throws {
        let port = { () -> Int in
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
            _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
            close(fd)
            return Int(UInt16(bigEndian: addr.sin_port))
        }()
        let proxy = try startProxy("""
        listen: 127.0.0.1:0
        access_log: false
        upstreams: { dead: { url: "http://127.0.0.1:\(port)" } }
        routes:
          - { path: /v1/chat/completions, upstream: dead, ingress: openai-chat, upstream_path: /x,
              retries: { attempts: 3, backoff: 50ms, max_backoff: 100ms } }
        """)
        defer { proxy.stop(graceMs: 500); proxy.wait() }
        let c = try RawHTTPClient(port: proxy.port)
        let start = Date()
        c.send(RawHTTPClient.post("/v1/chat/completions", body: #"{"model":"m","messages":[]}"#))
        XCTAssertEqual(try XCTUnwrap(c.readResponse()).status, 502)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(start) * 1000, 70, "two waits of 25-50 and 50-100 ms")
    }

    /// Rate-limit headers reach the client, also under its own dialect's names.
    func testRateLimitHeadersInTheClientsDialect() throws {
        let c = try stack.client()
        c.send(RawHTTPClient.post("/provider/bedrock/format/openai/v1/chat/completions",
                                  body: #"{"model":"us.anthropic.claude-sonnet-4-5-20250929-v1:0","messages":[{"role":"user","content":"hi"}]}"#))
        let r = try XCTUnwrap(c.readResponse())
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.header("anthropic-ratelimit-requests-remaining"), "99")
        XCTAssertEqual(r.header("x-ratelimit-remaining-requests"), "99")
        XCTAssertEqual(r.header("x-ratelimit-limit-requests"), "100")
        XCTAssertNotNil(r.header("x-ratelimit-reset-requests"))
        let d = try stack.client()
        d.send(RawHTTPClient.post("/openai/v1/chat/completions", body: #"{"model":"gpt-5+fail-first=1+status=503+should-retry=false+tag=h","messages":[]}"#))
        let refused = try XCTUnwrap(d.readResponse())
        XCTAssertEqual(refused.status, 503)
        XCTAssertEqual(refused.header("x-should-retry"), "false")
        XCTAssertEqual(refused.header("retry-after"), "7")
    }

    /// A client that leaves while a retry waits: the exchange ends (499), the wait is dropped.
    func testClientLeavingDuringTheRetryWait() throws {
        let c = try stack.client()
        c.send(RawHTTPClient.post("/openai/v1/chat/completions", body: #"{"model":"gpt-5+fail-first=1+status=429+retry-after=2+tag=i","messages":[]}"#))
        usleep(300_000)
        Glibc.shutdown(c.fd, Int32(SHUT_RDWR))
        usleep(200_000)
        // The proxy still answers, and the log says the client left.
        let d = try stack.client()
        d.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(try XCTUnwrap(d.readResponse()).status, 200)
        XCTAssertTrue(log().contains(" 499 "))
    }

    /// Rate-limit headers on every route kind: under the upstream's names, and under the client's when
    /// its dialect calls them otherwise.
    func testRateLimitHeadersOnEveryRoute() throws {
        let yaml = TestStack.basicConfig.replacingOccurrences(of: "models:\n", with: """
              - { path: /r/v1/responses, upstream: mock, ingress: openai-responses, egress: bedrock-anthropic }
              - { path: /g/v1/messages, upstream: mock, ingress: anthropic-messages, egress: openai-chat,
                  upstream_path: /v1/openai/v1/chat/completions }
            models:

            """)
        let stack2 = try TestStack(yaml: yaml)
        defer { stack2.stop() }
        let claude = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
        let cases: [(path: String, body: String, expect: [String: String])] = [
            ("/openai/v1/chat/completions", #"{"model":"gpt-5","messages":[]}"#, ["x-ratelimit-remaining-requests": "999"]),
            ("/bedrock/claude/v1/messages", #"{"model":"\#(claude)","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#,
             ["anthropic-ratelimit-requests-remaining": "99"]),
            ("/provider/bedrock/format/openai/v1/chat/completions", #"{"model":"\#(claude)","messages":[{"role":"user","content":"hi"}]}"#,
             ["anthropic-ratelimit-requests-remaining": "99", "x-ratelimit-remaining-requests": "99"]),
            ("/r/v1/responses", #"{"model":"\#(claude)","input":"hi"}"#,
             ["anthropic-ratelimit-requests-remaining": "99", "x-ratelimit-remaining-requests": "99"]),
            ("/g/v1/messages", #"{"model":"gpt-5","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#,
             ["x-ratelimit-remaining-requests": "999", "anthropic-ratelimit-requests-remaining": "999"]),
        ]
        for c in cases {
            let client = try stack2.client()
            client.send(RawHTTPClient.post(c.path, body: c.body))
            let r = try XCTUnwrap(client.readResponse(), c.path)
            XCTAssertEqual(r.status, 200, "\(c.path): \(r.text)")
            for (name, value) in c.expect { XCTAssertEqual(r.header(name), value, "\(c.path) \(name)") }
        }
        // A pass-through route forwards every header as it came.
        let p = try stack2.client()
        p.send(RawHTTPClient.post("/openai/v1/responses", body: #"{"model":"gpt-5+status=429+retry-after=120","input":"hi"}"#))
        let limited = try XCTUnwrap(p.readResponse())
        XCTAssertEqual(limited.status, 429)
        XCTAssertEqual(limited.header("retry-after"), "120")
    }
}
