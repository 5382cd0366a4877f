import XCTest
@testable import Providers

final class SSEDecoderTests: XCTestCase {
    private struct Decoded: Equatable {
        var events: [String] = []
        var error: String?
    }

    /// Events rendered as "name|data" strings for readable comparisons.
    private func decode(_ chunks: [[UInt8]], maxEventBytes: Int = 1 << 20, finish: Bool = false) -> Decoded {
        var decoder = SSEDecoder(maxEventBytes: maxEventBytes)
        var result = Decoded()
        for chunk in chunks {
            do {
                try decoder.feed(chunk) { result.events.append($0.event.utf8String + "|" + $0.data.utf8String) }
            } catch {
                result.error = error.message
                return result
            }
        }
        if finish { decoder.finish { result.events.append($0.event.utf8String + "|" + $0.data.utf8String) } }
        return result
    }

    private func check(_ input: String, _ expected: [String], finish: Bool = false, line: UInt = #line) {
        assertEverySplit(bytes(input), expected: Decoded(events: expected), line: line) {
            decode($0, finish: finish)
        }
    }

    func testBasicEvents() {
        check("event: a\ndata: 1\n\ndata: 2\n\n", ["a|1", "|2"])
        check("data:no-space\n\n", ["|no-space"])
        check("data:  two spaces\n\n", ["| two spaces"])
        check("data\n\n", ["|"])
        check("data:\n\n", ["|"])
    }

    func testLineEnds() {
        check("event: a\r\ndata: 1\r\n\r\ndata: 2\r\rdata: 3\n\r\n", ["a|1", "|2", "|3"])
        check("data: x\r\r\ndata: y\r\n\r", ["|x", "|y"])
    }

    func testMultipleDataLinesCommentsAndIgnoredFields() {
        check(": keep-alive\n\nid: 7\nretry: 100\nevent: e\ndata: a\n: c\ndata: b\nfoo: bar\n\n", ["e|a\nb"])
    }

    func testEventWithoutDataIsNotDispatchedAndNameResets() {
        check("event: x\n\ndata: y\n\n", ["|y"])
    }

    func testBOMSkippedOnlyAtStart() {
        check("\u{FEFF}data: a\n\ndata: \u{FEFF}b\n\n", ["|a", "|\u{FEFF}b"])
        check("\u{FEFF}\u{FEFF}data: a\n\n", [])  // the second BOM makes the field name unknown
    }

    func testPartialBOMIsContent() {
        let input: [UInt8] = [0xEF, 0xBB] + bytes("data: a\n\n")
        // The field name starts with two stray bytes, so it is not "data": no event.
        assertEverySplit(input, expected: Decoded(events: [])) { decode($0) }
    }

    func testUnicodeSplitAnywhere() {
        check("event: é\ndata: {\"t\":\"😀中\"}\n\n", ["é|{\"t\":\"😀中\"}"])
    }

    func testIncompleteEventNeedsFinish() {
        check("data: a\n\ndata: b", ["|a"])
        check("data: a\n\ndata: b", ["|a", "|b"], finish: true)
        check("data: a\n\ndata: b\n", ["|a", "|b"], finish: true)
    }

    func testSizeLimitIsAnErrorAndSticky() {
        let big = "data: " + String(repeating: "x", count: 100) + "\n\n"
        assertEverySplit(bytes(big), expected: Decoded(events: [], error: "SSE event larger than 50 bytes")) {
            decode($0, maxEventBytes: 50)
        }
        // Many data lines also count.
        let lines = String(repeating: "data: 0123456789\n", count: 10) + "\n"
        XCTAssertEqual(decode([bytes(lines)], maxEventBytes: 50).error, "SSE event larger than 50 bytes")
        var d = SSEDecoder(maxEventBytes: 10)
        XCTAssertThrowsError(try d.feed(bytes("data: 0123456789abc")) { _ in })
        XCTAssertThrowsError(try d.feed(bytes("\n\n")) { _ in })
        // Under the limit: fine.
        XCTAssertEqual(decode([bytes("data: 0123456789\n\n")], maxEventBytes: 20).events, ["|0123456789"])
    }

    func testIsIdle() throws {
        var d = SSEDecoder()
        XCTAssertTrue(d.isIdle)
        try d.feed(bytes("data: a")) { _ in }
        XCTAssertFalse(d.isIdle)
        try d.feed(bytes("\n")) { _ in }
        XCTAssertFalse(d.isIdle)
        try d.feed(bytes("\n")) { _ in }
        XCTAssertTrue(d.isIdle)
    }

    func testEncoder() {
        var out: [UInt8] = []
        bytes("{}").withUnsafeBytes { SSEEncoder.event("message_start", data: $0, into: &out) }
        SSEEncoder.data(bytes("a\nb\r\nc"), into: &out)
        SSEEncoder.comment("keep-alive", into: &out)
        SSEEncoder.event("x", data: bytes("1"), into: &out)
        XCTAssertEqual(out.utf8String, "event: message_start\ndata: {}\n\ndata: a\ndata: b\ndata: c\n\n: keep-alive\n\nevent: x\ndata: 1\n\n")
        // Round trip through the decoder.
        XCTAssertEqual(decode([out]).events, ["message_start|{}", "|a\nb\nc", "x|1"])
    }
}
