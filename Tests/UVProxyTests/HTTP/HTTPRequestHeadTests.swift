import XCTest

@testable import UVProxy
@testable import HTTP1

/// The request parser's contract beyond the vectors: spans, lookups, limits as bytes arrive,
/// sticky failures, reuse.
final class HTTPRequestHeadTests: XCTestCase {
    func parseOne(_ s: String, limits: HTTPLimits = HTTPLimits()) -> (HTTPRequestHead, Int)? {
        var parser = HTTPRequestParser(limits: limits)
        let bytes = s.bytes
        switch bytes.withUnsafeBytes({ parser.parse($0) }) {
        case .complete(let head, let consumed): return (head, consumed)
        case .incomplete: XCTFail("incomplete"); return nil
        case .failure(let e): XCTFail("\(e)"); return nil
        }
    }

    func testValueHasPrefixIsCaseInsensitiveOnTheFirstField() throws {
        let text = "GET / HTTP/1.1\r\nHost: x\r\nContent-Type: Text/Event-Stream; charset=utf-8\r\nX-Short: te\r\nX-Empty:\r\n"
            + "X-Two: other\r\nx-two: text/plain\r\n\r\n"
        let (head, _) = try XCTUnwrap(parseOne(text))
        XCTAssertTrue(head.valueHasPrefix("content-type", "text/event-stream"))
        XCTAssertTrue(head.valueHasPrefix("CONTENT-TYPE", "text/"))
        XCTAssertTrue(head.valueHasPrefix("content-type", ""))
        XCTAssertFalse(head.valueHasPrefix("content-type", "application/json"))
        XCTAssertFalse(head.valueHasPrefix("x-short", "text"), "a value shorter than the prefix")
        XCTAssertTrue(head.valueHasPrefix("x-empty", ""))
        XCTAssertFalse(head.valueHasPrefix("x-empty", "a"))
        XCTAssertFalse(head.valueHasPrefix("x-missing", ""), "an absent field has no prefix")
        XCTAssertFalse(head.valueHasPrefix("x-two", "text/plain"), "only the first field so named counts")
    }

    func testFieldsAreSpansWithOWSTrimmed() throws {
        let text = "\r\nPOST /v1/chat?x=1 HTTP/1.1\r\nHost:  example.com \t\r\nX-Empty:\r\nx-list: a, b\r\nX-List: c\r\n"
            + "Connection: Keep-Alive, X-Foo\r\nContent-Length: 2\r\n\r\nhi"
        let (head, consumed) = try XCTUnwrap(parseOne(text))
        XCTAssertEqual(consumed, text.utf8.count - 2)
        XCTAssertEqual(head.bytes.count, consumed - 2, "leading empty lines are not part of the head")
        XCTAssertEqual(String(decoding: head.bytes.prefix(4), as: UTF8.self), "POST")
        XCTAssertEqual(head.methodString, "POST")
        XCTAssertTrue(head.isMethod("POST"))
        XCTAssertFalse(head.isMethod("POS"))
        XCTAssertFalse(head.isMethod("post"))
        XCTAssertEqual(head.targetString, "/v1/chat?x=1")
        XCTAssertEqual(String(decoding: head.pathBytes, as: UTF8.self), "/v1/chat")
        XCTAssertEqual(head.fields.count, 6)
        XCTAssertEqual(head.name(at: 0), "Host")
        XCTAssertEqual(head.value(at: 0), "example.com")
        XCTAssertEqual(head.value("host"), "example.com")
        XCTAssertEqual(head.value("HOST"), "example.com")
        XCTAssertEqual(head.value("x-empty"), "")
        XCTAssertNil(head.value("x-missing"))
        XCTAssertEqual(head.values("x-list"), ["a, b", "c"])
        XCTAssertTrue(head.has("x-list", token: "b"))
        XCTAssertTrue(head.has("x-list", token: "C"))
        XCTAssertFalse(head.has("x-list", token: "a, b"))
        XCTAssertTrue(head.has("connection", token: "x-foo"))
        XCTAssertTrue(head.nameEquals(4, lowercased: Array("connection".utf8)))
        XCTAssertFalse(head.nameEquals(4, lowercased: Array("connectio".utf8)))
        XCTAssertFalse(head.nameEquals(99, lowercased: Array("host".utf8)))
        XCTAssertEqual(head.firstIndex(of: "content-length"), 5)
        XCTAssertEqual(head.framing, .contentLength(2))
        XCTAssertTrue(head.keepAlive)
    }

    /// 431 must come as soon as the buffer passes the limit without a terminator, not when the
    /// client decides to stop sending.
    func testHeadTooLargeIsDetectedAsSoonAsTheLimitIsPassed() {
        let limit = 64
        var parser = HTTPRequestParser(limits: HTTPLimits(maxHeadBytes: limit))
        var buffer = "GET / HTTP/1.1\r\nHost: a\r\nX-Long: ".bytes
        while true {
            buffer.append(UInt8(ascii: "a"))
            let result = buffer.withUnsafeBytes { parser.parse($0) }
            if case .failure(let e) = result {
                XCTAssertEqual(e.code, .headTooLarge)
                XCTAssertEqual(e.status, 431)
                XCTAssertEqual(buffer.count, limit + 1)
                return
            }
            guard case .incomplete = result, buffer.count <= limit else { return XCTFail("\(result)") }
        }
    }

