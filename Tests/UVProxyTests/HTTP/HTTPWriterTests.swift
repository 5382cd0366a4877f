import XCTest

@testable import UVProxy
@testable import HTTP1

final class HTTPWriterTests: XCTestCase {
    func text(_ build: (inout [UInt8]) -> Void) -> String {
        var out: [UInt8] = []
        build(&out)
        return String(decoding: out, as: UTF8.self)
    }

    /// appendBytes grows the array as appends do, keeps what was there, and copies every byte: runs of
    /// every length from 0 to 40 onto arrays of every spare capacity, against Array.append(contentsOf:).
    func testAppendBytesMatchesArrayAppend() {
        let source = (0..<40).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
        source.withUnsafeBytes { all in
            for spare in [0, 1, 5, 64] {
                var got: [UInt8] = [9, 8, 7]
                got.reserveCapacity(3 + spare)
                var expected = got
                for n in 0...40 {
                    let piece = UnsafeRawBufferPointer(rebasing: all[0..<n])
                    HTTPWriter.appendBytes(piece, into: &got)
                    expected.append(contentsOf: piece)
                    XCTAssertEqual(got, expected, "spare \(spare), run of \(n)")
                }
            }
        }
        var empty: [UInt8] = []
        HTTPWriter.appendBytes(UnsafeRawBufferPointer(start: nil, count: 0), into: &empty)
        XCTAssertEqual(empty, [])
    }

    func testValidatedHeaderIsWrittenAsAppendHeaderWritesIt() {
        XCTAssertEqual(text { HTTPWriter.appendValidatedHeader("Authorization", "slauth tok", into: &$0) },
                       text { _ = HTTPWriter.appendHeader("Authorization", "slauth tok", into: &$0) })
        XCTAssertEqual(text { HTTPWriter.appendValidatedHeader("X-K", "v", into: &$0) }, "X-K: v\r\n")
    }

    func testStatusAndRequestLines() {
        XCTAssertEqual(text { HTTPWriter.appendStatusLine(200, into: &$0) }, "HTTP/1.1 200 OK\r\n")
        XCTAssertEqual(text { HTTPWriter.appendStatusLine(431, into: &$0) }, "HTTP/1.1 431 Request Header Fields Too Large\r\n")
        XCTAssertEqual(text { HTTPWriter.appendStatusLine(599, into: &$0) }, "HTTP/1.1 599 Server Error\r\n")
        // Every status (200 written whole, the others from their parts), after bytes already there.
        for status in 100...599 {
            var out: [UInt8] = Array("x".utf8)
            HTTPWriter.appendStatusLine(status, into: &out)
            XCTAssertEqual(String(decoding: out, as: UTF8.self), "xHTTP/1.1 \(status) \(HTTPWriter.reasonPhrase(status))\r\n")
        }
        // Fields copied whole: empty values, and after bytes already there.
        for (name, value) in [("a", ""), ("X-Long-Name-Of-Forty-Bytes-For-Checking", "v 1\t2"), ("k", "é")] {
            var out: [UInt8] = Array("x".utf8)
            let n = Array(name.utf8)
            let v = Array(value.utf8)
            n.withUnsafeBytes { nb in v.withUnsafeBytes { HTTPWriter.appendField(name: nb, value: $0, into: &out) } }
            XCTAssertEqual(String(decoding: out, as: UTF8.self), "x\(name): \(value)\r\n")
        }
        XCTAssertEqual(text { HTTPWriter.appendRequestLine(method: "POST", target: "/v1/x?a=b", into: &$0) },
                       "POST /v1/x?a=b HTTP/1.1\r\n")
        var out: [UInt8] = []
        XCTAssertFalse(HTTPWriter.appendRequestLine(method: "PO ST", target: "/", into: &out))
        XCTAssertFalse(HTTPWriter.appendRequestLine(method: "GET", target: "/a b", into: &out))
        XCTAssertFalse(HTTPWriter.appendRequestLine(method: "GET", target: "/a\r\nX: y", into: &out))
        XCTAssertFalse(HTTPWriter.appendRequestLine(method: "GET", target: "", into: &out))
        XCTAssertTrue(out.isEmpty, "a refused line appends nothing")
    }

    func testHeadersRefuseInjection() {
        XCTAssertEqual(text { HTTPWriter.appendHeader("X-Request-Id", "abc", into: &$0) }, "X-Request-Id: abc\r\n")
        XCTAssertEqual(text { HTTPWriter.appendHeader("Content-Length", 1234567, into: &$0) }, "Content-Length: 1234567\r\n")
        XCTAssertEqual(text { HTTPWriter.appendHeader("Content-Length", 0, into: &$0) }, "Content-Length: 0\r\n")
        var out: [UInt8] = []
        for value in ["a\r\nX-Injected: 1", "a\nb", "a\rb", "a\u{0}b", "a\u{7F}", "a\u{1B}[31m", " lead", "trail\t"] {
            XCTAssertFalse(HTTPWriter.isValidHeaderValue(value), value.debugDescription)
            XCTAssertFalse(HTTPWriter.appendHeader("X", value, into: &out), value.debugDescription)
        }
        for name in ["", "X Y", "X:", "X\r\n", "caf\u{E9}"] {
            XCTAssertFalse(HTTPWriter.isValidToken(name), name.debugDescription)
            XCTAssertFalse(HTTPWriter.appendHeader(name, "v", into: &out), name.debugDescription)
        }
        XCTAssertTrue(out.isEmpty)
        XCTAssertTrue(HTTPWriter.isValidHeaderValue(""))
        XCTAssertTrue(HTTPWriter.isValidHeaderValue("Bearer abc.def-ghi_==\twith tab and caf\u{E9}"))
        XCTAssertTrue(HTTPWriter.isValidToken("X-Api-Key!#$%&'*+.^_`|~09"))
    }

