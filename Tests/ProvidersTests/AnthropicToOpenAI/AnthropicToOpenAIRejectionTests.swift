import XCTest

@testable import Providers

/// `learnFromRejection`: a 400 that refuses an optional hint this translation added is retried once
/// without it; anything else is the client's error.
final class AnthropicToOpenAIRejectionTests: XCTestCase {
    let claudeCodeLike = bytes(
        #"{"model":"claude-opus-5-5","max_tokens":128000,"temperature":0.7,"thinking":{"type":"adaptive"},"stop_sequences":["END"],"messages":[{"role":"user","content":"x"}]}"#
    )

    func sent(_ translator: AnthropicToOpenAITranslator) throws -> JSON {
        try JSONParser.parse(try translator.upstreamRequest(for: ClientRequest(body: claudeCodeLike)).body)
    }

    /// An OpenAI error body: `{"error":{"message","type","param","code"}}`.
    func refusal(_ message: String, param: String?, code: String? = "unsupported_parameter") -> [UInt8] {
        let error = JSONObject([
            ("message", .string(message)), ("type", "invalid_request_error"),
            ("param", param.map { .string($0) } ?? .null), ("code", code.map { .string($0) } ?? .null),
        ])
        return JSONObject([("error", .object(error))]).bytes
    }

    func testUnsupportedReasoningEffortIsDroppedOnce() throws {
        let translator = AnthropicOpenAIFixtures.translator()
        XCTAssertEqual(try sent(translator)["reasoning_effort"], "medium")
        let retry = translator.learnFromRejection(
            status: 400,
            body: refusal(
                "Unsupported parameter: 'reasoning_effort' is not supported with this model.", param: "reasoning_effort"
            ))
        XCTAssertEqual(retry, RejectionRetry(learned: nil, model: "gpt-5"))
        let again = try sent(translator)
        XCTAssertNil(again["reasoning_effort"])
        XCTAssertEqual(again["temperature"]?.numberValue?.text, "0.7")
        XCTAssertTrue(translator.removedForUpstream.contains("field reasoning_effort (refused by the upstream)"))
    }

    /// A name quoted in the message counts when `param` is null.
    func testTemperatureNamedInTheMessage() throws {
        let translator = AnthropicOpenAIFixtures.translator()
        _ = try sent(translator)
        let retry = translator.learnFromRejection(
            status: 400,
            body: refusal(
                "Unsupported value: 'temperature' does not support 0.7 with this model. Only the default (1) value is supported.",
                param: nil, code: "unsupported_value"))
        XCTAssertNotNil(retry)
        XCTAssertNil(try sent(translator)["temperature"])
    }

    func testMaxTokensAboveTheModelsLimitIsCapped() throws {
        let translator = AnthropicOpenAIFixtures.translator()
        _ = try sent(translator)
        let retry = translator.learnFromRejection(
            status: 400,
            body: refusal(
                "max_tokens is too large: 128000. This model supports at most 16384 completion tokens, whereas you provided 128000.",
                param: "max_tokens", code: "invalid_value"))
        XCTAssertNotNil(retry)
        let again = try sent(translator)
        XCTAssertEqual(again["max_completion_tokens"], 16384)
        XCTAssertTrue(translator.removedForUpstream.contains("max_tokens above the upstream's limit"))
    }

    /// Constraints, other statuses, unknown params and params not sent are not retried.
    func testOtherRejectionsAreNotRetried() throws {
        let translator = AnthropicOpenAIFixtures.translator()
        _ = try sent(translator)
        XCTAssertNil(
            translator.learnFromRejection(status: 400, body: refusal("Unsupported parameter: 'stop'.", param: "stop")))
        XCTAssertNil(translator.learnFromRejection(status: 400, body: refusal("bad", param: "top_p")))  // not sent
        XCTAssertNil(
            translator.learnFromRejection(status: 400, body: refusal("Invalid 'messages[0]'.", param: "messages")))
        XCTAssertNil(translator.learnFromRejection(status: 429, body: refusal("slow down", param: "temperature")))
        XCTAssertNil(translator.learnFromRejection(status: 400, body: bytes("<html>bad request</html>")))
        XCTAssertNil(
            translator.learnFromRejection(
                status: 400, body: refusal("max_tokens is too large: at most 200000 tokens", param: "max_tokens")))
        XCTAssertEqual(try sent(translator)["temperature"]?.numberValue?.text, "0.7")
    }
}
