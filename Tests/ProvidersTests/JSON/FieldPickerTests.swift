import XCTest

@testable import Providers

/// `FieldPicker` must answer exactly as the `JSON` tree it replaced.
final class FieldPickerTests: XCTestCase {
    func testPickedValuesMatchTheTree() throws {
        let documents = [
            #"{"a":"x","b":12,"c":{"d":1},"a":"second"}"#,
            #"{"a":"e\u0301\n\/\"q","b":-0,"c":[1]}"#,
            #"{"\u0061":"escaped key","b":1.0,"c":null}"#,
            #"{"a":"","b":-9223372036854775808,"c":"s"}"#,
            #"{"a":"x","b":9223372036854775808,"c":true}"#,
            #"{"a":7,"b":1e2,"c":"\ud83d\ude00 \u0000\u001f"}"#,
            #" { "b" : 00 } "#,
            #"{"a":"x""#,
            #"[1,2]"#,
        ]
        for text in documents {
            let bytes = Array(text.utf8)
            let tree = try? JSONParser.parse(bytes)
            bytes.withUnsafeBytes { buffer in
                let picker = FieldPicker.pick(buffer, "a", "b", "c")
                XCTAssertEqual(picker != nil, tree?.objectValue != nil, text)
                guard let picker, let tree else { return }
                for (k, key) in ["a", "b", "c"].enumerated() {
                    XCTAssertEqual(picker.string(picker[k]), tree[key]?.stringValue, "\(text) \(key)")
                    XCTAssertEqual(picker.int(picker[k]), tree[key]?.intValue, "\(text) \(key)")
                    XCTAssertEqual(picker.isString(picker[k], "x"), tree[key]?.stringValue == "x", "\(text) \(key)")
                    if let value = picker[k], value.kind == .string {
                        var written: [UInt8] = []
                        picker.appendString(value, to: &written)
                        XCTAssertEqual(written, tree[key]?.bytes, "\(text) \(key)")
                    }
                }
            }
        }
    }
}
