import Foundation
import XCTest
@testable import UVProxy
@testable import MockGateway

/// Timeouts, keep-alive pings, connection limits, graceful stop, reload, and upstream connections
/// that go away — over real sockets.
final class ResilienceTests: XCTestCase {
    private func yaml(timeouts: String = "", route: String = "", limits: String = "") -> String {
        """
        access_log: false
        \(limits)
        upstreams:
          mock:
            url: MOCK_URL
            \(timeouts)
        routes:
          - { path: /openai/v1/chat/completions, upstream: mock, ingress: openai-chat, egress: openai-chat,
              upstream_path: /v1/openai/v1/chat/completions \(route) }
          - { path: /provider/bedrock/format/openai/v1/chat/completions, upstream: mock, ingress: openai-chat,
              egress: bedrock-anthropic \(route) }
          - { path: /bedrock/claude/v1/messages, upstream: mock, ingress: anthropic-messages, egress: bedrock-anthropic \(route) }
        """
    }

    func testFirstByteTimeoutIs504() throws {
        let s = try TestStack(yaml: yaml(timeouts: "timeouts: { first_byte: 300ms }"))
        defer { s.stop() }
        let c = try s.client()
        c.send(RawHTTPClient.post("/openai/v1/chat/completions", body: #"{"model":"gpt-5+fault=stall-head","messages":[]}"#))
        let r = try XCTUnwrap(c.readResponse())
        XCTAssertEqual(r.status, 504)
        XCTAssertEqual((r.json?["error"] as? [String: Any])?["code"] as? String, "upstream_timeout")
    }

    func testIdleTimeoutMidStreamEndsWithErrorEvent() throws {
        let s = try TestStack(yaml: yaml(timeouts: "timeouts: { idle: 300ms }"))
        defer { s.stop() }
        let c = try s.client()
        c.send(RawHTTPClient.post("/openai/v1/chat/completions", body: #"{"model":"gpt-5+fault=stall-mid","stream":true,"messages":[]}"#))
        XCTAssertEqual(c.readHeadOnly()?.status, 200)
        let text = String(decoding: try XCTUnwrap(c.readChunked()), as: UTF8.self)
        XCTAssertTrue(text.contains("sent nothing for 300 ms"), text)
        XCTAssertTrue(text.hasSuffix("data: [DONE]\n\n"), text)
    }

    func testKeepAlivePingsWhileWaitingForFirstTokenThenTheStream() throws {
        let s = try TestStack(yaml: yaml(route: ", keep_alive_interval: 100ms"))
        defer { s.stop() }
        let c = try s.client()
        c.send(RawHTTPClient.post("/bedrock/claude/v1/messages",
                                  body: #"{"model":"claude-x+wait=450+chunks=2","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#))
        XCTAssertEqual(c.readHeadOnly()?.status, 200)
        let text = String(decoding: try XCTUnwrap(c.readChunked()), as: UTF8.self)
        let pings = text.components(separatedBy: "event: ping").count - 1
        XCTAssertGreaterThanOrEqual(pings, 3, text)
        XCTAssertTrue(text.contains("event: message_stop"), text)
    }

    func testFirstByteTimeoutStillFiresWhilePinging() throws {
        let s = try TestStack(yaml: yaml(timeouts: "timeouts: { first_byte: 400ms }", route: ", keep_alive_interval: 100ms"))
        defer { s.stop() }
        let c = try s.client()
        c.send(RawHTTPClient.post("/provider/bedrock/format/openai/v1/chat/completions",
                                  body: #"{"model":"claude-x+fault=stall-head","stream":true,"messages":[{"role":"user","content":"hi"}]}"#))
        XCTAssertEqual(c.readHeadOnly()?.status, 200)
        let text = String(decoding: try XCTUnwrap(c.readChunked()), as: UTF8.self)
        XCTAssertTrue(text.contains(": keep-alive"), text)
        XCTAssertTrue(text.contains(#"data: {"error":"#), text)
        XCTAssertTrue(text.hasSuffix("data: [DONE]\n\n"), text)
    }

    func testUpstreamRefusedIs502() throws {
        // A port that was just free: nothing listens there.
        let probe = try MockServer(host: "127.0.0.1", port: 0)
        let deadPort = probe.port
        probe.start()
        probe.stop()
        let config = try ConfigLoader.parse(yaml: yaml().replacingOccurrences(of: "MOCK_URL", with: "http://127.0.0.1:\(deadPort)"), environment: [:])
        let proxy = try ProxyServer(config: config, listen: HostPort(host: "127.0.0.1", port: 0))
        try proxy.start()
        defer { proxy.stop(); proxy.wait() }
        let c = try RawHTTPClient(port: proxy.port)
        c.send(RawHTTPClient.post("/bedrock/claude/v1/messages", body: #"{"model":"claude-x","max_tokens":5,"messages":[]}"#))
        let r = try XCTUnwrap(c.readResponse())
        XCTAssertEqual(r.status, 502)
        XCTAssertEqual(r.json?["type"] as? String, "error")
        XCTAssertTrue(r.text.contains("ECONNREFUSED"), r.text)
    }

    func testConnectionLimitAnswers503() throws {
        let s = try TestStack(yaml: yaml(limits: "limits: { max_connections: 2 }"))
        defer { s.stop() }
        let a = try s.client()
        let b = try s.client()
        a.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        b.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(a.readResponse()?.status, 200)
        XCTAssertEqual(b.readResponse()?.status, 200)
        let c = try s.client()
        let r = try XCTUnwrap(c.readResponse())
        XCTAssertEqual(r.status, 503)
        XCTAssertTrue(c.readEOF())
    }

    func testGracefulStopFinishesInFlightStream() throws {
        let s = try TestStack(yaml: yaml())
        let c = try s.client()
        c.send(RawHTTPClient.post("/openai/v1/chat/completions", body: #"{"model":"gpt-5+chunks=5+delay=100","stream":true,"messages":[]}"#))
        XCTAssertEqual(c.readHeadOnly()?.status, 200)
        let port = s.proxyPort
        s.proxy.stop(graceMs: 5000)
        let text = String(decoding: try XCTUnwrap(c.readChunked()), as: UTF8.self)
        XCTAssertTrue(text.hasSuffix("data: [DONE]\n\n"), text)
        s.proxy.wait()
        XCTAssertThrowsError(try RawHTTPClient(port: port))
        s.mock.stop()
    }

    func testReloadKeepsServingAndRefusesABadFile() throws {
        let path = NSTemporaryDirectory() + "mini-proxy-reload-\(UUID().uuidString).yaml"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let mock = try MockServer(host: "127.0.0.1", port: 0)
        mock.start()
        defer { mock.stop() }
        let good = yaml().replacingOccurrences(of: "MOCK_URL", with: "http://127.0.0.1:\(mock.port)")
        try good.write(toFile: path, atomically: true, encoding: .utf8)
        let proxy = try ProxyServer(config: try ConfigLoader.load(path: path), configPath: path, listen: HostPort(host: "127.0.0.1", port: 0))
        try proxy.start()
        defer { proxy.stop(); proxy.wait() }
        let c = try RawHTTPClient(port: proxy.port)
        try "routes: [ {".write(toFile: path, atomically: true, encoding: .utf8)
        proxy.reload()
        c.send(RawHTTPClient.post("/openai/v1/chat/completions", body: #"{"model":"gpt-5","messages":[]}"#))
        XCTAssertEqual(c.readResponse()?.status, 200)
        // A good file with the OpenAI route removed: new requests see the new routes.
        try good.replacingOccurrences(of: "/openai/v1/chat/completions", with: "/other/v1/chat/completions")
            .write(toFile: path, atomically: true, encoding: .utf8)
        proxy.reload()
        usleep(100_000)
        c.send(RawHTTPClient.post("/openai/v1/chat/completions", body: #"{"model":"gpt-5","messages":[]}"#))
        XCTAssertEqual(c.readResponse()?.status, 404)
        c.send(RawHTTPClient.post("/other/v1/chat/completions", body: #"{"model":"gpt-5","messages":[]}"#))
        XCTAssertEqual(c.readResponse()?.status, 200)
    }

    func testClientDisconnectMidStreamAbandonsUpstream() throws {
        let s = try TestStack(yaml: yaml())
        defer { s.stop() }
        do {
            let c = try s.client()
            c.send(RawHTTPClient.post("/openai/v1/chat/completions", body: #"{"model":"gpt-5+chunks=100+delay=50","stream":true,"messages":[]}"#))
            XCTAssertEqual(c.readHeadOnly()?.status, 200)
        }  // closed here, mid-stream
        usleep(200_000)
        // The proxy is healthy and the next request is served (not stuck behind the abandoned one).
        let d = try s.client()
        d.send(RawHTTPClient.post("/openai/v1/chat/completions", body: #"{"model":"gpt-5","messages":[]}"#))
        XCTAssertEqual(d.readResponse()?.status, 200)
    }
}

/// Several workers, each with its own loop, SO_REUSEPORT listener and pool, sharing the credential cache.
final class MultiWorkerTests: XCTestCase {
    func testTwoWorkersServeConcurrentClientsAndShareOneTokenRun() throws {
        let dir = NSTemporaryDirectory() + "mini-proxy-workers-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = dir + "/token.sh"
        try "#!/bin/sh\necho run >> \(dir)/runs\nsleep 0.3\necho tok-shared\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let mock = try MockServer(host: "127.0.0.1", port: 0)
        mock.start()
        defer { mock.stop() }
        let yaml = """
        access_log: false
        workers: 2
        upstreams:
          mock: { url: "http://127.0.0.1:\(mock.port)", auth: { command: [\(script)] } }
        routes:
          - { path: /openai/v1/chat/completions, upstream: mock, ingress: openai-chat, egress: openai-chat,
              upstream_path: /v1/openai/v1/chat/completions }
        """
        let proxy = try startProxy(yaml)
        defer { proxy.stop(); proxy.wait() }
        let port = proxy.port
        let failed = FailureCounter()
        DispatchQueue.concurrentPerform(iterations: 40) { _ in
            guard let c = try? RawHTTPClient(port: port) else { return failed.add() }
            for _ in 0..<5 {
                c.send(RawHTTPClient.post("/openai/v1/chat/completions", body: #"{"model":"gpt-5","messages":[]}"#))
                if c.readResponse()?.status != 200 { return failed.add() }
            }
        }
        XCTAssertEqual(failed.value, 0)
        let runs = (try? String(contentsOfFile: dir + "/runs", encoding: .utf8))?.split(separator: "\n").count
        XCTAssertEqual(runs, 1)
    }
}
