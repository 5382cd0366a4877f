import Foundation
import Glibc
import XCTest
@testable import UVProxy

/// A 2xx response whose body the route's translator passes through (the OpenAI pass-through with
/// `rename_max_tokens`) is answered straight from the read buffer when the head and the whole body
/// come in one read. The same response split across two reads (head and one body byte, then the
/// rest) takes the general path (collected, then a `ClientResponse`). Both must give the client the
/// same head bytes and body, for every shape of response below, and the proxy's counter shows which
/// path ran.
final class ExchangeInPlaceResponseTests: XCTestCase {
    private static func headEnd(_ bytes: [UInt8]) -> Int {
        (bytes.indices.first { i in i + 4 <= bytes.count && Array(bytes[i..<(i + 4)]) == [13, 10, 13, 10] } ?? 0) + 4
    }

    /// Answers every request on a connection with `response`: in one write, or split one byte into
    /// the body with a pause between the two writes (so the proxy reads them separately).
    private func upstream(_ response: [UInt8], split: Bool) throws -> ScriptedUpstream {
        let headEnd = Self.headEnd(response)
        return try ScriptedUpstream { fd, _ in
            while ScriptedUpstream.readHead(fd) {
                if split && headEnd < response.count {
                    ScriptedUpstream.sendAll(fd, response[0..<(headEnd + 1)])
                    usleep(50_000)
                    ScriptedUpstream.sendAll(fd, response[(headEnd + 1)...])
                } else {
                    ScriptedUpstream.sendAll(fd, response[...])
                }
            }
        }
    }

    private struct Seen: Equatable {
        var head: [UInt8]
        var body: [UInt8]
        var text: String { String(decoding: head, as: UTF8.self) }
    }

    /// Two requests on one client connection (the second must work after the first's answer).
    private func fetch(_ response: [UInt8], split: Bool, cors: Bool = false) throws -> (seen: [Seen], upstreamConnections: Int, inPlace: Int) {
        let up = try upstream(response, split: split)
        defer { up.stop() }
        let p = try startProxy("""
        access_log: false
        upstreams:
          up: { url: "http://127.0.0.1:\(up.port)" }
        routes:
          - { path: /v1/chat/completions, upstream: up, ingress: openai-chat, egress: openai-chat,
              upstream_path: /u, rename_max_tokens: true, cors: \(cors), retries: false }
        """)
        defer { p.stop(); p.wait() }
        let c = try RawHTTPClient(port: p.port)
        var seen: [Seen] = []
        for i in 0..<2 {
            let body = #"{"model":"gpt-5","messages":[{"role":"user","content":"hi"}],"max_tokens":5}"#
            c.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Request-Id: fixed-id-\(i)\r\n"
                   + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            let r = try XCTUnwrap(c.readResponse())
            seen.append(Seen(head: r.rawHead, body: r.body))
        }
        return (seen, up.connections, p.inPlaceResponseCount())
    }

    /// Same bytes both ways; the whole response took the fast path (or not, if `fast` is false), the
    /// split one never did; keep-alive worked on both.
    private func assertSameBothWays(_ response: [UInt8], fast: Bool = true, cors: Bool = false,
                                    file: StaticString = #filePath, line: UInt = #line) throws -> Seen {
        let whole = try fetch(response, split: false, cors: cors)
        let split = try fetch(response, split: true, cors: cors)
        XCTAssertEqual(whole.seen.count, 2, file: file, line: line)
        XCTAssertEqual(whole.seen, split.seen, "\(whole.seen.map(\.text)) vs \(split.seen.map(\.text))", file: file, line: line)
        XCTAssertEqual(whole.inPlace, fast ? 2 : 0, "answers from the read buffer", file: file, line: line)
        XCTAssertEqual(split.inPlace, 0, "a body in two reads takes the general path", file: file, line: line)
        XCTAssertEqual(whole.upstreamConnections, 1, "the upstream connection is reused", file: file, line: line)
        XCTAssertEqual(split.upstreamConnections, 1, file: file, line: line)
        return try XCTUnwrap(whole.seen.first)
    }

