import XCTest

@testable import UVProxy
@testable import HTTP1

/// The server connection's writing half without a socket: every write it makes is recorded, and each
/// response it frames is read back with the strict response parser.
final class HTTPResponseWriterTests: XCTestCase {
    final class RecordingSink: ResponseSink {
        var writes: [[UInt8]] = []
        var isAboveHighWatermark = false
        var scratchTaken = 0
        var scratchReturned = 0

        func write(_ bytes: [UInt8]) { writes.append(bytes) }
        func write(_ bytes: UnsafeRawBufferPointer) { writes.append(Array(bytes)) }
        func takeScratch() -> [UInt8] {
            scratchTaken += 1
            return []
        }
        func returnScratch(_ buffer: [UInt8]) { scratchReturned += 1 }

        var text: String { String(decoding: writes.joined(), as: UTF8.self) }
    }

    private func writer() -> (HTTPResponseWriter<RecordingSink>, RecordingSink) {
        let sink = RecordingSink()
        return (HTTPResponseWriter(stream: sink), sink)
    }

    private func block(_ headers: [(name: String, value: String)]) -> [UInt8] {
        var out: [UInt8] = []
        for h in headers { XCTAssertTrue(HTTPWriter.appendHeader(h.name, h.value, into: &out)) }
        return out
    }

    /// Parses `bytes` as one response; returns its head and the body bytes after the head.
    private func parse(_ bytes: [UInt8], head isHead: Bool = false) throws -> (HTTPResponseHead, [UInt8]) {
        var parser = HTTPResponseParser()
        let result = bytes.withUnsafeBytes { parser.parse($0, requestMethodIsHEAD: isHead) }
        guard case .complete(let head, let consumed) = result else {
            XCTFail("not one complete head: \(result) in \(String(decoding: bytes, as: UTF8.self))")
            throw CancellationError()
        }
        return (head, Array(bytes[consumed...]))
    }

    func testWholeResponseIsOneWriteWithItsLength() throws {
        let (w, sink) = writer()
        let headers = block([("Content-Type", "application/json")])
        let body = Array(#"{"ok":true}"#.utf8)
        headers.withUnsafeBytes { h in body.withUnsafeBytes { w.writeWhole(status: 200, headerBlock: h, body: $0, isHeadRequest: false, draining: false) } }
        XCTAssertEqual(sink.writes.count, 1)
        XCTAssertEqual([sink.scratchTaken, sink.scratchReturned], [1, 1])
        let (head, rest) = try parse(sink.writes[0])
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.value("content-type"), "application/json")
        XCTAssertEqual(head.framing, .contentLength(body.count))
        XCTAssertTrue(head.keepAlive)
        XCTAssertEqual(rest, body)
        XCTAssertTrue(w.keepsAlive(draining: false))
        XCTAssertFalse(w.keepsAlive(draining: true))
    }

    func testHeadRequestGetsTheLengthButNoBody() throws {
        let (w, sink) = writer()
        let body = Array("twelve bytes".utf8)
        body.withUnsafeBytes { w.writeWhole(status: 200, headerBlock: UnsafeRawBufferPointer(start: nil, count: 0), body: $0, isHeadRequest: true, draining: false) }
        XCTAssertTrue(sink.text.hasSuffix("Content-Length: 12\r\n\r\n"), sink.text)
        let (head, rest) = try parse(sink.writes[0], head: true)
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(rest, [])
    }

    func testNoContentAndNotModifiedHaveNoLength() throws {
        for status in [204, 304] {
            let (w, sink) = writer()
            w.writeWhole(status: status, headerBlock: UnsafeRawBufferPointer(start: nil, count: 0),
                         body: UnsafeRawBufferPointer(start: nil, count: 0), isHeadRequest: false, draining: false)
            XCTAssertFalse(sink.text.lowercased().contains("content-length"), sink.text)
            XCTAssertEqual(try parse(sink.writes[0]).0.status, status)
        }
    }

    func testCloseAfterResponseAndDrainingSayConnectionClose() throws {
        for (close, draining) in [(true, false), (false, true)] {
            var (w, sink) = writer()
            w.closeAfterResponse = close
            w.writeWhole(status: 503, headerBlock: UnsafeRawBufferPointer(start: nil, count: 0),
                         body: UnsafeRawBufferPointer(start: nil, count: 0), isHeadRequest: false, draining: draining)
            XCTAssertFalse(try parse(sink.writes[0]).0.keepAlive, sink.text)
            XCTAssertFalse(w.keepsAlive(draining: draining))
        }
    }

