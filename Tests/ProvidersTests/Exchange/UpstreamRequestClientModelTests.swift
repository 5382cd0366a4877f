import XCTest
@testable import Providers

/// `UpstreamRequest.modelValueRange`: the top-level `model` string of a body a translator has parsed.
final class UpstreamRequestClientModelTests: XCTestCase {
    private func model(_ body: String) -> String? {
        let b = Array(body.utf8)
        return UpstreamRequest.modelValueRange(in: b).map { String(decoding: b[$0], as: UTF8.self) }
    }

    func testTheTopLevelModelStringQuotesIncluded() {
        XCTAssertEqual(model(#"{"model":"gpt-5","messages":[]}"#), #""gpt-5""#)
        XCTAssertEqual(model(#"{"max_tokens":1,"messages":[{"model":"inner","content":"{\"model\":1}"}], "model" : "top"}"#), #""top""#)
        XCTAssertEqual(model(#"{"model":"first","model":"second"}"#), #""first""#)
        XCTAssertEqual(model(#"{"model":"caf\u00e9 \"q\""}"#), #""caf\u00e9 \"q\"""#)
    }

    func testNoModelOrNotAString() {
        XCTAssertNil(model(#"{"messages":[]}"#))
        XCTAssertNil(model(#"{"model":5}"#))
        XCTAssertNil(model(#"{"model":null}"#))
        XCTAssertNil(model(#"[]"#))
        XCTAssertNil(model(""))
    }
}
