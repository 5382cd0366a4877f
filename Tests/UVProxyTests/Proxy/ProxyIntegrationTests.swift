import Foundation
import XCTest
@testable import UVProxy

/// The proxy and the mock upstream over real loopback sockets (plain HTTP upstream; TLS has its own tests).
final class ProxyIntegrationTests: XCTestCase {
    var stack: TestStack!

    override func setUpWithError() throws {
        stack = try TestStack(yaml: TestStack.basicConfig)
    }

    override func tearDown() {
        stack?.stop()
        stack = nil
    }

    func testHealthz() throws {
        let c = try stack.client()
        c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        let r = try XCTUnwrap(c.readResponse())
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.text, #"{"status":"ok"}"#)
        XCTAssertNotNil(r.header("x-request-id"))
    }

    func testNonStreamChatPassesThrough() throws {
        let c = try stack.client()
        c.send(RawHTTPClient.post("/openai/v1/chat/completions", body: #"{"model":"gpt-5","messages":[{"role":"user","content":"hi"}]}"#))
        let r = try XCTUnwrap(c.readResponse())
        XCTAssertEqual(r.status, 200)
        let choices = try XCTUnwrap(r.json?["choices"] as? [[String: Any]])
        XCTAssertEqual((choices[0]["message"] as? [String: Any])?["role"] as? String, "assistant")
        XCTAssertEqual(r.header("x-ratelimit-remaining-requests"), "999")
    }

    func testUpstreamSeesEditedBodyAndHeadersButNoClientCredentials() throws {
        let c = try stack.client()
        let body = #"{"model":"gpt-5+echo","messages":[{"role":"user","content":"hi"}],"max_tokens":  77,"x_unknown":{"a":[1,2.50,"\u00e9"]}}"#
        c.send(RawHTTPClient.post("/openai/v1/chat/completions", body: body,
                                  headers: ["Authorization": "Bearer client-secret", "x-api-key": "k", "Cookie": "c=1", "X-Request-Id": "abc-123"]))
        let r = try XCTUnwrap(c.readResponse())
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.header("x-request-id"), "abc-123")
        let content = try XCTUnwrap(((r.json?["choices"] as? [[String: Any]])?[0]["message"] as? [String: Any])?["content"] as? String)
        let echo = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(content.utf8)) as? [String: Any])
        XCTAssertEqual(echo["path"] as? String, "/v1/openai/v1/chat/completions")
        let headers = try XCTUnwrap(echo["headers"] as? [String: String])
        XCTAssertNil(headers["authorization"])
        XCTAssertNil(headers["x-api-key"])
        XCTAssertNil(headers["cookie"])
        XCTAssertEqual(headers["x-atlassian-cloudid"], "cloud-1")
        XCTAssertEqual(headers["x-request-id"], "abc-123")
        XCTAssertTrue(headers["user-agent"]?.hasPrefix("mini-proxy/") ?? false)
        XCTAssertEqual(headers["host"], "127.0.0.1:\(stack.mock.port)")
        let upstreamBody = try XCTUnwrap(echo["body"] as? String)
        XCTAssertTrue(upstreamBody.contains(#""max_completion_tokens":  77"#), upstreamBody)
        XCTAssertFalse(upstreamBody.contains(#""max_tokens""#), upstreamBody)
        XCTAssertTrue(upstreamBody.contains(#""x_unknown":{"a":[1,2.50,"\u00e9"]}"#), "unknown fields must pass byte-exact: \(upstreamBody)")
    }

    func testStreamArrivesEventByEvent() throws {
        let c = try stack.client()
        c.send(RawHTTPClient.post("/openai/v1/chat/completions",
                                  body: #"{"model":"gpt-5+chunks=4+delay=80","stream":true,"messages":[]}"#))
        let head = try XCTUnwrap(c.readHeadOnly())
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.header("content-type"), "text/event-stream")
        var arrivals: [Date] = []
        let body = try XCTUnwrap(c.readChunked { _ in arrivals.append(Date()) })
        let text = String(decoding: body, as: UTF8.self)
        XCTAssertTrue(text.hasSuffix("data: [DONE]\n\n"), text)
        XCTAssertEqual(text.components(separatedBy: "data: ").count - 1, 4 + 3)
        // Events 80 ms apart upstream must reach the client as separate writes, not one batch.
        XCTAssertGreaterThanOrEqual(arrivals.count, 4)
        let spread = arrivals.last!.timeIntervalSince(arrivals.first!)
        XCTAssertGreaterThan(spread, 0.2)
    }

    func testKeepAliveAndPipelinedRequestsAnsweredInOrder() throws {
        let c = try stack.client()
        let a = RawHTTPClient.post("/openai/v1/chat/completions", body: #"{"model":"first+echo","messages":[]}"#)
        let b = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        let d = RawHTTPClient.post("/openai/v1/chat/completions", body: #"{"model":"third+echo","messages":[]}"#)
        c.send(a + b + d)
        let r1 = try XCTUnwrap(c.readResponse())
        let r2 = try XCTUnwrap(c.readResponse())
        let r3 = try XCTUnwrap(c.readResponse())
        XCTAssertTrue(r1.text.contains("first"))
        XCTAssertEqual(r2.text, #"{"status":"ok"}"#)
        XCTAssertTrue(r3.text.contains("third"))
    }

    func testBodyInSplitWritesAndChunkedAndExpectContinue() throws {
        let c = try stack.client()
        let body = #"{"model":"gpt-5","messages":[]}"#
        c.send("POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n")
        let cont = try XCTUnwrap(c.readHeadOnly())
        XCTAssertEqual(cont.status, 100)
        let bytes = Array(body.utf8)
        c.send(String(format: "%x\r\n", 5) + String(decoding: bytes[0..<5], as: UTF8.self) + "\r\n")
        usleep(20_000)
        c.send(String(format: "%x\r\n", bytes.count - 5) + String(decoding: bytes[5...], as: UTF8.self) + "\r\n0\r\n\r\n")
        let r = try XCTUnwrap(c.readResponse())
        XCTAssertEqual(r.status, 200)
    }

    func testRejectsSmugglingAndCloses() throws {
        let vectors = [
            "POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
            "POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n",
            "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\n\r\n",
            "GET /healthz HTTP/1.1\r\nHost: x\rX: y\r\n\r\n",
        ]
        for v in vectors {
            let c = try stack.client()
            c.send(v)
            let r = try XCTUnwrap(c.readResponse(), v)
            XCTAssertEqual(r.status, 400, v)
            XCTAssertNotNil((r.json?["error"] as? [String: Any])?["message"] as? String, v)
            XCTAssertEqual(r.header("connection"), "close", v)
            XCTAssertTrue(c.readEOF(), v)
        }
    }

    func testLimits() throws {
        let c = try stack.client()
        c.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 70_000))\r\n\r\n")
        XCTAssertEqual(c.readResponse()?.status, 431)
        let d = try stack.client()
        d.send("POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n")
        XCTAssertEqual(d.readResponse()?.status, 413)
    }

    func testErrorsInEachDialect() throws {
        let c = try stack.client()
        c.send(RawHTTPClient.post("/openai/v1/chat/completions", body: "{not json"))
        let r = try XCTUnwrap(c.readResponse())
        XCTAssertEqual(r.status, 400)
        XCTAssertEqual((r.json?["error"] as? [String: Any])?["type"] as? String, "invalid_request_error")

        c.send(RawHTTPClient.post("/bedrock/claude/v1/messages", body: #"{"messages":[]}"#))
        let a = try XCTUnwrap(c.readResponse())
        XCTAssertEqual(a.status, 400)
        XCTAssertEqual(a.json?["type"] as? String, "error")

        c.send("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(c.readResponse()?.status, 404)
        c.send("GET /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\n\r\n")
        let m = try XCTUnwrap(c.readResponse())
        XCTAssertEqual(m.status, 405)
        XCTAssertNotNil(m.json?["error"])
    }

    func testModelsList() throws {
        let c = try stack.client()
        c.send("GET /openai/v1/models HTTP/1.1\r\nHost: x\r\n\r\n")
        let r = try XCTUnwrap(c.readResponse())
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.json?["object"] as? String, "list")
        XCTAssertEqual(((r.json?["data"] as? [[String: Any]])?.first)?["id"] as? String, "gpt-5")
    }

    func testPassthroughPrefixRewriteAnyMethod() throws {
        let c = try stack.client()
        c.send("PUT /google/v1/things/7?alt=sse HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nX-Custom: yes\r\nContent-Length: 3\r\n\r\nabc")
        let r = try XCTUnwrap(c.readResponse())
        XCTAssertEqual(r.status, 200)
        let echo = try XCTUnwrap(r.json)
        XCTAssertEqual(echo["method"] as? String, "PUT")
        XCTAssertEqual(echo["path"] as? String, "/v1/google/v1/things/7?alt=sse")
        XCTAssertEqual(echo["body"] as? String, "abc")
        XCTAssertEqual((echo["headers"] as? [String: String])?["x-custom"], "yes")
    }

    func testUpstreamErrorKeepsStatusAndRetryAfter() throws {
        let c = try stack.client()
        // A Retry-After past the retry deadline (30 s) is answered at once, with the header.
        c.send(RawHTTPClient.post("/openai/v1/chat/completions", body: #"{"model":"gpt-5+status=429+retry-after=60","messages":[]}"#))
        let r = try XCTUnwrap(c.readResponse())
        XCTAssertEqual(r.status, 429)
        XCTAssertEqual(r.header("retry-after"), "60")
        XCTAssertNotNil(r.json?["error"])
    }

    func testUpstreamFaultsBecomeGatewayErrors() throws {
        for (fault, status) in [("reset-before-head", 502), ("bad-status", 502), ("bad-chunk", 502), ("truncated-json", 502)] {
            let c = try stack.client()
            c.send(RawHTTPClient.post("/openai/v1/chat/completions", body: "{\"model\":\"gpt-5+fault=\(fault)\",\"messages\":[]}"))
            let r = try XCTUnwrap(c.readResponse(), fault)
            XCTAssertEqual(r.status, status, fault)
            XCTAssertNotNil((r.json?["error"] as? [String: Any])?["message"], fault)
        }
        let c = try stack.client()
        c.send(RawHTTPClient.post("/openai/v1/chat/completions", body: #"{"model":"gpt-5+fault=close-delimited","messages":[]}"#))
        XCTAssertEqual(c.readResponse()?.status, 200)
    }

    func testMidStreamFailureEndsWithErrorEvent() throws {
        let c = try stack.client()
        c.send(RawHTTPClient.post("/openai/v1/chat/completions", body: #"{"model":"gpt-5+fault=reset-mid","stream":true,"messages":[]}"#))
        let head = try XCTUnwrap(c.readHeadOnly())
        XCTAssertEqual(head.status, 200)
        let text = String(decoding: try XCTUnwrap(c.readChunked()), as: UTF8.self)
        XCTAssertTrue(text.contains(#"data: {"error":"#), text)
        XCTAssertTrue(text.hasSuffix("data: [DONE]\n\n"), text)
    }

    func testManyConcurrentClients() throws {
        let port = stack.proxyPort
        let failed = FailureCounter()
        DispatchQueue.concurrentPerform(iterations: 50) { _ in
            guard let c = try? RawHTTPClient(port: port) else { return failed.add() }
            for _ in 0..<10 {
                c.send(RawHTTPClient.post("/openai/v1/chat/completions", body: #"{"model":"gpt-5","messages":[]}"#))
                if c.readResponse()?.status != 200 { return failed.add() }
            }
        }
        XCTAssertEqual(failed.value, 0)
    }
}

/// Pass-through request bodies stream to the upstream as they arrive.
final class StreamedRequestBodyTests: XCTestCase {
    func testChunkedAndSizedBodiesReachTheUpstreamIntact() throws {
        let stack = try TestStack(yaml: TestStack.basicConfig)
        defer { stack.stop() }
        let piece = String(repeating: "abcdefghij", count: 6_554)  // 65,540 bytes
        // Chunked, sent in several writes with pauses.
        let c = try stack.client()
        c.send("POST /google/upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n")
        for _ in 0..<8 {
            c.send(String(format: "%x\r\n", piece.utf8.count) + piece + "\r\n")
            usleep(5_000)
        }
        c.send("0\r\n\r\n")
        let r = try XCTUnwrap(c.readResponse())
        XCTAssertEqual(r.status, 200)
        let echo = try XCTUnwrap(r.json)
        XCTAssertEqual((echo["body"] as? String)?.utf8.count, piece.utf8.count * 8)
        XCTAssertEqual((echo["headers"] as? [String: String])?["transfer-encoding"], "chunked")
        // Content-Length, on the same keep-alive connection.
        let body = String(repeating: "z", count: 300_000)
        c.send("PUT /google/upload HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n")
        c.send(body)
        let s = try XCTUnwrap(c.readResponse())
        XCTAssertEqual(s.status, 200)
        XCTAssertEqual((s.json?["body"] as? String)?.utf8.count, body.utf8.count)
        XCTAssertEqual((s.json?["headers"] as? [String: String])?["content-length"], String(body.utf8.count))
    }

    func testSlowUpstreamPausesTheUploadAndEverythingArrives() throws {
        // The upstream reads 64 KiB every 20 ms: the proxy must hold back the client, not buffer it all.
        let total = 4 << 20
        let upstream = try ScriptedUpstream { fd, _ in
            var head = [UInt8]()
            var byte: UInt8 = 0
            while read(fd, &byte, 1) == 1 {
                head.append(byte)
                if head.count >= 4, head.suffix(4) == [13, 10, 13, 10] { break }
            }
            var got = 0
            var buf = [UInt8](repeating: 0, count: 65536)
            while got < total {
                let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, min(65536, total - got)) }
                if n <= 0 { break }
                got += n
                usleep(20_000)
            }
            ScriptedUpstream.write(fd, "HTTP/1.1 200 OK\r\nContent-Length: \(String(got).utf8.count)\r\n\r\n\(got)")
        }
        defer { upstream.stop() }
        let yaml = """
        access_log: false
        upstreams:
          up: { url: "http://127.0.0.1:\(upstream.port)" }
        routes:
          - { path: /upload, upstream: up, ingress: passthrough, egress: passthrough, upstream_path: /upload }
        """
        let p = try startProxy(yaml)
        defer { p.stop(); p.wait() }
        let c = try RawHTTPClient(port: p.port)
        c.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: \(total)\r\n\r\n")
        let chunk = [UInt8](repeating: 0x61, count: 1 << 20)
        for _ in 0..<4 { c.send(chunk) }
        let r = try XCTUnwrap(c.readResponse())
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.text, String(total))
    }

    /// A pass-through request's head waits for its body's first piece and leaves with it (one write, one
    /// wake-up of the upstream): sent while the client pauses between head and body, the upstream's first
    /// byte would come ~300 ms before the body's. Sized and chunked bodies, and an early end of a chunked
    /// body (the last chunk only).
    func testAStreamedBodysHeadLeavesWithItsFirstPiece() throws {
        final class Arrivals: @unchecked Sendable {
            let lock = NSLock()
            var firstByte: [Date] = []
            var heads: [String] = []
            var bodies: [String] = []
        }
        let arrivals = Arrivals()
        let upstream = try ScriptedUpstream { fd, _ in
            while true {
                var first: UInt8 = 0
                guard read(fd, &first, 1) == 1 else { return }
                let at = Date()
                var head = [first]
                var byte: UInt8 = 0
                while head.suffix(4) != [13, 10, 13, 10], read(fd, &byte, 1) == 1 { head.append(byte) }
                let text = String(decoding: head, as: UTF8.self)
                var body = [UInt8]()
                if let line = text.split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("content-length:") }) {
                    let n = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) ?? 0
                    while body.count < n, read(fd, &byte, 1) == 1 { body.append(byte) }
                } else {  // chunked: up to the last chunk's empty line
                    while !(body.count >= 5 && body.suffix(5) == Array("0\r\n\r\n".utf8)), read(fd, &byte, 1) == 1 { body.append(byte) }
                }
                arrivals.lock.lock()
                arrivals.firstByte.append(at)
                arrivals.heads.append(text)
                arrivals.bodies.append(String(decoding: body, as: UTF8.self))
                arrivals.lock.unlock()
                ScriptedUpstream.write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            }
        }
        defer { upstream.stop() }
        let p = try startProxy("""
        access_log: false
        upstreams:
          up: { url: "http://127.0.0.1:\(upstream.port)" }
        routes:
          - { path: /upload, upstream: up, ingress: passthrough, egress: passthrough, upstream_path: /upload }
        """)
        defer { p.stop(); p.wait() }
        let c = try RawHTTPClient(port: p.port)
        let cases: [(head: String, body: [String], upstreamBody: String)] = [
            ("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n", ["hello", " world"], "hello world"),
            ("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", ["5\r\nhello\r\n", "0\r\n\r\n"],
             "5\r\nhello\r\n0\r\n\r\n"),
            ("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", ["0\r\n\r\n"], "0\r\n\r\n"),
        ]
        for (i, t) in cases.enumerated() {
            c.send(t.head)
            let headSent = Date()
            usleep(300_000)
            let bodySent = Date()
            for piece in t.body { c.send(piece) }
            let r = try XCTUnwrap(c.readResponse(), "case \(i)")
            XCTAssertEqual(r.status, 200, "case \(i)")
            arrivals.lock.lock()
            let first = arrivals.firstByte[i], head = arrivals.heads[i], body = arrivals.bodies[i]
            arrivals.lock.unlock()
            XCTAssertTrue(head.hasPrefix("POST /upload HTTP/1.1\r\n"), "case \(i): \(head)")
            XCTAssertEqual(body, t.upstreamBody, "case \(i)")
            // Nothing reached the upstream before the body left the client (the head waited for it).
            XCTAssertGreaterThanOrEqual(first.timeIntervalSince(bodySent), -0.005, "case \(i)")
            XCTAssertGreaterThan(first.timeIntervalSince(headSent), 0.25, "case \(i)")
        }
        XCTAssertEqual(upstream.connections, 1)
    }

    /// An OpenAI Chat route (its body collected and checked, then sent as it came) to `upstream`.
    private static func chatRoute(to upstream: ScriptedUpstream) -> String {
        """
        access_log: false
        upstreams:
          up: { url: "http://127.0.0.1:\(upstream.port)" }
        routes:
          - { path: /v1/chat/completions, upstream: up, ingress: openai-chat, egress: openai-chat, upstream_path: /v1/chat/completions }
        """
    }

    func testACollectedBodyTheKernelDoesNotTakeAtOnceArrivesWhole() throws {
        // A translated route writes the request head and the body from where it lies in one writev; an
        // upstream that reads slowly makes the kernel take part of it (a cut in the body) and the rest
        // is queued. The upstream gets the head and every body byte, in order.
        let text = (0..<400_000).map { "word\($0 % 1000) " }.joined()
        let body = #"{"model":"gpt-5","messages":[{"role":"user","content":"\#(text)"}]}"#
        let expected = Array(body.utf8)
        let upstream = try ScriptedUpstream { fd, _ in
            let head = ScriptedUpstream.headBytes(fd)
            usleep(200_000)  // everything the kernel did not take waits in the proxy
            let length = ScriptedUpstream.contentLength(head)
            var got = [UInt8]()
            var buf = [UInt8](repeating: 0, count: 65536)
            while got.count < max(length, 0) {
                let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, min(65536, length - got.count)) }
                if n <= 0 { break }
                got += buf[0..<n]
                usleep(2_000)
            }
            ScriptedUpstream.writeJSON(fd, #"{"length":\#(length),"same":\#(got == expected)}"#)
        }
        defer { upstream.stop() }
        let p = try startProxy(Self.chatRoute(to: upstream))
        defer { p.stop(); p.wait() }
        let c = try RawHTTPClient(port: p.port)
        c.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(expected.count)\r\n\r\n")
        c.send(expected)
        let r = try XCTUnwrap(c.readResponse())
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.text, #"{"length":\#(expected.count),"same":true}"#)
    }

    func testCollectedBodiesReadInPiecesWithAPipelinedRequestBehind() throws {
        // A collected body with a Content-Length is read straight into its own storage, each read at most
        // what is still due: bodies sent in pieces (a pause between them, so that each is its own read),
        // then the end of one body and the whole next request in one send. Each upstream request carries
        // its body exactly, and nothing of the next request.
        func body(_ k: Int, _ size: Int) -> [UInt8] {
            Array(#"{"model":"gpt-5","messages":[{"role":"user","content":"\#(k):\#(String(repeating: "ab", count: size))"}]}"#.utf8)
        }
        let bodies = [body(1, 150_000), body(2, 40), body(3, 70_000)]
        let upstream = try ScriptedUpstream { fd, _ in
            while true {
                let head = ScriptedUpstream.headBytes(fd)
                if head.isEmpty { return }
                let length = max(0, ScriptedUpstream.contentLength(head))
                var got = [UInt8](repeating: 0, count: length)
                var n = 0
                while n < length {
                    let r = got.withUnsafeMutableBytes { read(fd, $0.baseAddress! + n, length - n) }
                    if r <= 0 { return }
                    n += r
                }
                let which = bodies.firstIndex(of: got).map { $0 + 1 } ?? 0
                ScriptedUpstream.writeJSON(fd, #"{"body":\#(which)}"#)
            }
        }
        defer { upstream.stop() }
        let p = try startProxy(Self.chatRoute(to: upstream))
        defer { p.stop(); p.wait() }
        func head(_ b: [UInt8]) -> [UInt8] {
            Array("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: \(b.count)\r\n\r\n".utf8)
        }
        let c = try RawHTTPClient(port: p.port)
        let first = bodies[0]
        c.send(head(first) + first[0..<10])
        for cut in [(10, 999), (999, 70_000), (70_000, 150_000)] {
            usleep(30_000)
            c.send(Array(first[cut.0..<cut.1]))
        }
        usleep(30_000)
        // The end of the first body, the second request whole, the head and first byte of the third.
        c.send(Array(first[150_000...]) + head(bodies[1]) + bodies[1] + head(bodies[2]) + bodies[2][0..<1])
        usleep(30_000)
        c.send(Array(bodies[2][1...]))
        for k in 1...3 {
            let r = try XCTUnwrap(c.readResponse(), "answer \(k)")
            XCTAssertEqual(r.status, 200)
            XCTAssertEqual(r.text, #"{"body":\#(k)}"#)
        }
    }
}

/// Header rules on pass-through routes: `set_headers` and `remove_headers`.
final class HeaderRuleTests: XCTestCase {
    func testSetAndRemoveHeadersOnAPassThroughRoute() throws {
        let stack = try TestStack(yaml: """
        access_log: false
        upstreams:
          mock:
            url: MOCK_URL
            headers: { X-Atlassian-CloudId: cloud-1, X-Upstream-Only: yes }
        routes:
          - path: /google/*
            upstream: mock
            ingress: passthrough
            upstream_path: /v1/google/
            set_headers: { X-Set: "from-config", X-Custom: "overridden" }
            remove_headers: [x-drop, x-upstream-only]
        """)
        defer { stack.stop() }
        let c = try stack.client()
        c.send("GET /google/v1/models HTTP/1.1\r\nHost: x\r\nX-Drop: 1\r\nX-Keep: 2\r\nX-Custom: client\r\nAuthorization: Bearer secret\r\n\r\n")
        let r = try XCTUnwrap(c.readResponse())
        XCTAssertEqual(r.status, 200)
        let headers = try XCTUnwrap(r.json?["headers"] as? [String: String])
        XCTAssertEqual(headers["x-set"], "from-config")
        XCTAssertEqual(headers["x-custom"], "overridden")
        XCTAssertEqual(headers["x-keep"], "2")
        XCTAssertNil(headers["x-drop"])
        XCTAssertNil(headers["x-upstream-only"])
        XCTAssertNil(headers["authorization"])
        XCTAssertEqual(headers["x-atlassian-cloudid"], "cloud-1")
        XCTAssertEqual(r.json?["path"] as? String, "/v1/google/v1/models")
    }
}