    func testContinueIsTheInterimLine() {
        let (w, sink) = writer()
        w.writeContinue()
        XCTAssertEqual(sink.text, "HTTP/1.1 100 Continue\r\n\r\n")
    }

    func testChunkedStreamFramesEachWriteAndEnds() throws {
        var (w, sink) = writer()
        w.startStream(status: 200, headerBlock: block([("Content-Type", "text/event-stream")]), chunked: true, draining: false)
        XCTAssertEqual(sink.writes.count, 1, "the head leaves at once")
        for piece in ["data: a\n\n", "data: bb\n\n"] {
            Array(piece.utf8).withUnsafeBytes { w.streamWrite($0) }
        }
        XCTAssertEqual(sink.writes.count, 3, "each piece at once when not corked")
        w.endStream()
        XCTAssertEqual(sink.writes.count, 4)
        let (head, rest) = try parse(Array(sink.writes.joined()))
        XCTAssertEqual(head.framing, .chunked)
        XCTAssertTrue(head.keepAlive)
        XCTAssertEqual(String(decoding: rest, as: UTF8.self), "9\r\ndata: a\n\n\r\na\r\ndata: bb\n\n\r\n0\r\n\r\n")
        XCTAssertTrue(w.keepsAlive(draining: false))
    }

    func testCorkedStreamLeavesInOneWrite() throws {
        var (w, sink) = writer()
        w.cork()
        w.startStream(status: 200, headerBlock: [], chunked: true, draining: false)
        Array("one".utf8).withUnsafeBytes { w.streamWrite($0) }
        Array("two".utf8).withUnsafeBytes { w.streamWrite($0) }
        XCTAssertEqual(sink.writes.count, 0, "held while corked")
        w.uncork()
        XCTAssertEqual(sink.writes.count, 1)
        XCTAssertTrue(sink.text.hasSuffix("\r\n\r\n3\r\none\r\n3\r\ntwo\r\n"), sink.text)
        w.cork()
        Array("end".utf8).withUnsafeBytes { w.streamWrite($0) }
        w.endStream()
        XCTAssertEqual(sink.writes.count, 2, "the last chunk leaves with what was corked")
        XCTAssertEqual(String(decoding: sink.writes[1], as: UTF8.self), "3\r\nend\r\n0\r\n\r\n")
    }

    func testHTTP10StreamIsCloseDelimited() throws {
        var (w, sink) = writer()
        w.startStream(status: 200, headerBlock: [], chunked: false, draining: false)
        Array("raw bytes".utf8).withUnsafeBytes { w.streamWrite($0) }
        w.endStream()
        let (head, rest) = try parse(Array(sink.writes.joined()))
        XCTAssertEqual(head.framing, .untilClose)
        XCTAssertFalse(head.keepAlive)
        XCTAssertEqual(String(decoding: rest, as: UTF8.self), "raw bytes")
        XCTAssertFalse(w.keepsAlive(draining: false), "the body ends with the connection")
    }

    func testEmptyStreamWriteSendsNoChunk() {
        var (w, sink) = writer()
        w.startStream(status: 200, headerBlock: [], chunked: true, draining: false)
        w.streamWrite(UnsafeRawBufferPointer(start: nil, count: 0))
        XCTAssertEqual(sink.writes.count, 1, "a zero-size chunk would end the body")
    }

    func testRawWriteFlushesWhatIsHeldFirstAndDiscardDrops() {
        var (w, sink) = writer()
        w.cork()
        w.startStream(status: 101, headerBlock: [], chunked: false, draining: false)
        w.writeRaw(Array("after".utf8))
        XCTAssertEqual(sink.writes.count, 2)
        XCTAssertTrue(String(decoding: sink.writes[0], as: UTF8.self).hasPrefix("HTTP/1.1 101 "))
        XCTAssertEqual(String(decoding: sink.writes[1], as: UTF8.self), "after")

        var (w2, sink2) = writer()
        w2.cork()
        w2.startStream(status: 200, headerBlock: [], chunked: true, draining: false)
        w2.discard()
        w2.uncork()
        XCTAssertEqual(sink2.writes.count, 0, "discarded bytes are never written")
    }

    func testBackpressureIsTheSinks() {
        let (w, sink) = writer()
        XCTAssertFalse(w.isBackedUp)
        sink.isAboveHighWatermark = true
        XCTAssertTrue(w.isBackedUp)
    }
}