    private static let body = #"{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"ok"}}]}"#

    private static func response(_ head: String, body: String = body) -> [UInt8] {
        Array((head + "Content-Length: \(body.utf8.count)\r\n\r\n" + body).utf8)
    }

    func testJSONWithForwardedAndDroppedHeaders() throws {
        let r = Self.response("HTTP/1.1 200 OK\r\nDate: Tue, 01 Jan 2030 00:00:00 GMT\r\nContent-Type: application/json; charset=utf-8\r\n"
            + "x-ratelimit-remaining-requests: 99\r\nopenai-processing-ms: 12\r\nServer: up\r\nRequest-Id: req_1\r\n")
        let seen = try assertSameBothWays(r)
        XCTAssertEqual(seen.body, Array(Self.body.utf8))
        let lines = seen.text.components(separatedBy: "\r\n")
        XCTAssertEqual(lines.first, "HTTP/1.1 200 OK")
        XCTAssertEqual(lines.dropFirst().first, "Content-Type: application/json; charset=utf-8")
        XCTAssertTrue(lines.contains("X-Request-Id: fixed-id-0"))
        XCTAssertTrue(lines.contains("x-ratelimit-remaining-requests: 99"))
        XCTAssertTrue(lines.contains("openai-processing-ms: 12"))
        XCTAssertTrue(lines.contains("Request-Id: req_1"))
        XCTAssertTrue(lines.contains("Content-Length: \(Self.body.utf8.count)"))
        XCTAssertFalse(lines.contains { $0.hasPrefix("Server") || $0.hasPrefix("Date") })
    }

    func testNoContentTypeDefaultsToJSON() throws {
        let seen = try assertSameBothWays(Self.response("HTTP/1.1 200 OK\r\n"))
        XCTAssertTrue(seen.text.contains("\r\nContent-Type: application/json\r\n"))
    }

    func testCORSRouteAndOtherSuccessStatus() throws {
        let seen = try assertSameBothWays(Self.response("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"), cors: true)
        XCTAssertTrue(seen.text.hasPrefix("HTTP/1.1 201 "))
        XCTAssertTrue(seen.text.contains("\r\nAccess-Control-Allow-Origin: "))
    }

    func testEmptyAndDuplicatedContentType() throws {
        let empty = try assertSameBothWays(Self.response("HTTP/1.1 200 OK\r\nContent-Type:\r\n"))
        XCTAssertTrue(empty.text.contains("\r\nContent-Type: \r\n"))
        // Two Content-Type fields: the first one wins on both paths.
        let two = try assertSameBothWays(Self.response("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Type: application/json\r\n"))
        XCTAssertTrue(two.text.contains("\r\nContent-Type: text/plain\r\n"))
    }

    /// A lone 0xE9 (obs-text) in the value: the general path reads it as a String and sends U+FFFD
    /// (EF BF BD); copying the raw byte would differ, so the fast path steps aside.
    func testObsTextContentTypeStepsAside() throws {
        var r = Array("HTTP/1.1 200 OK\r\nContent-Type: application/json; x=".utf8)
        r.append(0xE9)
        r += Array("\r\n".utf8) + Self.response("", body: Self.body)
        let seen = try assertSameBothWays(r, fast: false)
        XCTAssertNotNil(seen.head.firstRange(of: [0xEF, 0xBF, 0xBD]), seen.text)
    }

    func testErrorsAndEmptyBodiesTakeTheGeneralPath() throws {
        _ = try assertSameBothWays(Self.response("HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: 7\r\n",
                                                 body: #"{"error":{"message":"slow down"}}"#), fast: false)
        _ = try assertSameBothWays(Self.response("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n", body: ""), fast: false)
    }
}
