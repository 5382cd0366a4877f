import XCTest

@testable import UVProxy
@testable import HTTP1

/// Response vectors, driven like the proxy's upstream side: heads, then bodies by their framing
/// (`untilClose` bodies end with the input), 1xx heads reported and skipped.
final class HTTPResponseParserTests: XCTestCase {
    struct ResponseSummary: Equatable, CustomStringConvertible {
        var status: Int
        var reason: String = ""
        var minor = 1
        var framing: HTTPBodyFraming
        var keepAlive = true
        var body = ""
        var description: String { "\(status) \(reason.debugDescription) 1.\(minor) \(framing) ka=\(keepAlive) body=\(body.debugDescription)" }
    }

    /// `heads`: whether each successive request was a HEAD (the last value repeats).
    static func run(_ chunks: [[UInt8]], heads: [Bool], limits: HTTPLimits) -> StreamOutcome<ResponseSummary> {
        var parser = HTTPResponseParser(limits: limits)
        var buffer: [UInt8] = []
        var messages: [ResponseSummary] = []
        var current: ResponseSummary?
        var remaining = 0
        var decoder: ChunkedDecoder?
        var body: [UInt8] = []
        var finals = 0
        func finish() {
            current!.body = String(decoding: body, as: UTF8.self)
            messages.append(current!)
            current = nil
            decoder = nil
            body = []
        }
        for chunk in chunks {
            buffer += chunk
            progress: while true {
                if let c = current {
                    if c.framing == .untilClose {
                        body += buffer
                        buffer.removeAll()
                        break progress
                    }
                    if decoder != nil {
                        switch buffer.withUnsafeBytes({ decoder!.decode($0) { body += $0 } }) {
                        case .needMore:
                            buffer.removeAll()
                            break progress
                        case .done(let consumed):
                            buffer.removeFirst(consumed)
                            finish()
                        case .failure(let e):
                            return .failure(messages, e)
                        }
                    } else {
                        let take = min(remaining, buffer.count)
                        body += buffer[..<take]
                        buffer.removeFirst(take)
                        remaining -= take
                        if remaining > 0 { break progress }
                        finish()
                    }
                    continue
                }
                let isHEAD = heads[min(finals, heads.count - 1)]
                switch buffer.withUnsafeBytes({ parser.parse($0, requestMethodIsHEAD: isHEAD) }) {
                case .incomplete:
                    break progress
                case .failure(let e):
                    return .failure(messages, e)
                case .complete(let head, let consumed):
                    XCTAssertEqual(Array(buffer[..<consumed]), head.bytes)
                    buffer.removeFirst(consumed)
                    if !head.isInterim { finals += 1 }
                    current = ResponseSummary(
                        status: head.status, reason: head.reasonString, minor: head.minorVersion,
                        framing: head.framing, keepAlive: head.keepAlive)
                    switch head.framing {
                    case .none: finish()
                    case .untilClose: break
                    case .contentLength(let n): remaining = n
                    case .chunked: decoder = ChunkedDecoder(maxBodyBytes: limits.maxBodyBytes)
                    }
                }
            }
        }
        if current?.framing == .untilClose { finish() }  // the upstream closed: the body is complete
        return .messages(messages, pending: buffer.count + (current == nil ? 0 : 1))
    }

    struct Vector {
        var name: String
        var input: String
        var heads = [false]
        var limits = HTTPLimits()
        var expect: Expectation<[ResponseSummary]>
        var pending = 0
    }

