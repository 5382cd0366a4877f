import XCTest

@testable import UVProxy
@testable import HTTP1

/// The upstream response side of an exchange, without sockets: every vector fed whole, byte by byte
/// and split in two at every index (so every head and every body is split at every byte), each
/// delivery giving the same events.
final class UpstreamResponseReaderTests: XCTestCase {
    enum Outcome: Equatable {
        /// The response ended: its status, framing and body, whether the connection may be reused,
        /// and how many input bytes came after its end.
        case ended(status: Int, framing: HTTPBodyFraming, body: String, reusable: Bool, trailing: Int)
        /// The input ended before the response did (`status` nil: before its head).
        case open(status: Int?, body: String)
        /// The response was cut short by the upstream's close.
        case cut(status: Int?, body: String)
        case failed(UpstreamResponseReader.Failure.Kind, String)
    }

    /// Feeds `chunks` as successive reads; `close`: the upstream then closes the connection cleanly.
    static func run(_ chunks: [[UInt8]], headRequest: Bool = false, close: Bool = false,
                    file: StaticString = #filePath, line: UInt = #line) -> Outcome {
        var reader = UpstreamResponseReader()
        reader.begin(isHeadRequest: headRequest)
        var status: Int?
        var framing = HTTPBodyFraming.none
        var body: [UInt8] = []
        var ended: Bool?
        var trailing = 0
        for chunk in chunks {
            if ended != nil {
                trailing += chunk.count
                continue
            }
            let result: Outcome? = chunk.withUnsafeBytes { whole in
                var input = whole
                while true {
                    let before = input
                    switch reader.read(&input) {
                    case .needMore:
                        XCTAssertEqual(input.count, 0, "needMore leaves nothing unread", file: file, line: line)
                        return nil
                    case .head(let head):
                        XCTAssertNil(status, "one head per response", file: file, line: line)
                        XCTAssertFalse(head.status < 200, "interim heads are skipped", file: file, line: line)
                        status = head.status
                        framing = head.framing
                        XCTAssertTrue(reader.isReadingBody, file: file, line: line)
                    case .body(let piece):
                        XCTAssertNotNil(status, "body after the head", file: file, line: line)
                        XCTAssertGreaterThan(piece.count, 0, file: file, line: line)
                        // A span of this read, in order: no copy.
                        XCTAssertTrue(piece.baseAddress! >= before.baseAddress!
                                      && piece.baseAddress! + piece.count <= before.baseAddress! + before.count,
                                      "body pieces are spans of the input", file: file, line: line)
                        XCTAssertEqual(input.baseAddress, piece.baseAddress! + piece.count, file: file, line: line)
                        body += piece
                    case .end(let reusable):
                        ended = reusable
                        trailing += input.count
                        XCTAssertFalse(reader.isReadingBody, file: file, line: line)
                        // The reader stays ended until the next `begin`.
                        var more = input
                        if case .needMore = reader.read(&more) {} else {
                            XCTFail("events after the end", file: file, line: line)
                        }
                        return nil
                    case .failure(let f):
                        var again = input
                        if case .failure(let g) = reader.read(&again) {
                            XCTAssertEqual(f, g, "failures are sticky", file: file, line: line)
                        } else {
                            XCTFail("a failure is sticky", file: file, line: line)
                        }
                        return .failed(f.kind, f.message)
                    }
                }
            }
            if let result { return result }
        }
        let text = String(decoding: body, as: UTF8.self)
        if let reusable = ended {
            return .ended(status: status!, framing: framing, body: text, reusable: reusable, trailing: trailing)
        }
        if close {
            if reader.upstreamClosed() {
                return .ended(status: status!, framing: framing, body: text, reusable: false, trailing: 0)
            }
            return .cut(status: status, body: text)
        }
        return .open(status: status, body: text)
    }

    private func check(_ name: String, _ wire: String, headRequest: Bool = false, close: Bool = false,
                       _ expected: Outcome, file: StaticString = #filePath, line: UInt = #line) {
        let bytes = Array(wire.utf8)
        let outcome = Feeding.agree(bytes, name: name, file: file, line: line) {
            Self.run($0, headRequest: headRequest, close: close, file: file, line: line)
        }
        XCTAssertEqual(outcome, expected, name, file: file, line: line)
    }