    func testChunks() {
        XCTAssertEqual(text { out in Array("hello".utf8).withUnsafeBytes { HTTPWriter.appendChunk($0, into: &out) } }, "5\r\nhello\r\n")
        let big = [UInt8](repeating: 0x61, count: 0x1ab)
        let s = text { out in big.withUnsafeBytes { HTTPWriter.appendChunk($0, into: &out) } }
        XCTAssertTrue(s.hasPrefix("1ab\r\naaa"))
        XCTAssertEqual(s.utf8.count, 5 + 0x1ab + 2)
        XCTAssertEqual(text { out in [UInt8]().withUnsafeBytes { HTTPWriter.appendChunk($0, into: &out) } }, "",
                       "an empty chunk would end the body")
        XCTAssertEqual(text { HTTPWriter.appendLastChunk(into: &$0) }, "0\r\n\r\n")
    }

    /// The chunk-size line for every size up to 4 KiB and at each hex-digit boundary up to 16 MiB,
    /// appended after existing bytes, against the standard library's hex.
    func testChunkSizeLinesMatchStandardHex() {
        let source = [UInt8](repeating: 0x7a, count: 1 << 24)
        var sizes = Array(1...4096)
        for shift in stride(from: 12, through: 24, by: 4) { sizes += [(1 << shift) - 1, 1 << shift] }
        source.withUnsafeBytes { all in
            for n in sizes where n <= all.count {
                var out: [UInt8] = [0x21]
                HTTPWriter.appendChunk(UnsafeRawBufferPointer(rebasing: all[0..<n]), into: &out)
                let line = Array(String(n, radix: 16).utf8) + [13, 10]
                XCTAssertEqual(Array(out[1..<(1 + line.count)]), line, "size \(n)")
                XCTAssertEqual(out.count, 1 + line.count + n + 2, "size \(n)")
                XCTAssertEqual(out.first, 0x21)
                XCTAssertEqual(Array(out.suffix(2)), [13, 10])
            }
        }
    }

    func testNumbers() {
        for v in [0, 1, 9, 10, 99, 100, 65535, Int(Int32.max), Int.max] {
            XCTAssertEqual(text { HTTPWriter.appendDecimal(v, into: &$0) }, String(v))
        }
        XCTAssertEqual(text { HTTPWriter.appendDecimal(-5, into: &$0) }, "0")
    }

    func testReasonPhrases() {
        XCTAssertEqual(HTTPWriter.reasonPhrase(413), "Content Too Large")
        XCTAssertEqual(HTTPWriter.reasonPhrase(502), "Bad Gateway")
        XCTAssertEqual(HTTPWriter.reasonPhrase(418), "Client Error")
        for status in 100...599 { XCTAssertFalse(HTTPWriter.reasonPhrase(status).isEmpty) }
    }

    /// What the writer produces, the parsers and the decoder accept and read back the same.
    func testRoundTrip() throws {
        var out: [UInt8] = []
        HTTPWriter.appendRequestLine(method: "POST", target: "/v1/openai/v1/chat/completions", into: &out)
        HTTPWriter.appendHeader("Host", "ai-gateway.example", into: &out)
        HTTPWriter.appendHeader("Transfer-Encoding", "chunked", into: &out)
        HTTPWriter.appendEndOfHead(into: &out)
        let headLength = out.count
        let parts = ["{\"model\":", String(repeating: "x", count: 300), "}"]
        for part in parts { Array(part.utf8).withUnsafeBytes { HTTPWriter.appendChunk($0, into: &out) } }
        HTTPWriter.appendLastChunk(into: &out)

        var parser = HTTPRequestParser()
        guard case .complete(let head, let consumed) = out.withUnsafeBytes({ parser.parse($0) }) else { return XCTFail() }
        XCTAssertEqual(consumed, headLength)
        XCTAssertEqual(head.framing, .chunked)
        XCTAssertEqual(head.value("host"), "ai-gateway.example")

        var decoder = ChunkedDecoder(maxBodyBytes: 1 << 20)
        var body: [UInt8] = []
        let result = out.withUnsafeBytes { decoder.decode(UnsafeRawBufferPointer(rebasing: $0[consumed...])) { body += $0 } }
        XCTAssertEqual(result, .done(consumed: out.count - consumed))
        XCTAssertEqual(String(decoding: body, as: UTF8.self), parts.joined())

        var response: [UInt8] = []
        HTTPWriter.appendStatusLine(201, into: &response)
        HTTPWriter.appendField(0, of: head, into: &response)
        HTTPWriter.appendHeader("Content-Length", 2, into: &response)
        HTTPWriter.appendEndOfHead(into: &response)
        response += Array("ok".utf8)
        var rparser = HTTPResponseParser()
        guard case .complete(let rhead, _) = response.withUnsafeBytes({ rparser.parse($0, requestMethodIsHEAD: false) }) else {
            return XCTFail()
        }
        XCTAssertEqual(rhead.status, 201)
        XCTAssertEqual(rhead.reasonString, "Created")
        XCTAssertEqual(rhead.value("host"), "ai-gateway.example")
        XCTAssertEqual(rhead.framing, .contentLength(2))
    }
}