    static let vectors: [Vector] = [
        Vector(name: "Content-Length", input: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello",
               expect: .value([.init(status: 200, reason: "OK", framing: .contentLength(5), body: "hello")])),
        Vector(name: "chunked", input: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nda\r\n\r\n3\r\nta:\r\n0\r\n\r\n",
               expect: .value([.init(status: 200, reason: "OK", framing: .chunked, body: "da\r\nta:")])),
        Vector(name: "close-delimited", input: "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: 1\n\ndata: 2\n\n",
               expect: .value([.init(status: 200, reason: "OK", framing: .untilClose, keepAlive: false, body: "data: 1\n\ndata: 2\n\n")])),
        Vector(name: "204 then a pipelined 200", input: "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
               expect: .value([.init(status: 204, reason: "No Content", framing: .none),
                                 .init(status: 200, reason: "OK", framing: .contentLength(1), body: "x")])),
        Vector(name: "304 ignores its Content-Length", input: "HTTP/1.1 304 Not Modified\r\nContent-Length: 99999999999\r\n\r\n",
               expect: .value([.init(status: 304, reason: "Not Modified", framing: .none)])),
        Vector(name: "response to HEAD ignores its Content-Length",
               input: "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", heads: [true, false],
               expect: .value([.init(status: 200, reason: "OK", framing: .none),
                                 .init(status: 200, reason: "OK", framing: .contentLength(2), body: "hi")])),
        Vector(name: "100-continue before 200",
               input: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
               expect: .value([.init(status: 100, reason: "Continue", framing: .none),
                                 .init(status: 200, reason: "OK", framing: .contentLength(2), body: "ok")])),
        Vector(name: "101 ends HTTP on the connection", input: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
               expect: .value([.init(status: 101, reason: "Switching Protocols", framing: .none, keepAlive: false)])),
        Vector(name: "HTTP/1.0 closes by default", input: "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx",
               expect: .value([.init(status: 200, reason: "OK", minor: 0, framing: .contentLength(1), keepAlive: false, body: "x")])),
        Vector(name: "HTTP/1.0 keep-alive", input: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx",
               expect: .value([.init(status: 200, reason: "OK", minor: 0, framing: .contentLength(1), keepAlive: true, body: "x")])),
        Vector(name: "Connection: close", input: "HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nRetry-After: 3\r\nContent-Length: 2\r\n\r\n{}",
               expect: .value([.init(status: 429, reason: "Too Many Requests", framing: .contentLength(2), keepAlive: false, body: "{}")])),
        Vector(name: "no reason phrase, no space", input: "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
               expect: .value([.init(status: 200, framing: .none)])),
        Vector(name: "empty reason phrase", input: "HTTP/1.1 500 \r\nContent-Length: 0\r\n\r\n",
               expect: .value([.init(status: 500, framing: .none)])),
        Vector(name: "reason with HT and obs-text", input: "HTTP/1.1 404 Not\tFound \u{E9}\r\nContent-Length: 0\r\n\r\n",
               expect: .value([.init(status: 404, reason: "Not\tFound \u{E9}", framing: .none)])),
        Vector(name: "partial body pending", input: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel",
               expect: .value([]), pending: 1),
        // Rejections.
        Vector(name: "two-digit status", input: "HTTP/1.1 20 OK\r\n\r\n", expect: .error(.badStatusLine)),
        Vector(name: "four-digit status", input: "HTTP/1.1 2000 OK\r\n\r\n", expect: .error(.badStatusLine)),
        Vector(name: "no space after status", input: "HTTP/1.1 200OK\r\n\r\n", expect: .error(.badStatusLine)),
        Vector(name: "status below 100", input: "HTTP/1.1 099 Odd\r\n\r\n", expect: .error(.badStatusLine)),
        Vector(name: "status above 599", input: "HTTP/1.1 600 Odd\r\n\r\n", expect: .error(.badStatusLine)),
        Vector(name: "missing status", input: "HTTP/1.1\r\n\r\n", expect: .error(.badStatusLine)),
        Vector(name: "not HTTP", input: "ICY 200 OK\r\n\r\n", expect: .error(.badStatusLine)),
        Vector(name: "HTTP/2", input: "HTTP/2 200\r\n\r\n", expect: .error(.invalidVersion)),
        Vector(name: "leading empty line", input: "\r\nHTTP/1.1 200 OK\r\n\r\n", expect: .error(.badStatusLine)),
        Vector(name: "bare LF", input: "HTTP/1.1 200 OK\nContent-Length: 0\n\n", expect: .error(.bareLF)),
        Vector(name: "bare CR", input: "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", expect: .error(.bareCR)),
        Vector(name: "obs-fold", input: "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", expect: .error(.obsFold)),
        Vector(name: "Content-Length with Transfer-Encoding",
               input: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
               expect: .error(.contentLengthWithTransferEncoding)),
        Vector(name: "gzip transfer coding", input: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
               expect: .error(.unsupportedTransferEncoding)),
        Vector(name: "final coding not chunked", input: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
               expect: .error(.badTransferEncoding)),
        Vector(name: "conflicting Content-Length", input: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
               expect: .error(.conflictingLength)),
        Vector(name: "Content-Length over the limit", input: "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n",
               limits: HTTPLimits(maxBodyBytes: 10), expect: .error(.bodyTooLarge)),
        Vector(name: "bad chunk framing", input: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX",
               expect: .error(.badChunkData)),
        Vector(name: "head over the limit", input: "HTTP/1.1 200 OK\r\nX: " + String(repeating: "b", count: 100),
               limits: HTTPLimits(maxHeadBytes: 64), expect: .error(.headTooLarge)),
    ]

    func testVectors() {
        for v in Self.vectors {
            let outcome = Feeding.agree(v.input.bytes, name: v.name) { Self.run($0, heads: v.heads, limits: v.limits) }
            switch (v.expect, outcome) {
            case (.value(let expected), .messages(let got, let pending)):
                XCTAssertEqual(got, expected, v.name)
                XCTAssertEqual(pending, v.pending, "\(v.name): pending")
            case (.error(let code), .failure(_, let error)):
                XCTAssertEqual(error.code, code, "\(v.name): \(error)")
            default:
                XCTFail("\(v.name): expected \(v.expect), got \(outcome)")
            }
        }
    }

    func testHeadHelpersAndStickyFailure() throws {
        var parser = HTTPResponseParser()
        let text = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\nX-Request-Id: r1\r\n\r\n"
        guard case .complete(let head, let consumed) = text.bytes.withUnsafeBytes({ parser.parse($0, requestMethodIsHEAD: false) })
        else { return XCTFail() }
        XCTAssertEqual(consumed, text.utf8.count)
        XCTAssertEqual(head.value("content-type"), "text/event-stream")
        XCTAssertTrue(head.has("transfer-encoding", token: "chunked"))
        XCTAssertFalse(head.isInterim)
        let bad = "HTTP/1.1 200 OK\r\nX : y\r\n\r\n".bytes
        guard case .failure(let e1) = bad.withUnsafeBytes({ parser.parse($0, requestMethodIsHEAD: false) }) else { return XCTFail() }
        guard case .failure(let e2) = text.bytes.withUnsafeBytes({ parser.parse($0, requestMethodIsHEAD: false) }) else {
            return XCTFail("not sticky")
        }
        XCTAssertEqual(e1, e2)
        parser.reset()
        guard case .complete = text.bytes.withUnsafeBytes({ parser.parse($0, requestMethodIsHEAD: false) }) else { return XCTFail() }
    }
}
