import XCTest
@testable import Providers

final class JSONObjectScannerTests: XCTestCase {
    private func scan(_ s: String) throws -> JSONObjectScan { try JSONObjectScanner.scan(bytes(s)) }

    private func edit(_ s: String, _ build: (inout JSONEdit) -> Void) throws -> String {
        let b = bytes(s)
        var e = JSONEdit()
        build(&e)
        return e.apply(to: b, scan: try JSONObjectScanner.scan(b)).utf8String
    }

    func testScanRangesAndKinds() throws {
        let doc = " { \"a\" : 1.50 ,\"b\\u0063\":{\"x\":[1, 2]},\"s\":\"v\",\"t\":true,\"n\":null,\"l\":[] } \n"
        let b = bytes(doc)
        let s = try JSONObjectScanner.scan(b)
        XCTAssertEqual(s.members.map(\.key), ["a", "bc", "s", "t", "n", "l"])
        XCTAssertEqual(s.members.map(\.kind), [.number, .object, .string, .bool, .null, .array])
        XCTAssertEqual(Array(b[s.members[0].valueRange]).utf8String, "1.50")
        XCTAssertEqual(Array(b[s.members[0].keyRange]).utf8String, "\"a\"")
        XCTAssertEqual(Array(b[s.members[1].valueRange]).utf8String, "{\"x\":[1, 2]}")
        XCTAssertEqual(Array(b[s.members[1].keyRange]).utf8String, "\"b\\u0063\"")
        XCTAssertEqual(b[s.openBrace], UInt8(ascii: "{"))
        XCTAssertEqual(b[s.closeBrace], UInt8(ascii: "}"))
        XCTAssertEqual(s.first("s")?.kind, .string)
        XCTAssertNil(s.first("zz"))
        let empty = try scan(" {  } ")
        XCTAssertTrue(empty.members.isEmpty)
    }

    func testScanRejectsWhatTheParserRejects() {
        let bad = ["[1]", "\"s\"", "", "{", "{\"a\":1,}", "{\"a\":[1,}", "{\"a\":01}", "{} x", "{\"a\":\"\\ud800\"}"]
        for d in bad { XCTAssertThrowsError(try scan(d), d) }
        XCTAssertEqual((try? scan("[1]")) == nil, true)
        do throws(JSONError) {
            _ = try JSONObjectScanner.scan(bytes("[1]"))
            XCTFail("no error")
        } catch {
            XCTAssertEqual(error.message, "expected a JSON object")
            XCTAssertEqual(error.offset, 0)
        }
    }

    func testEditKeepsEveryOtherByte() throws {
        let doc = "{\n  \"model\" : \"gpt\",\n  \"max_tokens\":  10 ,\n  \"x\": {\"keep\" :  [1.0e2, \"\\u00e9\"]}\n}\n"
        XCTAssertEqual(
            try edit(doc) { $0.rename("max_tokens", to: "max_completion_tokens") },
            "{\n  \"model\" : \"gpt\",\n  \"max_completion_tokens\":  10 ,\n  \"x\": {\"keep\" :  [1.0e2, \"\\u00e9\"]}\n}\n")
        XCTAssertEqual(
            try edit(doc) { $0.remove("model") },
            "{\n  \"max_tokens\":  10 ,\n  \"x\": {\"keep\" :  [1.0e2, \"\\u00e9\"]}\n}\n")
        XCTAssertEqual(
            try edit(doc) { $0.remove("x") },
            "{\n  \"model\" : \"gpt\",\n  \"max_tokens\":  10\n}\n")
        XCTAssertEqual(
            try edit(doc) { $0.remove("max_tokens"); $0.append("y", rawValue: bytes("[true]")) },
            "{\n  \"model\" : \"gpt\",\n  \"x\": {\"keep\" :  [1.0e2, \"\\u00e9\"]},\"y\":[true]\n}\n")
        XCTAssertEqual(
            try edit(doc) { $0.replace("model", rawValue: bytes("\"m2\"")) },
            "{\n  \"model\" : \"m2\",\n  \"max_tokens\":  10 ,\n  \"x\": {\"keep\" :  [1.0e2, \"\\u00e9\"]}\n}\n")
    }

    func testEditEdgeCases() throws {
        XCTAssertEqual(try edit("{}") { $0.append("a", rawValue: bytes("1")) }, "{\"a\":1}")
        XCTAssertEqual(try edit(" { } ") { $0.append("a", rawValue: bytes("1")); $0.append("b", rawValue: bytes("2")) }, " {\"a\":1,\"b\":2 } ")
        XCTAssertEqual(try edit("{\"a\":1}") { $0.remove("a") }, "{}")
        XCTAssertEqual(try edit("{\"a\":1,\"b\":2}") { $0.remove("a"); $0.remove("b"); $0.append("c", rawValue: bytes("3")) }, "{\"c\":3}")
        XCTAssertEqual(try edit("{\"a\":1,\"a\":2,\"b\":3}") { $0.remove("a") }, "{\"b\":3}")
        XCTAssertEqual(try edit("{\"a\":1}") { _ in }, "{\"a\":1}")
        XCTAssertEqual(
            try edit("{\"a\":1, \"b\":2}") { $0.actions.append(("b", .renameAndReplace("c\"", bytes("null")))) },
            "{\"a\":1, \"c\\\"\":null}")
        // The edited document is valid JSON with the expected members.
        let out = try edit("{\"a\":1 , \"b\" : [ ] ,\"c\":{}}") { $0.remove("b"); $0.append("d", rawValue: bytes("\"x\"")) }
        XCTAssertEqual(try JSONParser.parse(bytes(out)), ["a": 1, "c": [:], "d": "x"])
    }
}
