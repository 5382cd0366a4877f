import XCTest

@testable import Providers

/// The in-place event path of `AnthropicToBedrockTranslator.streamChunk` must write what the decoder path
/// writes. Fed one byte at a time the translator never uses it (the decoder is never past its BOM check
/// on a whole chunk), so that output is the reference for whole feeds and every two- and three-piece split.
final class AnthropicToBedrockStreamFastPathTests: XCTestCase {
    private let start = #"data: {"type":"message_start","message":{"id":"m","content":[]}}"# + "\n\n"
    private let delta = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n"
    private let stop = "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"

    private func streams() -> [String] {
        let bodies = [
            delta, stop,
            "event: message_stop\ndata:{\"type\":\"message_stop\"}\n\n",
            "event:message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
            "event: other\ndata: {\"type\":\"message_stop\"}\n\n",
            "event: message_stop \ndata: {\"type\":\"message_stop\"}\n\n",
            "event: a\nevent: ping\ndata: {\"type\":\"ping\"}\n\n",
            "data: {\"type\":\"ping\",\n\"x\":1}\n\n",
            "data: {\"type\":\"ping\",\ndata: \"x\":1}\n\n",
            "data: {\"type\":\"ping\"}\r\n\r\n", "data: {\"type\":\"ping\"}\r\r", "data: {\"type\":\"ping\"}\n\r\n",
            ": comment\ndata: {\"type\":\"ping\"}\n\n", "id: 1\ndata: {\"type\":\"ping\"}\n\n",
            "\n\ndata: {\"type\":\"ping\"}\n\n", "data\n\n", "data: \n\n", "event: ping\n\n",
            "data: {\"type\":\"ping\",\"amazon-bedrock-invocationMetrics\":{\"a\":1}}\n\n",
            "event: ping\ndata: {\"type\":\"ping\",\"amazon-bedrock-invocationMetrics\":{\"a\":1}}\n\n",
            "data: {\"type\":\"pi\\ng\"}\n\n", "data: {\"type\":1}\n\n", "data: {\"message\":\"boom\"}\n\n",
            "data: {\"type\":\"ping\"\n\n", "data: [1]\n\n",
            "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"x\"}}\n\n" + delta,
            "data: {\"type\":\"ping\"}\n\ndata: {\"type\":\"ping\"}",
            "\u{FEFF}" + delta, "\u{FEFF}\u{FEFF}" + delta,
        ]
        var out: [String] = []
        for b in bodies {
            out.append(start + b + stop)
            out.append(b + delta + stop)
            out.append(start + delta + b)
        }
        return out
    }

    private func run(_ input: [UInt8], cuts: [Int], maxEventBytes: Int, end: Bool = true) -> [UInt8] {
        let t = AnthropicToBedrockTranslator(
            options: TranslationOptions(upstreamPath: "/model/{model}/{action}"), maxEventBytes: maxEventBytes)
        var out: [UInt8] = []
        var from = 0
        for c in cuts + [input.count] {
            input[from..<c].withUnsafeBytes { t.streamChunk($0, into: &out) }
            from = c
        }
        if end { t.streamEnd(into: &out) }
        return out
    }

    private func reference(_ input: [UInt8], maxEventBytes: Int) -> [UInt8] {
        run(input, cuts: Array(0..<input.count), maxEventBytes: maxEventBytes)
    }

    func testWholeAndSplitFeedsMatchTheDecoderPath() {
        var checked = 0
        for text in streams() {
            let input = Array(text.utf8)
            for limit in [4 << 20, 60] {
                let expected = reference(input, maxEventBytes: limit)
                XCTAssertEqual(run(input, cuts: [], maxEventBytes: limit), expected, text)
                for a in 0...input.count {
                    XCTAssertEqual(
                        String(decoding: run(input, cuts: [a], maxEventBytes: limit), as: UTF8.self),
                        String(decoding: expected, as: UTF8.self), "\(text) split at \(a)")
                    checked += 1
                }
                for a in stride(from: 0, through: input.count, by: 7) {
                    for b in stride(from: a, through: input.count, by: 5) {
                        XCTAssertEqual(run(input, cuts: [a, b], maxEventBytes: limit), expected, "\(text) \(a) \(b)")
                    }
                }
            }
        }
        XCTAssertGreaterThan(checked, 1000)
    }

    /// The common event is copied as the upstream wrote it, and the stream state (message_stop) is kept.
    func testPlainEventsComeOutAsWritten() {
        let input = Array((start + delta + delta + stop).utf8)
        let out = String(decoding: run(input, cuts: [start.utf8.count], maxEventBytes: 1 << 20), as: UTF8.self)
        XCTAssertEqual(out, "event: message_start\n" + start + delta + delta + stop)
    }
}
