import XCTest

@testable import UVProxy
@testable import HTTP1

final class ChunkedDecoderTests: XCTestCase {
    enum Outcome: Equatable {
        /// Finished: the body, and how many input bytes were left after the body.
        case done(String, trailing: Int)
        case needMore(String)
        case failure(HTTPParseError)
    }

    static func run(_ chunks: [[UInt8]], maxBody: Int, maxTrailer: Int) -> Outcome {
        var decoder = ChunkedDecoder(maxBodyBytes: maxBody, maxTrailerBytes: maxTrailer)
        var body: [UInt8] = []
        var trailing = 0
        var finished = false
        for chunk in chunks {
            if finished {
                trailing += chunk.count
                continue
            }
            switch chunk.withUnsafeBytes({ decoder.decode($0) { body += $0 } }) {
            case .needMore(let consumed):
                XCTAssertEqual(consumed, chunk.count)
            case .done(let consumed):
                finished = true
                trailing += chunk.count - consumed
                XCTAssertTrue(decoder.isDone)
            case .failure(let e):
                return .failure(e)
            }
        }
        XCTAssertEqual(decoder.bodyBytes, body.count)
        let text = String(decoding: body, as: UTF8.self)
        return finished ? .done(text, trailing: trailing) : .needMore(text)
    }

    struct Vector {
        var name: String
        var input: String
        var maxBody = 1 << 20
        var maxTrailer = 64
        var expect: Expectation<Outcome>
    }

    static func ok(_ name: String, _ input: String, _ body: String, trailing: Int = 0) -> Vector {
        Vector(name: name, input: input, expect: .value(.done(body, trailing: trailing)))
    }

    static func bad(_ name: String, _ input: String, _ code: HTTPParseError.Code, maxBody: Int = 1 << 20) -> Vector {
        Vector(name: name, input: input, maxBody: maxBody, expect: .error(code))
    }

    static let vectors: [Vector] = [
        ok("one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello"),
        ok("empty body", "0\r\n\r\n", ""),
        ok("several chunks, upper and lower hex", "A\r\n0123456789\r\na\r\nabcdefghij\r\n1\r\n!\r\n0\r\n\r\n",
           "0123456789abcdefghij!"),
        ok("leading zeros", "0005\r\nhello\r\n000\r\n\r\n", "hello"),
        ok("data that looks like framing", "7\r\n0\r\n\r\n\r\n\r\n0\r\n\r\n", "0\r\n\r\n\r\n"),
        ok("extensions", "5;name=value;flag;q=\"a b\"\r\nhello\r\n0;last\r\n\r\n", "hello"),
        ok("trailers", "3\r\nabc\r\n0\r\nX-Checksum: 1\r\nX-Other:\tv\u{E9}\r\n\r\n", "abc"),
        ok("bytes after the body belong to the next message", "1\r\nx\r\n0\r\n\r\nGET / HTTP/1.1\r\n", "x", trailing: 16),
        Vector(name: "unfinished", input: "5\r\nhel", expect: .value(.needMore("hel"))),
        Vector(name: "unfinished trailers", input: "0\r\nX: y\r\n", expect: .value(.needMore(""))),
        ok("exactly maxBodyBytes", "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", "abcde").with(maxBody: 5),
        bad("empty size", "\r\nhello\r\n", .badChunkSize),
        bad("space before the size", " 5\r\nhello\r\n", .badChunkSize),
        bad("space after the size", "5 \r\nhello\r\n", .badChunkSize),
        bad("non-hex size", "g\r\n", .badChunkSize),
        bad("negative size", "-1\r\n", .badChunkSize),
        bad("0x prefix", "0x5\r\nhello\r\n", .badChunkSize),
        bad("size overflow", "fffffffffffffffff0\r\n", .badChunkSize),
        bad("size overflow after zeros", "00000010000000000000000\r\n", .badChunkSize),
        bad("bare LF after the size", "5\nhello\r\n0\r\n\r\n", .bareLF),
        bad("bare CR after the size", "5\rhello\r\n0\r\n\r\n", .bareCR),
        bad("bare LF in an extension", "5;a\nhello\r\n", .bareLF),
        bad("control character in an extension", "5;a\u{1}\r\nhello\r\n", .badChunkExtension),
        bad("overlong extension", "5;" + String(repeating: "x", count: 5000) + "\r\n", .badChunkExtension),
        bad("data longer than its size", "5\r\nhelloX\r\n0\r\n\r\n", .badChunkData),
        bad("data followed by bare LF", "5\r\nhello\n0\r\n\r\n", .badChunkData),
        bad("data followed by bare CR", "5\r\nhello\r0\r\n\r\n", .badChunkData),
        bad("a chunk over the limit", "b\r\n", .chunkTooLarge, maxBody: 10),
        bad("a huge chunk", "7fffffffffffffff\r\n", .chunkTooLarge),
        bad("chunks adding up over the limit", "6\r\nabcdef\r\n5\r\nghijk\r\n", .bodyTooLarge, maxBody: 10),
        bad("obs-fold in trailers", "0\r\nX: a\r\n b\r\n\r\n", .obsFold),
        bad("trailer without a colon", "0\r\nX-Bad\r\n\r\n", .badTrailer),
        bad("space before a trailer colon", "0\r\nX : a\r\n\r\n", .badTrailer),
        bad("NUL in a trailer", "0\r\nX: a\u{0}\r\n\r\n", .nulInHeader),
        bad("bare LF in a trailer", "0\r\nX: a\n\r\n", .bareLF),
        bad("bare LF ending the trailers", "0\r\n\n", .bareLF),
        bad("bare CR ending the body", "0\r\n\rX", .bareCR),
        bad("trailers over their limit", "0\r\nX: " + String(repeating: "t", count: 80) + "\r\n\r\n", .trailersTooLarge),
    ]

