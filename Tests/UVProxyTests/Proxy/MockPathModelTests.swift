import XCTest

@testable import UVProxy
@testable import MockGateway

/// The mock upstream's reading of a Bedrock path: percent-decoding and the version suffix.
final class MockPathModelTests: XCTestCase {
    func testPercentDecoding() {
        XCTAssertEqual(MockUpstream.percentDecoded("a%2Bb%3a0"), "a+b:0")
        XCTAssertEqual(MockUpstream.percentDecoded("plain"), "plain")
        XCTAssertEqual(MockUpstream.percentDecoded("%C3%A9"), "é")
        XCTAssertNil(MockUpstream.percentDecoded("%C3"))  // not UTF-8
        XCTAssertNil(MockUpstream.percentDecoded("a%2"))
        XCTAssertNil(MockUpstream.percentDecoded("a%zz"))
        XCTAssertNil(MockUpstream.percentDecoded("%"))
    }

    func testVersionSuffix() {
        XCTAssertEqual(MockUpstream.removingVersionSuffix("m+x-v1:0"), "m+x")
        XCTAssertEqual(MockUpstream.removingVersionSuffix("m+x-v12"), "m+x")
        XCTAssertEqual(MockUpstream.removingVersionSuffix("m+x-v1:"), "m+x-v1:")
        XCTAssertEqual(MockUpstream.removingVersionSuffix("m+x-v:0"), "m+x-v:0")
        XCTAssertEqual(MockUpstream.removingVersionSuffix("m+x:0"), "m+x:0")
        XCTAssertEqual(MockUpstream.removingVersionSuffix("-v1"), "")
        XCTAssertEqual(MockUpstream.removingVersionSuffix("v1"), "v1")
        XCTAssertEqual(MockUpstream.removingVersionSuffix(""), "")
    }

    func testPathModel() {
        XCTAssertEqual(MockUpstream.pathModel("/v1/bedrock/model/a.b%2Bthink-v1%3A0/invoke"), "a.b+think")
        XCTAssertEqual(MockUpstream.pathModel("/model/a.b-v1:0/invoke?x=1"), "a.b-v1:0")  // no '+': kept
        XCTAssertNil(MockUpstream.pathModel("/v1/chat/completions"))
        XCTAssertEqual(MockUpstream.pathModel("/model//m+x-v2//invoke-with-response-stream/"), "m+x", "empty segments are skipped")
        XCTAssertEqual(MockUpstream.pathModel("/model/é日/invoke"), "é日")
        XCTAssertNil(MockUpstream.pathModel("/model/invoke"), "no model segment")
        XCTAssertNil(MockUpstream.pathModel("/model/"))
        XCTAssertNil(MockUpstream.pathModel("/v2/bedrock/model/m/invoke"))
    }
}
