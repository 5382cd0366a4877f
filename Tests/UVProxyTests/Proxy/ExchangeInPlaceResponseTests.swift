import Foundation
import Glibc
import XCTest
@testable import UVProxy

/// A 2xx response whose body the route's translator passes through (the OpenAI pass-through with
/// `rename_max_tokens`) is answered straight from the read buffer when the head and the whole body
/// come in one read. The same response split across two reads takes the general path (collected,
/// then a `ClientResponse`). Both must give the client the same status, headers in the same order,
/// and body, for every shape of response below.
final class ExchangeInPlaceResponseTests: XCTestCase {
    private static func sendAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>) {
        var off = bytes.startIndex
        while off < bytes.endIndex {
            let n = bytes[off...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            off += n
        }
    }

    /// Answers every request on a connection with `response`: in one write, or split `split` bytes
    /// into the body with a pause between the two writes (so the proxy reads them separately).
    private func upstream(_ response: String, split: Bool) throws -> ScriptedUpstream {
        let bytes = Array(response.utf8)
        let headEnd = (bytes.indices.first { i in i + 4 <= bytes.count && Array(bytes[i..<(i + 4)]) == [13, 10, 13, 10] } ?? 0) + 4
        return try ScriptedUpstream { fd, _ in
            while ScriptedUpstream.readHead(fd) {
                if split && headEnd + 3 < bytes.count {
                    Self.sendAll(fd, bytes[0..<(headEnd + 3)])
                    usleep(50_000)
                    Self.sendAll(fd, bytes[(headEnd + 3)...])
                } else {
                    Self.sendAll(fd, bytes[...])
                }
            }
        }
    }

    private struct Seen: Equatable {
        var status: Int
        var headers: [String]
        var body: [UInt8]
    }

    /// Two requests on one client connection (the second must work after the first's fast answer).
    private func fetch(_ response: String, split: Bool, cors: Bool) throws -> (seen: [Seen], upstreamConnections: Int) {
        let up = try upstream(response, split: split)
        defer { up.stop() }
        let p = try startProxy("""
        access_log: false
        upstreams:
          up: { url: "http://127.0.0.1:\(up.port)" }
        routes:
          - { path: /v1/chat/completions, upstream: up, ingress: openai-chat, egress: openai-chat,
              upstream_path: /u, rename_max_tokens: true, cors: \(cors) }
        """)
        defer { p.stop(); p.wait() }
        let c = try RawHTTPClient(port: p.port)
        var seen: [Seen] = []
        for i in 0..<2 {
            let body = #"{"model":"gpt-5","messages":[{"role":"user","content":"hi"}],"max_tokens":5}"#
            c.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Request-Id: fixed-id-\(i)\r\n"
                   + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            let r = try XCTUnwrap(c.readResponse())
            seen.append(Seen(status: r.status, headers: r.headers.map { "\($0.0): \($0.1)" }, body: r.body))
        }
        return (seen, up.connections)
    }

    private func assertSameBothWays(_ response: String, cors: Bool = false, file: StaticString = #filePath, line: UInt = #line) throws {
        let whole = try fetch(response, split: false, cors: cors)
        let split = try fetch(response, split: true, cors: cors)
        XCTAssertEqual(whole.seen, split.seen, file: file, line: line)
        XCTAssertEqual(whole.seen.count, 2, file: file, line: line)
        XCTAssertEqual(whole.upstreamConnections, 1, "the upstream connection is reused after a fast answer", file: file, line: line)
        XCTAssertEqual(split.upstreamConnections, 1, file: file, line: line)
    }

    private static let body = #"{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"ok"}}]}"#

    func testJSONWithForwardedAndDroppedHeaders() throws {
        let r = "HTTP/1.1 200 OK\r\nDate: Tue, 01 Jan 2030 00:00:00 GMT\r\nContent-Type: application/json; charset=utf-8\r\n"
            + "x-ratelimit-remaining-requests: 99\r\nopenai-processing-ms: 12\r\nServer: up\r\nRequest-Id: req_1\r\n"
            + "Content-Length: \(Self.body.utf8.count)\r\n\r\n\(Self.body)"
        try assertSameBothWays(r)
        let seen = try fetch(r, split: false, cors: false).seen[0]
        XCTAssertEqual(seen.body, Array(Self.body.utf8))
        XCTAssertEqual(seen.headers.first, "Content-Type: application/json; charset=utf-8")
        XCTAssertTrue(seen.headers.contains("X-Request-Id: fixed-id-0"))
        XCTAssertTrue(seen.headers.contains("x-ratelimit-remaining-requests: 99"))
        XCTAssertTrue(seen.headers.contains("Request-Id: req_1"))
        XCTAssertFalse(seen.headers.contains { $0.hasPrefix("Server") || $0.hasPrefix("Date") })
    }

    func testNoContentTypeDefaultsToJSON() throws {
        let r = "HTTP/1.1 200 OK\r\nContent-Length: \(Self.body.utf8.count)\r\n\r\n\(Self.body)"
        try assertSameBothWays(r)
        XCTAssertEqual(try fetch(r, split: false, cors: false).seen[0].headers.first, "Content-Type: application/json")
    }

    func testCORSRouteAndOtherSuccessStatus() throws {
        let r = "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: \(Self.body.utf8.count)\r\n\r\n\(Self.body)"
        try assertSameBothWays(r, cors: true)
        let seen = try fetch(r, split: false, cors: true).seen[0]
        XCTAssertEqual(seen.status, 201)
        XCTAssertTrue(seen.headers.contains { $0.hasPrefix("Access-Control-Allow-Origin: ") })
    }

    func testEmptyAndOddContentTypeValues() throws {
        try assertSameBothWays("HTTP/1.1 200 OK\r\nContent-Type:\r\nContent-Length: 2\r\n\r\n{}")
        // obs-text in the value: the general path repairs it to U+FFFD, so the fast path steps aside.
        try assertSameBothWays("HTTP/1.1 200 OK\r\nContent-Type: application/json; x=\u{e9}\r\nContent-Length: 2\r\n\r\n{}")
        // Two Content-Type fields: the first one wins on both paths.
        try assertSameBothWays("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
    }

    func testErrorsAndEmptyBodiesTakeTheGeneralPath() throws {
        try assertSameBothWays("HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: 7\r\n"
                               + "Content-Length: 2\r\n\r\n{}")
        try assertSameBothWays("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r\n")
    }
}