    func testVectors() {
        for v in Self.vectors {
            let outcome = Feeding.agree(v.input.bytes, name: v.name) { Self.run($0, maxBody: v.maxBody, maxTrailer: v.maxTrailer) }
            switch (v.expect, outcome) {
            case (.value(let expected), _):
                XCTAssertEqual(outcome, expected, v.name)
            case (.error(let code), .failure(let error)):
                XCTAssertEqual(error.code, code, "\(v.name): \(error)")
                XCTAssertTrue(error.message.contains("of the chunked body"), error.message)
            default:
                XCTFail("\(v.name): expected \(v.expect), got \(outcome)")
            }
        }
    }

    func testStatusesOfLimits() {
        var decoder = ChunkedDecoder(maxBodyBytes: 4)
        guard case .failure(let e) = "5\r\n".bytes.withUnsafeBytes({ decoder.decode($0) { _ in } }) else { return XCTFail() }
        XCTAssertEqual(e.status, 413)
        guard case .failure(let again) = "0\r\n\r\n".bytes.withUnsafeBytes({ decoder.decode($0) { _ in } }) else {
            return XCTFail("not sticky")
        }
        XCTAssertEqual(e, again)
    }

    /// Body bytes are spans of the input: a 1 MiB chunk arrives in as many callbacks as reads.
    func testDataIsPassedAsSpans() {
        var decoder = ChunkedDecoder(maxBodyBytes: 2 << 20)
        let size = 1 << 20
        var calls = 0
        var total = 0
        let headerBytes = "100000\r\n".bytes
        _ = headerBytes.withUnsafeBytes { decoder.decode($0) { _ in calls += 1 } }
        let data = [UInt8](repeating: 7, count: size)
        let result = data.withUnsafeBytes { p in
            decoder.decode(p) { span in
                calls += 1
                total += span.count
                XCTAssertEqual(span.baseAddress, p.baseAddress, "no copy")
            }
        }
        XCTAssertEqual(result, .needMore(consumed: size))
        XCTAssertEqual(calls, 1)
        XCTAssertEqual(total, size)
        XCTAssertEqual("\r\n0\r\n\r\n".bytes.withUnsafeBytes { decoder.decode($0) { _ in } }, .done(consumed: 7))
        XCTAssertEqual("more".bytes.withUnsafeBytes { decoder.decode($0) { _ in } }, .done(consumed: 0))
    }

