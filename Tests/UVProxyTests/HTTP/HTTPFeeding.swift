import XCTest

@testable import UVProxy
@testable import HTTP1

/// Feeds a byte stream to a parser in every way the network could deliver it: whole, one byte at
/// a time, and split in two at every index. A vector passes only if every delivery gives the same
/// outcome (including the exact error message) and that outcome is the expected one.
enum Feeding {
    /// Every delivery of `bytes`: whole, byte by byte, and each two-part split.
    static func deliveries(_ bytes: [UInt8]) -> [(String, [[UInt8]])] {
        var out: [(String, [[UInt8]])] = [("whole", [bytes])]
        out.append(("byte by byte", bytes.map { [$0] }))
        for i in 0...bytes.count {
            out.append(("split at \(i)", [Array(bytes[..<i]), Array(bytes[i...])]))
        }
        return out
    }

    /// Runs `run` over every delivery; asserts they agree and returns the common outcome.
    static func agree<Outcome: Equatable>(
        _ bytes: [UInt8], name: String, file: StaticString = #filePath, line: UInt = #line,
        _ run: ([[UInt8]]) -> Outcome
    ) -> Outcome {
        let all = deliveries(bytes)
        let reference = run(all[0].1)
        for (how, chunks) in all.dropFirst() {
            let outcome = run(chunks)
            if outcome != reference {
                XCTFail("\(name): fed \(how) gave \(outcome), whole gave \(reference)", file: file, line: line)
                break
            }
        }
        return reference
    }
}

/// A message as the connection would see it: the head's framing facts and the decoded body.
struct RequestSummary: Equatable, CustomStringConvertible {
    var method: String
    var target: String
    var minor: Int
    var framing: HTTPBodyFraming
    var keepAlive: Bool
    var expectContinue: Bool = false
    var body: String = ""

    var description: String {
        "\(method) \(target) 1.\(minor) \(framing) ka=\(keepAlive) expect=\(expectContinue) body=\(body.debugDescription)"
    }
}

enum StreamOutcome<Message: Equatable>: Equatable {
    /// Input ended: these messages, and this many bytes that belong to no finished message.
    case messages([Message], pending: Int)
    /// These messages, then this error.
    case failure([Message], HTTPParseError)
}

/// Drives `HTTPRequestParser` (and `ChunkedDecoder` for chunked bodies) the way the proxy's
/// connection does: one growing buffer, consumed bytes dropped, the parser re-called on the rest.
struct RequestStream {
    var limits = HTTPLimits()

    func run(_ chunks: [[UInt8]]) -> StreamOutcome<RequestSummary> {
        var parser = HTTPRequestParser(limits: limits)
        var buffer: [UInt8] = []
        var messages: [RequestSummary] = []
        var current: RequestSummary?
        var remaining = 0
        var decoder: ChunkedDecoder?
        var body: [UInt8] = []
        var total = 0
        var finished = 0
        var inFlight = 0

        func finishMessage() {
            finished += inFlight
            inFlight = 0
            current!.body = String(decoding: body, as: UTF8.self)
            messages.append(current!)
            current = nil
            decoder = nil
            body = []
        }

        for chunk in chunks {
            buffer += chunk
            total += chunk.count
            progress: while true {
                if current != nil {
                    if decoder != nil {
                        let result = buffer.withUnsafeBytes { decoder!.decode($0) { body += $0 } }
                        switch result {
                        case .needMore(let consumed):
                            XCTAssertEqual(consumed, buffer.count)
                            inFlight += consumed
                            buffer.removeAll()
                            break progress
                        case .done(let consumed):
                            buffer.removeFirst(consumed)
                            inFlight += consumed
                            finishMessage()
                        case .failure(let error):
                            return .failure(messages, error)
                        }
                    } else {
                        let take = min(remaining, buffer.count)
                        body += buffer[..<take]
                        buffer.removeFirst(take)
                        inFlight += take
                        remaining -= take
                        if remaining > 0 { break progress }
                        finishMessage()
                    }
                    continue
                }
                switch buffer.withUnsafeBytes({ parser.parse($0) }) {
                case .incomplete:
                    break progress
                case .failure(let error):
                    return .failure(messages, error)
                case .complete(let head, let consumed):
                    XCTAssertLessThanOrEqual(consumed, buffer.count)
                    XCTAssertEqual(Array(buffer[(consumed - head.bytes.count)..<consumed]), head.bytes)
                    buffer.removeFirst(consumed)
                    inFlight += consumed
                    current = RequestSummary(
                        method: head.methodString, target: head.targetString, minor: head.minorVersion,
                        framing: head.framing, keepAlive: head.keepAlive, expectContinue: head.expectContinue)
                    switch head.framing {
                    case .none, .untilClose: finishMessage()
                    case .contentLength(let n): remaining = n
                    case .chunked: decoder = ChunkedDecoder(maxBodyBytes: limits.maxBodyBytes, maxTrailerBytes: 64)
                    }
                }
            }
        }
        return .messages(messages, pending: total - finished)
    }
}

extension String {
    var bytes: [UInt8] { Array(utf8) }
}

/// What a vector expects: a value, or a failure with this code.
enum Expectation<Value> {
    case value(Value)
    case error(HTTPParseError.Code)
}
extension Expectation: Sendable where Value: Sendable {}