    // MARK: Framing

    func testContentLength() {
        check("content-length", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\nhello world",
              .ended(status: 200, framing: .contentLength(11), body: "hello world", reusable: true, trailing: 0))
        check("bytes after the body are left", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200",
              .ended(status: 200, framing: .contentLength(2), body: "ok", reusable: true, trailing: 12))
        check("zero length has no body", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
              .ended(status: 200, framing: .none, body: "", reusable: true, trailing: 0))
        check("short body waits", "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nhalf",
              .open(status: 200, body: "half"))
        check("short body cut by a close", "HTTP/1.1 502 Bad\r\nContent-Length: 9\r\n\r\nhalf", close: true,
              .cut(status: 502, body: "half"))
    }

    func testChunked() {
        check("chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
              .ended(status: 200, framing: .chunked, body: "hello world", reusable: true, trailing: 0))
        check("extensions and trailers",
              "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\na;x\r\n, trailers\r\n0;last\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\nNEXT",
              .ended(status: 200, framing: .chunked, body: "hello, trailers", reusable: true, trailing: 4))
        check("an event stream, unfinished", "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n7\r\ndata: 1\r\n7\r\ndata: 2\r\n",
              .open(status: 200, body: "data: 1data: 2"))
        check("cut mid-chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc", close: true,
              .cut(status: 200, body: "abc"))
    }

    func testUntilClose() {
        check("until close, open", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nsome bytes",
              .open(status: 200, body: "some bytes"))
        check("until close, closed", "HTTP/1.1 200 OK\r\n\r\nsome bytes", close: true,
              .ended(status: 200, framing: .untilClose, body: "some bytes", reusable: false, trailing: 0))
        check("until close, empty", "HTTP/1.1 200 OK\r\n\r\n", close: true,
              .ended(status: 200, framing: .untilClose, body: "", reusable: false, trailing: 0))
        check("closed before the head", "HTTP/1.1 200 OK\r\nContent-Le", close: true, .cut(status: nil, body: ""))
    }

    // MARK: No body

    func testStatusesWithoutBody() {
        check("204", "HTTP/1.1 204 No Content\r\nX-A: b\r\n\r\n",
              .ended(status: 204, framing: .none, body: "", reusable: true, trailing: 0))
        check("304 with a length", "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
              .ended(status: 304, framing: .none, body: "", reusable: true, trailing: 0))
        check("HEAD with a length", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", headRequest: true,
              .ended(status: 200, framing: .none, body: "", reusable: true, trailing: 0))
        check("HEAD with chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", headRequest: true,
              .ended(status: 200, framing: .none, body: "", reusable: true, trailing: 0))
        check("204 with bytes after it", "HTTP/1.1 204 No Content\r\n\r\nxyz",
              .ended(status: 204, framing: .none, body: "", reusable: true, trailing: 3))
    }

    func testInterimResponsesAreSkipped() {
        check("100 Continue", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
              .ended(status: 200, framing: .contentLength(2), body: "ok", reusable: true, trailing: 0))
        check("two interim heads", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\n!",
              .ended(status: 201, framing: .contentLength(1), body: "!", reusable: true, trailing: 0))
        check("only an interim head", "HTTP/1.1 100 Continue\r\n\r\n", .open(status: nil, body: ""))
    }

    // MARK: Reuse

    func testReuseDecisions() {
        check("Connection: close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
              .ended(status: 200, framing: .contentLength(2), body: "ok", reusable: false, trailing: 0))
        check("chunked and Connection: close", "HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
              .ended(status: 200, framing: .chunked, body: "", reusable: false, trailing: 0))
        check("HTTP/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
              .ended(status: 200, framing: .contentLength(2), body: "ok", reusable: false, trailing: 0))
        check("HTTP/1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
              .ended(status: 200, framing: .contentLength(2), body: "ok", reusable: true, trailing: 0))
        check("204 with Connection: close", "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n",
              .ended(status: 204, framing: .none, body: "", reusable: false, trailing: 0))
        check("an error status is reusable too", "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 2\r\n\r\n{}",
              .ended(status: 429, framing: .contentLength(2), body: "{}", reusable: true, trailing: 0))
    }