    func testFailuresAreStickyUntilReset() {
        var parser = HTTPRequestParser()
        let bad = "GET / HTTP/1.1\r\nHost : a\r\n\r\n".bytes
        let good = "GET / HTTP/1.1\r\nHost: a\r\n\r\n".bytes
        guard case .failure(let first) = bad.withUnsafeBytes({ parser.parse($0) }) else { return XCTFail() }
        guard case .failure(let again) = good.withUnsafeBytes({ parser.parse($0) }) else { return XCTFail("not sticky") }
        XCTAssertEqual(first, again)
        parser.reset()
        guard case .complete(_, let consumed) = good.withUnsafeBytes({ parser.parse($0) }) else { return XCTFail() }
        XCTAssertEqual(consumed, good.count)
    }

    /// After a complete head the parser starts over by itself, and an explicit reset is harmless.
    func testReuseAfterCompleteHead() {
        var parser = HTTPRequestParser()
        let a = "GET /a HTTP/1.1\r\nHost: a\r\nX-One: 1\r\n\r\n".bytes
        let b = "DELETE /bb HTTP/1.1\r\nHost: b\r\n\r\n".bytes
        guard case .complete(let ha, let ca) = a.withUnsafeBytes({ parser.parse($0) }) else { return XCTFail() }
        guard case .complete(let hb, let cb) = b.withUnsafeBytes({ parser.parse($0) }) else { return XCTFail() }
        parser.reset()
        guard case .complete(let hb2, _) = b.withUnsafeBytes({ parser.parse($0) }) else { return XCTFail() }
        XCTAssertEqual(ca, a.count)
        XCTAssertEqual(cb, b.count)
        XCTAssertEqual(ha.fields.count, 2)
        XCTAssertEqual(hb.fields.count, 1, "fields of the previous head must not leak into the next")
        XCTAssertEqual(hb.targetString, "/bb")
        XCTAssertEqual(hb2.fields, hb.fields)
        XCTAssertEqual(ha.targetString, "/a", "a returned head owns its bytes")
    }

    /// Error messages name what and where but never echo what the client sent.
    func testErrorMessagesDoNotEchoValues() {
        let secret = "sk-SECRET-TOKEN"
        let inputs = [
            "GET / HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer \(secret)\u{0}\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: \(secret)\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \(secret)\r\n\r\n",
            "GET /\(secret)\u{E9} HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\n\(secret) x: 1\r\n\r\n",
        ]
        for input in inputs {
            var parser = HTTPRequestParser()
            guard case .failure(let e) = input.bytes.withUnsafeBytes({ parser.parse($0) }) else {
                XCTFail("accepted \(input.debugDescription)")
                continue
            }
            XCTAssertFalse(e.message.contains("SECRET"), e.message)
            XCTAssertFalse(e.description.contains("SECRET"), e.description)
        }
    }

    func testLineNumbersInMessages() {
        var parser = HTTPRequestParser()
        let input = "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n y\r\n\r\n".bytes
        guard case .failure(let e) = input.withUnsafeBytes({ parser.parse($0) }) else { return XCTFail() }
        XCTAssertEqual(e.code, .obsFold)
        XCTAssertTrue(e.message.contains("line 4"), e.message)
    }

    /// Not a timing assertion: prints the cost of parsing a typical ~300-byte proxied request.
    func testBenchmarkTypicalRequest() {
        let request = ("POST /openai/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:3001\r\n"
            + "User-Agent: OpenAI/Python 1.54.0\r\nAccept: application/json\r\nAccept-Encoding: gzip, deflate\r\n"
            + "Content-Type: application/json\r\nAuthorization: Bearer sk-test-0123456789abcdef\r\n"
            + "X-Stainless-Lang: python\r\nX-Stainless-Retry-Count: 0\r\nConnection: keep-alive\r\n"
            + "Content-Length: 178\r\n\r\n").bytes
        XCTAssertGreaterThan(request.count, 280)
        var parser = HTTPRequestParser()
        let iterations = 100_000
        var checksum = 0
        let start = DispatchTime.now().uptimeNanoseconds
        request.withUnsafeBytes { p in
            for _ in 0..<iterations {
                if case .complete(let head, let consumed) = parser.parse(p) {
                    checksum &+= consumed &+ head.fields.count
                }
            }
        }
        let elapsed = DispatchTime.now().uptimeNanoseconds - start
        XCTAssertEqual(checksum, iterations * (request.count + 10))
        print("HTTPRequestParser: \(request.count)-byte request, \(elapsed / UInt64(iterations)) ns/op")
    }
}