    /// `next(takingChunkEnd: true)` takes a chunk's closing CRLF with its data when both are in the input
    /// (an SSE event that is one chunk in one read is then one call), and only a real CRLF; without the
    /// flag, or split, the CRLF is read by the next call.
    func testNextTakesTheClosingCRLFWithTheDataWhenAsked() {
        func step(_ d: inout ChunkedDecoder, _ s: String, taking: Bool = true) -> (String?, Int, done: Bool, failed: Bool) {
            s.bytes.withUnsafeBytes { p in
                switch d.next(p, takingChunkEnd: taking) {
                case .body(let span, let consumed): return (String(decoding: span, as: UTF8.self), consumed, false, false)
                case .needMore: return (nil, p.count, false, false)
                case .done(let consumed): return (nil, consumed, true, false)
                case .failure: return (nil, 0, false, true)
                }
            }
        }
        var d = ChunkedDecoder(maxBodyBytes: 1 << 20)
        var r = step(&d, "5\r\nhello\r\n7\r\nworld!!\r\n0\r\n\r\n")
        XCTAssertEqual(r.0, "hello")
        XCTAssertEqual(r.1, 10, "the CRLF after the data was not taken")
        r = step(&d, "7\r\nworld!!\r\n0\r\n\r\n")
        XCTAssertEqual(r.0, "world!!")
        XCTAssertEqual(r.1, 12)
        r = step(&d, "0\r\n\r\n")
        XCTAssertTrue(r.done)
        XCTAssertEqual(r.1, 5)
        // Not asked: the data's end, as before.
        d = ChunkedDecoder(maxBodyBytes: 1 << 20)
        r = step(&d, "5\r\nhello\r\n0\r\n\r\n", taking: false)
        XCTAssertEqual(r.1, 8)
        r = step(&d, "\r\n0\r\n\r\n", taking: false)
        XCTAssertTrue(r.done)
        XCTAssertEqual(r.1, 7)
        // Only the CR came: it is left for the next call, with the LF.
        d = ChunkedDecoder(maxBodyBytes: 1 << 20)
        r = step(&d, "3\r\nabc\r")
        XCTAssertEqual(r.0, "abc")
        XCTAssertEqual(r.1, 6)
        r = step(&d, "\r\n0\r\n\r\n")
        XCTAssertTrue(r.done)
        XCTAssertEqual(r.1, 7)
        // A chunk's data split from its CRLF: the CRLF comes with the next call.
        d = ChunkedDecoder(maxBodyBytes: 1 << 20)
        r = step(&d, "3\r\nab")
        XCTAssertEqual(r.0, "ab")
        r = step(&d, "c\r\n0\r\n\r\n")
        XCTAssertEqual(r.0, "c")
        XCTAssertEqual(r.1, 3)
        r = step(&d, "0\r\n\r\n")
        XCTAssertTrue(r.done)
        // Two bytes that are not CRLF after the data: not taken, and an error when read.
        d = ChunkedDecoder(maxBodyBytes: 1 << 20)
        r = step(&d, "3\r\nabcXY")
        XCTAssertEqual(r.0, "abc")
        XCTAssertEqual(r.1, 6)
        r = step(&d, "XY")
        XCTAssertTrue(r.failed)
        XCTAssertEqual(d.error?.code, .badChunkData)
    }
}

extension ChunkedDecoderTests.Vector {
    func with(maxBody: Int) -> Self {
        var v = self
        v.maxBody = maxBody
        return v
    }
}
