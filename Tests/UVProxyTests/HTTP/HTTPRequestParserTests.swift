import XCTest

@testable import UVProxy
@testable import HTTP1

/// Request vectors in the spirit of llhttp's test data: raw bytes and what the connection must see.
/// Every vector is fed whole, byte by byte and split at every index (see `Feeding`).
final class HTTPRequestParserTests: XCTestCase {
    struct Vector {
        var name: String
        var input: [UInt8]
        var limits = HTTPLimits()
        var expect: Expect
    }

    enum Expect {
        case messages([RequestSummary], pending: Int = 0)
        /// `before` messages parse fine, then the stream fails with this code and status.
        case failure(HTTPParseError.Code, status: Int, before: Int = 0)
    }

    static func get(_ target: String = "/", minor: Int = 1, keepAlive: Bool = true) -> RequestSummary {
        RequestSummary(method: "GET", target: target, minor: minor, framing: .none, keepAlive: keepAlive)
    }

    static func post(_ framing: HTTPBodyFraming, body: String, target: String = "/v1/chat") -> RequestSummary {
        RequestSummary(method: "POST", target: target, minor: 1, framing: framing, keepAlive: true, body: body)
    }

    static let host = "Host: example.com\r\n"

    static let valid: [Vector] = [
        Vector(name: "simple GET", input: "GET / HTTP/1.1\r\nHost: a\r\n\r\n".bytes, expect: .messages([get()])),
        Vector(
            name: "GET with query and many headers",
            input: ("GET /openai/v1/models?limit=10&x=%20 HTTP/1.1\r\n\(host)User-Agent: curl/8.0\r\n"
                + "Accept: */*\r\nX-Request-Id: abc-123\r\n\r\n").bytes,
            expect: .messages([get("/openai/v1/models?limit=10&x=%20")])),
        Vector(
            name: "POST with Content-Length",
            input: "POST /v1/chat HTTP/1.1\r\n\(host)Content-Length: 5\r\n\r\nhello".bytes,
            expect: .messages([post(.contentLength(5), body: "hello")])),
        Vector(
            name: "POST chunked with extensions and trailers",
            input: ("POST /v1/chat HTTP/1.1\r\n\(host)Transfer-Encoding: chunked\r\n\r\n"
                + "5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: 1\r\n\r\n").bytes,
            expect: .messages([post(.chunked, body: "hello world")])),
        Vector(
            name: "Transfer-Encoding is case-insensitive and ignores empty list elements",
            input: "POST /v1/chat HTTP/1.1\r\n\(host)Transfer-Encoding: , CHUNKED\r\n\r\n1\r\nx\r\n0\r\n\r\n".bytes,
            expect: .messages([post(.chunked, body: "x")])),
        Vector(
            name: "two pipelined GETs in one buffer",
            input: "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n".bytes,
            expect: .messages([get("/a"), get("/b")])),
        Vector(
            name: "pipelined GET, POST with body, chunked POST, GET",
            input: ("GET /a HTTP/1.1\r\nHost: a\r\n\r\nPOST /v1/chat HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
                + "POST /v1/chat HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n0\r\n\r\n"
                + "GET /z HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").bytes,
            expect: .messages([
                get("/a"), post(.contentLength(3), body: "abc"), post(.chunked, body: "de"), get("/z", keepAlive: false),
            ])),
        Vector(
            name: "a complete request then a partial one",
            input: "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHo".bytes,
            expect: .messages([get("/a")], pending: 19)),
        Vector(
            name: "a head whose body has not fully arrived",
            input: "POST /v1/chat HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc".bytes,
            expect: .messages([], pending: 58)),
        Vector(
            name: "empty lines before the request line are skipped (RFC 9112 2.2)",
            input: "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n".bytes, expect: .messages([get()])),
        Vector(name: "HTTP/1.0 without Host closes", input: "GET / HTTP/1.0\r\n\r\n".bytes, expect: .messages([get(minor: 0, keepAlive: false)])),
        Vector(
            name: "HTTP/1.0 keep-alive", input: "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n".bytes,
            expect: .messages([get(minor: 0)])),
        Vector(
            name: "Connection: close in a list", input: "GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade, CLOSE\r\n\r\n".bytes,
            expect: .messages([get(keepAlive: false)])),
        Vector(
            name: "Expect: 100-continue",
            input: "POST /v1/chat HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\nhi".bytes,
            expect: .messages([
                RequestSummary(method: "POST", target: "/v1/chat", minor: 1, framing: .contentLength(2), keepAlive: true,
                               expectContinue: true, body: "hi")
            ])),
        Vector(
            name: "Expect on HTTP/1.0 is ignored", input: "GET / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n".bytes,
            expect: .messages([get(minor: 0, keepAlive: false)])),
        Vector(
            name: "identical duplicate Content-Length fields and lists",
            input: "POST /v1/chat HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3, 03\r\n\r\nabc".bytes,
            expect: .messages([post(.contentLength(3), body: "abc")])),
        Vector(
            name: "Content-Length: 0 is no body",
            input: "POST /v1/chat HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n".bytes,
            expect: .messages([post(.none, body: "")])),
        Vector(
            name: "obs-text, HT and empty values are allowed",
            input: "GET / HTTP/1.1\r\nHost: a\r\nX-Name: caf\u{E9}\tau lait\r\nX-Empty:\r\nX-Spaces: \t \r\n\r\n".bytes,
            expect: .messages([get()])),
        Vector(
            name: "absolute-form target and a minor version above 1",
            input: "OPTIONS http://example.com:8080/x?y HTTP/1.2\r\nHost: example.com\r\n\r\n".bytes,
            expect: .messages([
                RequestSummary(method: "OPTIONS", target: "http://example.com:8080/x?y", minor: 2, framing: .none, keepAlive: true)
            ])),
        Vector(
            name: "exactly maxHeaderCount fields", input: "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n".bytes,
            limits: HTTPLimits(maxHeaderCount: 3), expect: .messages([get()])),
        Vector(
            name: "a head of exactly maxHeadBytes", input: "GET / HTTP/1.1\r\nHost: a\r\n\r\n".bytes,
            limits: HTTPLimits(maxHeadBytes: 27), expect: .messages([get()])),
        Vector(
            name: "Content-Length of exactly maxBodyBytes",
            input: "POST /v1/chat HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nabcd".bytes,
            limits: HTTPLimits(maxBodyBytes: 4), expect: .messages([post(.contentLength(4), body: "abcd")])),
    ]

