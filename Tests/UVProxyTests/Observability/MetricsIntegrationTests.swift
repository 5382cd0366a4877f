import Foundation
import XCTest

@testable import UVProxy
@testable import MockGateway

/// `/metrics` over loopback against the mock upstream: two workers' counts add up in one scrape from
/// either listener, the admin listener, the switch, inbound keys, pool and stream families.
final class MetricsIntegrationTests: XCTestCase {
    var stack: TestStack?

    override func tearDown() {
        stack?.stop()
        stack = nil
    }

    static let chat = #"{"model":"gpt-5","messages":[{"role":"user","content":"hi"}]}"#
    static let chatStream = #"{"model":"gpt-5","messages":[{"role":"user","content":"hi"}],"stream":true}"#
    static let unknownModel = #"{"messages":[{"role":"user","content":"hi"}],"model":"gpt-4o-mini"}"#
    static let claude =
        #"{"model":"claude-sonnet-4-5","max_tokens":16,"messages":[{"role":"user","content":"hi"}],"stream":true}"#

    func start(_ extra: String, workers: Int = 2) throws -> TestStack {
        let s = try TestStack(yaml: "workers: \(workers)\n" + TestStack.basicConfig + "\n" + extra)
        stack = s
        return s
    }

    /// The samples of an exposition text: `name{labels}` → value (HELP/TYPE lines skipped).
    static func samples(_ text: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let v = Double(line[line.index(after: space)...]) else {
                continue
            }
            out[String(line[..<space])] = v
        }
        return out
    }

    func scrape(port: Int, path: String = "/metrics", headers: String = "") throws -> RawHTTPClient.Response {
        let c = try RawHTTPClient(port: port)
        c.send("GET \(path) HTTP/1.1\r\nHost: x\r\n\(headers)\r\n")
        return try XCTUnwrap(c.readResponse())
    }

    func testTwoWorkersCountsAddUpInOneScrape() throws {
        let s = try start("  - { id: claude-sonnet-4-5 }")  // one more entry in the config's models
        let connections = 24
        for _ in 0..<connections {
            let c = try s.client()
            for body in [Self.chat, Self.chatStream, Self.unknownModel] {
                c.send(RawHTTPClient.post("/openai/v1/chat/completions", body: body))
                XCTAssertEqual(c.readResponse()?.status, 200)
            }
            c.send(RawHTTPClient.post("/bedrock/claude/v1/messages", body: Self.claude))
            XCTAssertEqual(c.readResponse()?.status, 200)
            c.send("GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n")
            XCTAssertEqual(c.readResponse()?.status, 404)
        }
        // Both workers served some: the scrape's sums are not one worker's counts.
        let perWorker = s.proxy.workerMetricsSnapshots().map { $0.requests.reduce(0) { $0 + $1.value } }
        XCTAssertEqual(perWorker.count, 2)
        XCTAssertTrue(perWorker.allSatisfy { $0 > 0 }, "\(perWorker)")
        XCTAssertEqual(perWorker.reduce(0, +), UInt64(connections * 5))

        // Scraped on several connections (so on both workers' listeners): the same sums each time.
        for _ in 0..<6 {
            let r = try scrape(port: s.proxyPort)
            XCTAssertEqual(r.status, 200)
            XCTAssertEqual(r.header("content-type"), "text/plain; version=0.0.4; charset=utf-8")
            let m = Self.samples(r.text)
            let chat = #"route="/openai/v1/chat/completions""#
            XCTAssertEqual(
                m[#"mini_proxy_requests_total{\#(chat),model="gpt-5",status="200"}"#], Double(2 * connections))
            XCTAssertEqual(m[#"mini_proxy_requests_total{\#(chat),model="other",status="200"}"#], Double(connections))
            XCTAssertEqual(
                m[
                    #"mini_proxy_requests_total{route="/bedrock/claude/v1/messages",model="claude-sonnet-4-5",status="200"}"#
                ],
                Double(connections))
            XCTAssertEqual(
                m[#"mini_proxy_requests_total{route="none",model="other",status="404"}"#], Double(connections))
            XCTAssertEqual(m[#"mini_proxy_request_duration_seconds_count{\#(chat)}"#], Double(3 * connections))
            XCTAssertEqual(
                m[#"mini_proxy_request_duration_seconds_bucket{\#(chat),le="+Inf"}"#], Double(3 * connections))
            XCTAssertEqual(m[#"mini_proxy_upstream_ttfb_seconds_count{\#(chat)}"#], Double(3 * connections))
            XCTAssertEqual(m[#"mini_proxy_overhead_seconds_count{\#(chat)}"#], Double(3 * connections))
            XCTAssertEqual(m[#"mini_proxy_stream_ttft_seconds_count{\#(chat)}"#], Double(connections))
            XCTAssertEqual(
                m[#"mini_proxy_stream_ttft_seconds_count{route="/bedrock/claude/v1/messages"}"#], Double(connections))
            XCTAssertGreaterThan(
                m[#"mini_proxy_stream_event_gap_seconds_count{route="/bedrock/claude/v1/messages"}"#] ?? 0, 0)
            XCTAssertEqual(m["mini_proxy_active_streams"], 0)
            XCTAssertEqual(m["mini_proxy_scrape_missing_workers"], 0)
            // The scraping connection is open; the others closed or idle.
            XCTAssertGreaterThanOrEqual(m["mini_proxy_active_connections"] ?? 0, 1)
            XCTAssertEqual(m[#"mini_proxy_upstream_connections{upstream="mock",state="busy"}"#], 0)
            let idle = m[#"mini_proxy_upstream_connections{upstream="mock",state="idle"}"#] ?? 0
            let opened = m[#"mini_proxy_upstream_connections_opened_total{upstream="mock"}"#] ?? 0
            XCTAssertGreaterThanOrEqual(idle, 2, "each worker keeps its pooled connection")
            XCTAssertGreaterThanOrEqual(opened, idle)
            // Usage read from the answers (the mock reports 12 input tokens, 40 output for a Chat
            // completion): the other model's requests are JSON only, so their sums are exact.
            XCTAssertEqual(m[#"mini_proxy_tokens_total{\#(chat),model="other",kind="input"}"#], Double(12 * connections))
            XCTAssertEqual(m[#"mini_proxy_tokens_total{\#(chat),model="other",kind="output"}"#], Double(40 * connections))
            let gptInput = m[#"mini_proxy_tokens_total{\#(chat),model="gpt-5",kind="input"}"#] ?? 0
            XCTAssertGreaterThanOrEqual(gptInput, Double(12 * connections))
            XCTAssertEqual(gptInput.truncatingRemainder(dividingBy: 12), 0)
            let claudeRoute = #"route="/bedrock/claude/v1/messages",model="claude-sonnet-4-5""#
            XCTAssertEqual(m[#"mini_proxy_tokens_total{\#(claudeRoute),kind="input"}"#], Double(12 * connections))
            XCTAssertGreaterThan(m[#"mini_proxy_tokens_total{\#(claudeRoute),kind="output"}"#] ?? 0, 0)
        }
    }

    func testStreamInProgressIsAGauge() throws {
        let s = try start("")
        let c = try s.client()
        // The mock's `+delay=` option spaces events out: scrape while the stream is open.
        c.send(
            RawHTTPClient.post(
                "/openai/v1/chat/completions",
                body: #"{"model":"gpt-5+delay=300+chunks=3","messages":[{"role":"user","content":"hi"}],"stream":true}"#
            ))
        guard let head = c.readHeadOnly(), head.status == 200 else { return XCTFail("no stream head") }
        _ = c.fill()  // the first event is out
        let during = Self.samples(try scrape(port: s.proxyPort).text)
        XCTAssertEqual(during["mini_proxy_active_streams"], 1)
        XCTAssertEqual(during[#"mini_proxy_upstream_connections{upstream="mock",state="busy"}"#], 1)
        _ = c.readChunked()
    }

    func testAdminListenerServesMetricsAndTheMainListenerDoesNot() throws {
        let s = try start("metrics: { listen: 127.0.0.1:0, path: /internal/metrics }")
        let admin = s.proxy.metricsPort
        XCTAssertNotEqual(admin, 0)
        let c = try s.client()
        c.send(RawHTTPClient.post("/openai/v1/chat/completions", body: Self.chat))
        XCTAssertEqual(c.readResponse()?.status, 200)
        XCTAssertEqual(try scrape(port: s.proxyPort, path: "/internal/metrics").status, 404)
        let r = try scrape(port: admin, path: "/internal/metrics")
        XCTAssertEqual(r.status, 200)
        let m = Self.samples(r.text)
        XCTAssertEqual(
            m[#"mini_proxy_requests_total{route="/openai/v1/chat/completions",model="gpt-5",status="200"}"#], 1)
        // The main listener's 404 above is counted; the scrapes are not.
        XCTAssertEqual(m[#"mini_proxy_requests_total{route="none",model="other",status="404"}"#], 1)
        XCTAssertEqual(try scrape(port: admin, path: "/metrics").status, 404)
        let post = try RawHTTPClient(port: admin)
        post.send("POST /internal/metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        XCTAssertEqual(post.readResponse()?.status, 405)
    }

    func testMetricsOffMeansNoEndpointAndNoCounts() throws {
        let s = try start("metrics: false")
        let c = try s.client()
        c.send(RawHTTPClient.post("/openai/v1/chat/completions", body: Self.chat))
        XCTAssertEqual(c.readResponse()?.status, 200)
        XCTAssertEqual(try scrape(port: s.proxyPort).status, 404)
        XCTAssertEqual(s.proxy.workerMetricsSnapshots(), [MetricsSnapshot(), MetricsSnapshot()])
    }

    func testInboundKeysGuardTheEndpoint() throws {
        let s = try start("inbound_keys: [metrics-key-1]", workers: 1)
        XCTAssertEqual(try scrape(port: s.proxyPort).status, 401)
        let r = try scrape(port: s.proxyPort, headers: "Authorization: Bearer metrics-key-1\r\n")
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(Self.samples(r.text)[#"mini_proxy_requests_total{route="none",model="other",status="401"}"#], 1)
    }

    func testFailedUpstreamConnectionsAreCounted() throws {
        // A port that was just free: nothing listens there.
        let probe = try MockServer(host: "127.0.0.1", port: 0)
        let dead = probe.port
        probe.start()
        probe.stop()
        let yaml = """
            listen: 127.0.0.1:0
            access_log: false
            upstreams:
              gone: { url: "http://127.0.0.1:\(dead)", timeouts: { connect: 2s } }
            routes:
              - { path: /v1/chat/completions, upstream: gone, ingress: openai-chat, egress: openai-chat,
                  upstream_path: /v1/chat/completions }
            """
        let proxy = try startProxy(yaml)
        defer {
            proxy.stop()
            proxy.wait()
        }
        let c = try RawHTTPClient(port: proxy.port)
        c.send(RawHTTPClient.post("/v1/chat/completions", body: Self.chat))
        XCTAssertEqual(c.readResponse()?.status, 502)
        let m = Self.samples(try scrape(port: proxy.port).text)
        // One per try (the route's retry policy may try again).
        XCTAssertGreaterThanOrEqual(m[#"mini_proxy_upstream_connections_failed_total{upstream="gone"}"#] ?? 0, 1)
        XCTAssertNil(m[#"mini_proxy_upstream_connections_opened_total{upstream="gone"}"#])
        XCTAssertEqual(m[#"mini_proxy_requests_total{route="/v1/chat/completions",model="other",status="502"}"#], 1)
        XCTAssertEqual(m[#"mini_proxy_request_duration_seconds_count{route="/v1/chat/completions"}"#], 1)
        XCTAssertNil(
            m[#"mini_proxy_overhead_seconds_count{route="/v1/chat/completions"}"#], "no response, no overhead sample")
    }
}