    // MARK: Failures

    func testInvalidHeads() {
        check("not HTTP/1.x", "HTTP/2 200 OK\r\n\r\n",
              .failed(.invalidHead, "upstream sent an invalid response head: the status line's version is not HTTP/1.x"))
        check("both framings", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello",
              failure(.invalidHead, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello"))
        check("a coding other than chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
              failure(.invalidHead, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"))
        check("bad status code", "HTTP/1.1 2x0 OK\r\n\r\n",
              .failed(.invalidHead, "upstream sent an invalid response head: the status code is not three digits"))
    }

    func testInvalidChunkedFraming() {
        let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        check("size not hexadecimal", head + "5\r\nhello\r\nzz\r\n", failure(.invalidChunked, head + "5\r\nhello\r\nzz\r\n"))
        check("data without CRLF", head + "5\r\nhelloXX", failure(.invalidChunked, head + "5\r\nhelloXX"))
        XCTAssertEqual(Self.run([Array((head + "5\r\nhelloXX").utf8)]),
                       .failed(.invalidChunked, "upstream sent invalid chunked framing: chunk data is not followed by CRLF (byte 8 of the chunked body)"))
    }

    /// The failure the reader gives for `wire` fed whole, checked to be of `kind` (the message is then
    /// compared across every delivery by `check`).
    private func failure(_ kind: UpstreamResponseReader.Failure.Kind, _ wire: String) -> Outcome {
        let outcome = Self.run([Array(wire.utf8)])
        guard case .failed(kind, let message) = outcome else {
            XCTFail("expected a \(kind) failure, got \(outcome)")
            return outcome
        }
        XCTAssertTrue(message.hasPrefix("upstream sent "), message)
        return outcome
    }

    // MARK: One reader, several responses

    func testBeginForgetsTheLastResponse() {
        var reader = UpstreamResponseReader()
        let first = Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc".utf8)
        reader.begin(isHeadRequest: false)
        XCTAssertFalse(reader.receivedBytes)
        first.withUnsafeBytes { p in
            var input = p
            var event: UpstreamResponseReader.Event
            repeat { event = reader.read(&input) } while !event.isNeedMore
        }
        XCTAssertTrue(reader.receivedBytes)
        XCTAssertEqual(reader.head?.status, 200)
        // A head split over reads of the next response, on the same reader after `begin`.
        reader.begin(isHeadRequest: false)
        XCTAssertFalse(reader.receivedBytes)
        XCTAssertNil(reader.head)
        XCTAssertEqual(reader.framing, .none)
        var events: [String] = []
        for part in ["HTTP/1.1 201 Created\r\nContent-Le", "ngth: 4\r\n\r\nab", "cd"] {
            Array(part.utf8).withUnsafeBytes { p in
                var input = p
                while true {
                    switch reader.read(&input) {
                    case .needMore: events.append("more"); return
                    case .head(let h): events.append("head \(h.status) \(reader.contentLength)")
                    case .body(let b): events.append("body \(String(decoding: b, as: UTF8.self)) \(reader.remaining)")
                    case .end(let r): events.append("end \(r)"); return
                    case .failure(let f): events.append("failure \(f.message)"); return
                    }
                }
            }
        }
        XCTAssertEqual(events, ["more", "head 201 4", "body ab 2", "more", "body cd 0", "end true"])
    }

    func testEmptyReadsAskForMore() {
        var reader = UpstreamResponseReader()
        reader.begin(isHeadRequest: false)
        var empty = UnsafeRawBufferPointer(start: nil, count: 0)
        XCTAssertTrue(reader.read(&empty).isNeedMore)
        XCTAssertFalse(reader.receivedBytes)
        XCTAssertFalse(reader.upstreamClosed())
    }
}

extension UpstreamResponseReader.Event {
    var isNeedMore: Bool { if case .needMore = self { return true } else { return false } }
}

/// `nextBody`, the exchange's body loop (no head in the values it returns; a chunk's closing CRLF taken
/// with its data): for every vector, fed whole, byte by byte and split at every index, the same body,
/// end, reuse and failure as `read`.
final class UpstreamResponseReaderNextBodyTests: XCTestCase {
    typealias Outcome = UpstreamResponseReaderTests.Outcome

    /// `read` up to the head, `nextBody` after it.
    static func run(_ chunks: [[UInt8]]) -> Outcome {
        var reader = UpstreamResponseReader()
        reader.begin(isHeadRequest: false)
        var status: Int?
        var framing = HTTPBodyFraming.none
        var body: [UInt8] = []
        var ended: Bool?
        var trailing = 0
        for chunk in chunks {
            if ended != nil {
                trailing += chunk.count
                continue
            }
            let result: Outcome? = chunk.withUnsafeBytes { whole in
                var input = whole
                while status == nil {
                    switch reader.read(&input) {
                    case .needMore: return nil
                    case .head(let head):
                        status = head.status
                        framing = head.framing
                    case .failure(let f): return .failed(f.kind, f.message)
                    case .body, .end:
                        XCTFail("a body event before the head")
                        return nil
                    }
                }
                while true {
                    let before = input
                    switch reader.nextBody(&input) {
                    case .needMore:
                        XCTAssertEqual(input.count, 0, "needMore leaves nothing unread")
                        return nil
                    case .body(let piece):
                        XCTAssertGreaterThan(piece.count, 0)
                        XCTAssertTrue(piece.baseAddress! >= before.baseAddress!
                                      && piece.baseAddress! + piece.count <= before.baseAddress! + before.count,
                                      "body pieces are spans of the input")
                        // What is left starts right after the piece, or after the chunk's CRLF taken with it.
                        let skipped = input.baseAddress! - (piece.baseAddress! + piece.count)
                        XCTAssertTrue(skipped == 0 || skipped == 2, "skipped \(skipped) bytes after a piece")
                        body += piece
                        if input.isEmpty {
                            // `needsBytes` says what asking again with nothing would answer (a copy asks).
                            var probe = reader
                            var nothing = input
                            var waits = false
                            if case .needMore = probe.nextBody(&nothing) { waits = true }
                            XCTAssertEqual(reader.needsBytes, waits)
                        }
                    case .end(let reusable):
                        ended = reusable
                        trailing += input.count
                        var more = input
                        if case .needMore = reader.nextBody(&more) {} else { XCTFail("events after the end") }
                        return nil
                    case .failure:
                        var again = input
                        guard case .failure = reader.nextBody(&again) else {
                            XCTFail("a failure is sticky")
                            return nil
                        }
                        return .failed(.invalidChunked, reader.failureMessage)
                    }
                }
            }
            if let result { return result }
        }
        let text = String(decoding: body, as: UTF8.self)
        if let reusable = ended {
            return .ended(status: status!, framing: framing, body: text, reusable: reusable, trailing: trailing)
        }
        return .open(status: status, body: text)
    }

    func testNextBodyAgreesWithRead() {
        let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        let sse = (1...5).map { i -> String in
            let event = "data: {\"i\":\(i)}\n\n"
            return String(event.utf8.count, radix: 16) + "\r\n" + event + "\r\n"
        }.joined()
        let wires = [
            head + sse + "0\r\n\r\n",
            head + sse + "0\r\n\r\nHTTP/1.1 200",  // bytes after the end
            head + "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n",
            head + "5\r\nhello\r\n",  // open
            head + "5\r\nhelloXX",  // no CRLF after the data
            head + "5\r\nhello\r\nzz\r\n",  // not hexadecimal
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel",
            "HTTP/1.1 204 No Content\r\n\r\n",
        ]
        for wire in wires {
            let bytes = Array(wire.utf8)
            let viaRead = UpstreamResponseReaderTests.run([bytes])
            let viaNextBody = Feeding.agree(bytes, name: wire) { Self.run($0) }
            XCTAssertEqual(viaNextBody, viaRead, wire)
        }
    }
}