    static func reject(_ name: String, _ input: String, _ code: HTTPParseError.Code, _ status: Int = 400,
                       limits: HTTPLimits = HTTPLimits(), before: Int = 0) -> Vector {
        Vector(name: name, input: input.bytes, limits: limits, expect: .failure(code, status: status, before: before))
    }

    static let invalid: [Vector] = [
        // Request line.
        reject("method with a non-token byte", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", .badRequestLine),
        reject("empty method", " / HTTP/1.1\r\nHost: a\r\n\r\n", .badRequestLine),
        reject("two spaces after the method", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", .badRequestLine),
        reject("HT instead of SP", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", .badRequestLine),
        reject("no version", "GET /\r\nHost: a\r\n\r\n", .badRequestLine),
        reject("space after the version", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", .badRequestLine),
        reject("lowercase protocol name", "GET / http/1.1\r\nHost: a\r\n\r\n", .badRequestLine),
        reject("two-digit minor version", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", .badRequestLine),
        reject("junk version", "GET / HTTX/1.1\r\nHost: a\r\n\r\n", .badRequestLine),
        reject("HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", .invalidVersion, 505),
        reject("the HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", .invalidVersion, 505),
        reject("HTTP/3", "GET / HTTP/3\r\nHost: a\r\n\r\n", .invalidVersion, 505),
        reject("HTTP/0.9", "GET / HTTP/0.9\r\n\r\n", .invalidVersion, 505),
        reject("raw non-ASCII byte in the target", "GET /caf\u{E9} HTTP/1.1\r\nHost: a\r\n\r\n", .badRequestLine),
        reject("DEL in the target", "GET /a\u{7F} HTTP/1.1\r\nHost: a\r\n\r\n", .controlCharacter),
        reject("a TLS ClientHello on the plain port", "\u{16}\u{03}\u{01}\u{02}\u{00}\u{01}\u{00}", .controlCharacter),
        // Line endings.
        reject("bare LF ending the request line", "GET / HTTP/1.1\nHost: a\n\n", .bareLF),
        reject("bare LF ending a header", "GET / HTTP/1.1\r\nHost: a\n\r\n", .bareLF),
        reject("bare LF ending the head", "GET / HTTP/1.1\r\nHost: a\r\n\n", .bareLF),
        reject("bare CR in the request line", "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", .bareCR),
        reject("bare CR in a value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", .bareCR),
        reject("bare CR ending a header", "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", .bareCR),
        // Header syntax.
        reject("obsolete line folding with SP", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n  b\r\n\r\n", .obsFold),
        reject("obsolete line folding with HT", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n", .obsFold),
        reject("whitespace before the colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", .badHeader),
        reject("smuggling: space before the colon of Transfer-Encoding",
               "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n", .badHeader),
        reject("no colon", "GET / HTTP/1.1\r\nHost: a\r\nJunk\r\n\r\n", .badHeader),
        reject("empty name", "GET / HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n", .badHeader),
        reject("non-token byte in a name", "GET / HTTP/1.1\r\nHost: a\r\nX(y): 1\r\n\r\n", .badHeader),
        reject("non-ASCII byte in a name", "GET / HTTP/1.1\r\nHost: a\r\nX\u{E9}: 1\r\n\r\n", .badHeader),
        reject("NUL in a value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\u{0}b\r\n\r\n", .nulInHeader),
        reject("NUL in a name", "GET / HTTP/1.1\r\nHost: a\r\nX\u{0}: b\r\n\r\n", .nulInHeader),
        reject("control character in a value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\u{1}b\r\n\r\n", .controlCharacter),
        reject("vertical tab in Transfer-Encoding",
               "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\u{B}\r\n\r\n", .controlCharacter),
        reject("DEL in a value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\u{7F}\r\n\r\n", .controlCharacter),
        // Content-Length.
        reject("non-digit Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", .badContentLength),
        reject("negative Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", .badContentLength),
        reject("signed Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", .badContentLength),
        reject("hex Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", .badContentLength),
        reject("Content-Length with inner space", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n", .badContentLength),
        reject("empty Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", .badContentLength),
        reject("Content-Length list with an empty element", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,\r\n\r\n", .badContentLength),
        reject("overflowing Content-Length",
               "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", .badContentLength),
        reject("conflicting Content-Length fields",
               "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", .conflictingLength),
        reject("conflicting Content-Length list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\nhello", .conflictingLength),
        reject("Content-Length above maxBodyBytes", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", .bodyTooLarge, 413,
               limits: HTTPLimits(maxBodyBytes: 4)),
        reject("Content-Length of a huge body", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000000000\r\n\r\n", .bodyTooLarge, 413),
        // Transfer-Encoding.
        reject("smuggling: Content-Length and Transfer-Encoding",
               "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
               .contentLengthWithTransferEncoding),
        reject("smuggling: Transfer-Encoding then Content-Length",
               "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
               .contentLengthWithTransferEncoding),
        reject("final coding not chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", .badTransferEncoding),
        reject("chunked then another coding",
               "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n", .badTransferEncoding),
        reject("gzip then chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
               .unsupportedTransferEncoding, 501),
        reject("unknown coding then chunked across fields",
               "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: foo\r\nTransfer-Encoding: chunked\r\n\r\n",
               .unsupportedTransferEncoding, 501),
        reject("chunked twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", .badTransferEncoding),
        reject("chunked twice across fields",
               "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", .badTransferEncoding),
        reject("empty Transfer-Encoding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\n\r\n", .badTransferEncoding),
        reject("chunked with a parameter", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n", .badTransferEncoding),
        reject("a prefix of chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", .badTransferEncoding),
        reject("Transfer-Encoding on HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", .badTransferEncoding),
        // Host.
        reject("HTTP/1.1 without Host", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", .missingHost),
        reject("two Host fields", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", .duplicateHost),
        // Limits.
        reject("one field more than maxHeaderCount", "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
               .tooManyHeaders, 431, limits: HTTPLimits(maxHeaderCount: 3)),
        reject("a head one byte over maxHeadBytes", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", .headTooLarge, 431,
               limits: HTTPLimits(maxHeadBytes: 26)),
        reject("a head that never ends", "GET / HTTP/1.1\r\nHost: a\r\nX: " + String(repeating: "a", count: 200), .headTooLarge, 431,
               limits: HTTPLimits(maxHeadBytes: 100)),
        reject("endless empty lines", String(repeating: "\r\n", count: 60), .headTooLarge, 431, limits: HTTPLimits(maxHeadBytes: 100)),
        // Bodies.
        reject("bad chunk size in a request body",
               "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", .badChunkSize),
        reject("chunked body over maxBodyBytes",
               "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n", .bodyTooLarge, 413,
               limits: HTTPLimits(maxBodyBytes: 5)),
        // Pipelining: the good request is answered, then the bad one fails.
        reject("a valid request followed by a smuggled one",
               "GET / HTTP/1.1\r\nHost: a\r\n\r\nPOST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
               .conflictingLength, before: 1),
        reject("a body followed by junk", "POST /v1/chat HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhiHELLO\r\n\r\n",
               .badRequestLine, before: 1),
    ]

    func check(_ vectors: [Vector]) {
        for v in vectors {
            let outcome = Feeding.agree(v.input, name: v.name) { RequestStream(limits: v.limits).run($0) }
            switch (v.expect, outcome) {
            case (.messages(let expected, let pending), .messages(let got, let gotPending)):
                XCTAssertEqual(got, expected, v.name)
                XCTAssertEqual(gotPending, pending, "\(v.name): pending bytes")
            case (.failure(let code, let status, let before), .failure(let got, let error)):
                XCTAssertEqual(error.code, code, "\(v.name): \(error)")
                XCTAssertEqual(error.status, status, "\(v.name): \(error)")
                XCTAssertEqual(got.count, before, "\(v.name): messages before the failure")
                XCTAssertFalse(error.message.isEmpty)
            default:
                XCTFail("\(v.name): expected \(v.expect), got \(outcome)")
            }
        }
    }

    func testValidVectors() { check(Self.valid) }
    func testRejectedVectors() { check(Self.invalid) }
}
