import XCTest
@testable import Providers

final class JSONParserTests: XCTestCase {
    private func parse(_ text: String) throws -> JSON { try JSONParser.parse(Array(text.utf8)) }

    private func parseError(_ bytes: [UInt8]) -> JSONError? {
        do {
            _ = try JSONParser.parse(bytes)
            return nil
        } catch {
            return error
        }
    }

    func testScalars() throws {
        XCTAssertEqual(try parse("null"), .null)
        XCTAssertEqual(try parse(" true "), .bool(true))
        XCTAssertEqual(try parse("\n\tfalse\r"), .bool(false))
        XCTAssertEqual(try parse("\"hi\""), .string("hi"))
        XCTAssertEqual(try parse("0"), .number(JSONNumber("0")))
        XCTAssertEqual(try parse("-12.50e+03"), .number(JSONNumber("-12.50e+03")))
        XCTAssertEqual(try parse("12").intValue, 12)
        XCTAssertNil(try parse("1.0").intValue)
        XCTAssertEqual(try parse("1.5").doubleValue, 1.5)
        XCTAssertEqual(try parse("1E2").doubleValue, 100)
    }

    func testObjectKeepsOrderAndDuplicates() throws {
        let v = try parse(#"{"b":1,"a":[true,null,{"c":"d"}],"b":2}"#)
        guard case .object(let o) = v else { return XCTFail("not an object") }
        XCTAssertEqual(o.keys, ["b", "a", "b"])
        XCTAssertEqual(o["b"], 1)
        XCTAssertEqual(v["a"]?.arrayValue?[2]["c"]?.stringValue, "d")
        XCTAssertNil(v["zz"])
        XCTAssertNil(JSON.string("x")["a"])
    }

    func testEscapesAndSurrogatePairs() throws {
        XCTAssertEqual(try parse(#""a\"b\\c\/d\b\f\n\r\t""#), .string("a\"b\\c/d\u{8}\u{C}\n\r\t"))
        XCTAssertEqual(try parse(#""\u00e9\u4e2D""#), .string("é中"))
        XCTAssertEqual(try parse(#""\ud83d\ude00""#), .string("😀"))
        XCTAssertEqual(try parse("\"é😀\""), .string("é😀"))
        XCTAssertEqual(try parse(#""\u0000""#), .string("\u{0}"))
    }

    func testInvalidVectors() {
        let invalid: [(String, String)] = [
            ("", "unexpected end of input"),
            ("   ", "unexpected end of input"),
            ("{", "unexpected end of input"),
            ("[1,]", "unexpected character ']'"),
            (#"{"a":1,}"#, "expected a string key"),
            (#"{"a" 1}"#, "expected ':'"),
            (#"{a:1}"#, "expected a string key"),
            ("[1 2]", "expected ',' or ']'"),
            (#"{"a":1 "b":2}"#, "expected ',' or '}'"),
            ("01", "leading zero in number"),
            ("-", "invalid number"),
            ("1.", "invalid number"),
            (".5", "unexpected character '.'"),
            ("1e", "invalid number"),
            ("+1", "unexpected character '+'"),
            ("NaN", "unexpected character 'N'"),
            ("tru", "invalid literal"),
            ("nul", "invalid literal"),
            ("truex", "unexpected data after the JSON value"),
            ("{} {}", "unexpected data after the JSON value"),
            ("\"abc", "unterminated string"),
            ("\"a\nb\"", "unescaped control character in string"),
            (#""\x""#, "invalid escape"),
            (#""\u12G4""#, "invalid \\u escape"),
            (#""\ud800""#, "lone surrogate \\u escape"),
            (#""\ud800\u0041""#, "lone surrogate \\u escape"),
            (#""\udc00""#, "lone surrogate \\u escape"),
            ("/* c */ 1", "unexpected character '/'"),
        ]
        for (text, message) in invalid {
            let e = parseError(Array(text.utf8))
            XCTAssertEqual(e?.message, message, "for \(text)")
        }
        XCTAssertEqual(parseError(Array("[1,]".utf8))?.offset, 3)
        XCTAssertEqual(parseError(Array("{} {}".utf8))?.offset, 3)
    }

    func testInvalidUTF8() {
        let bad: [[UInt8]] = [
            [0x22, 0xFF, 0x22],
            [0x22, 0xC0, 0xAF, 0x22],  // overlong
            [0x22, 0xE0, 0x80, 0xAF, 0x22],  // overlong
            [0x22, 0xED, 0xA0, 0x80, 0x22],  // surrogate
            [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],  // > U+10FFFF
            [0x22, 0xE4, 0xB8, 0x22],  // truncated
            [0x22, 0xC3],
        ]
        for b in bad { XCTAssertEqual(parseError(b)?.message, "invalid UTF-8", "\(b)") }
    }

    func testDepthLimit() throws {
        let ok = String(repeating: "[", count: JSONParser.maxDepth) + String(repeating: "]", count: JSONParser.maxDepth)
        XCTAssertNoThrow(try parse(ok))
        let deep = String(repeating: "[", count: JSONParser.maxDepth + 1)
            + String(repeating: "]", count: JSONParser.maxDepth + 1)
        XCTAssertEqual(parseError(Array(deep.utf8))?.message, "nesting too deep")
        let hostile = String(repeating: #"{"a":"#, count: 100_000)
        XCTAssertEqual(parseError(Array(hostile.utf8))?.message, "nesting too deep")
    }

    func testRoundTripIsByteExactForCompactInput() throws {
        let docs = [
            #"{"model":"gpt-5","n":1.000,"big":123456789012345678901234567890,"e":-0.0e-7,"x":[1,2,{"y":null}]}"#,
            #"{"s":"é😀 \"q\" \\ \n\t\u0001","t":true,"f":false}"#,
            #"[]"#, #"{}"#, #""""#,
        ]
        for d in docs { XCTAssertEqual(String(decoding: try parse(d).bytes, as: UTF8.self), d) }
    }

    func testWriterEscapes() {
        let v: JSON = ["a": "x\u{1}\u{1F}\u{7F}/é\u{8}\u{C}", "b": [1, true, nil]]
        XCTAssertEqual(String(decoding: v.bytes, as: UTF8.self), "{\"a\":\"x\\u0001\\u001f\u{7F}/é\\b\\f\",\"b\":[1,true,null]}")
    }

    func testObjectSubscriptSet() {
        var o: JSONObject = ["a": 1, "b": 2]
        o["a"] = 3
        o["c"] = 4
        XCTAssertEqual(o.keys, ["a", "b", "c"])
        XCTAssertEqual(o["a"], 3)
        o["b"] = nil
        XCTAssertEqual(o.keys, ["a", "c"])
        XCTAssertEqual(JSON.object(o).bytes, Array(#"{"a":3,"c":4}"#.utf8))
    }

    func testValidateAgreesWithParse() {
        let docs = [#"{"a":[1,2,{"b":"\u00e9"}]}"#, "[1,]", "01", #""\ud800""#, "{} x", "[[[]]]"]
        for d in docs {
            let bytes = Array(d.utf8)
            let parsed = parseError(bytes)
            var validated: JSONError?
            bytes.withUnsafeBytes { b in
                do throws(JSONError) { try JSONParser.validate(b) } catch { validated = error }
            }
            XCTAssertEqual(parsed, validated, d)
        }
    }
}
