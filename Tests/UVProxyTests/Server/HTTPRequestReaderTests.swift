import XCTest

@testable import UVProxy
@testable import HTTP1

/// The server connection's reading half without a socket: bytes in, request events out, fed the way
/// the connection feeds it (one buffer, consumed bytes dropped, the rest offered again with more),
/// and in every delivery the network could make (whole, byte by byte, split in two at every index).
final class HTTPRequestReaderTests: XCTestCase {
    struct Outcome: Equatable, CustomStringConvertible {
        /// "head METHOD target [continue]", "body TEXT" (adjacent pieces joined), "end", "failure STATUS MESSAGE".
        var events: [String]
        /// Bytes offered but not yet used (an incomplete head).
        var pending: Int
        var description: String { "\(events) pending=\(pending)" }

        /// The same with failure messages cut to their status, for comparing with expectations.
        var statusesOnly: Outcome {
            Outcome(events: events.map { $0.hasPrefix("failure ") ? String($0.prefix(11)) : $0 }, pending: pending)
        }
    }

    static func run(_ chunks: [[UInt8]], limits: HTTPLimits = HTTPLimits()) -> Outcome {
        var reader = HTTPRequestReader(limits: limits)
        var buffer: [UInt8] = []
        var events: [String] = []
        func add(_ e: String) {
            if e.hasPrefix("body "), let last = events.last, last.hasPrefix("body ") {
                events[events.count - 1] = last + e.dropFirst(5)
            } else {
                events.append(e)
            }
        }
        feeding: for chunk in chunks {
            buffer += chunk
            while true {
                let (event, used) = buffer.withUnsafeBytes { b -> (String?, Int) in
                    let (event, used) = reader.next(b)
                    XCTAssertLessThanOrEqual(used, b.count)
                    switch event {
                    case .needMore: return (nil, used)
                    case .head(let h, let sendContinue):
                        return ("head \(String(decoding: h.bytes[h.method], as: UTF8.self)) \(h.targetString)\(sendContinue ? " continue" : "")", used)
                    case .body(let piece):
                        XCTAssertFalse(piece.isEmpty)
                        return ("body " + String(decoding: piece, as: UTF8.self), used)
                    case .end: return ("end", used)
                    case .failure(let status, let message): return ("failure \(status) \(message)", used)
                    }
                }
                buffer.removeFirst(used)
                guard let event else { break }
                add(event)
                if event.hasPrefix("failure") { break feeding }
            }
        }
        return Outcome(events: events, pending: buffer.count)
    }

    func check(_ name: String, _ input: String, _ expected: [String], pending: Int = 0, limits: HTTPLimits = HTTPLimits(),
               file: StaticString = #filePath, line: UInt = #line) {
        let outcome = Feeding.agree(Array(input.utf8), name: name, file: file, line: line) { Self.run($0, limits: limits) }
        XCTAssertEqual(outcome.statusesOnly, Outcome(events: expected, pending: pending), name, file: file, line: line)
    }

    func testRequestsWithoutBodies() {
        check("GET", "GET /a HTTP/1.1\r\nHost: x\r\n\r\n", ["head GET /a", "end"])
        check("Content-Length 0", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", ["head POST /a", "end"])
        check("HTTP/1.0", "GET / HTTP/1.0\r\n\r\n", ["head GET /", "end"])
    }

    func testContentLengthBody() {
        check("body", "POST /v1/chat HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", ["head POST /v1/chat", "body hello", "end"])
        check("body still arriving", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nhel", ["head POST /a", "body hel"])
    }

    func testChunkedBody() {
        check("chunked", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2;ext=1\r\nlo\r\n0\r\nX-T: 1\r\n\r\n",
              ["head POST /a", "body hello", "end"])
        check("chunked still arriving", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhe",
              ["head POST /a", "body he"])
    }

    func testPipelinedRequests() {
        let get = "GET /models HTTP/1.1\r\nHost: x\r\n\r\n"
        let post = "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"
        let chunked = "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n!\r\n0\r\n\r\n"
        check("three pipelined", get + post + chunked + get,
              ["head GET /models", "end", "head POST /b", "body hi", "end", "head POST /c", "body !", "end", "head GET /models", "end"])
        check("a partial head after a request", post + "GET /next HT", ["head POST /b", "body hi", "end"], pending: 12)
        check("a partial head only", "GET /a HTTP/1.1\r\nHo", [], pending: 19)
    }

    func testExpectContinue() {
        check("Content-Length", "POST /a HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi",
              ["head POST /a continue", "body hi", "end"])
        check("chunked", "POST /a HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
              ["head POST /a continue", "end"])
        check("no body to wait for", "GET /a HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n", ["head GET /a", "end"])
        check("HTTP/1.0", "POST /a HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n!", ["head POST /a", "body !", "end"])
    }

    func testLimits() {
        let small = HTTPLimits(maxHeadBytes: 64, maxHeaderCount: 3, maxBodyBytes: 4)
        check("head too large", "GET /a HTTP/1.1\r\nHost: x\r\nX-Long: " + String(repeating: "a", count: 80) + "\r\n\r\n",
              ["failure 431"], limits: small)
        check("too many fields", "GET /a HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", ["failure 431"], limits: small)
        check("Content-Length over the limit", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
              ["failure 413"], limits: small)
        check("Content-Length at the limit", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nhell",
              ["head POST /a", "body hell", "end"], limits: small)
        check("chunked over the limit", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n",
              ["head POST /a", "body abc", "failure 413"], limits: small)
    }

    func testBadFraming() {
        check("bad request line", "GET\r\n\r\n", ["failure 400"])
        check("no Host", "GET / HTTP/1.1\r\n\r\n", ["failure 400"])
        check("Content-Length and Transfer-Encoding",
              "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", ["failure 400"])
        check("bad chunk size", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", ["head POST /a", "failure 400"])
        check("no CRLF after chunk data", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
              ["head POST /a", "body a", "failure 400"])
        check("bad head after a good request", "GET /a HTTP/1.1\r\nHost: x\r\n\r\nBAD\r\n\r\n", ["head GET /a", "end", "failure 400"])
    }

    func testFailureIsStickyAndStateIsReported() {
        var reader = HTTPRequestReader(limits: HTTPLimits())
        XCTAssertTrue(reader.isBetweenRequests)
        let head = Array("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        head.withUnsafeBytes { b in
            guard case (.head, b.count) = reader.next(b) else { return XCTFail("head") }
        }
        XCTAssertTrue(reader.isInBody)
        XCTAssertFalse(reader.isBetweenRequests)
        let empty = [UInt8]()
        empty.withUnsafeBytes { b in
            guard case (.needMore, 0) = reader.next(b) else { return XCTFail("needMore on no input") }
        }
        for _ in 0..<2 {
            Array("x\r\n".utf8).withUnsafeBytes { b in
                guard case (.failure(400, _), b.count) = reader.next(b) else { return XCTFail("sticky failure") }
            }
        }
        XCTAssertFalse(reader.isInBody)
    }
}
