import XCTest

@testable import Providers

/// `ByteNames.contains` (the profile's lists as bytes, asked about every key the fast path cuts) answers
/// exactly as `Array.contains` over the names, whatever the lengths and first bytes have in common.
final class ByteNamesTests: XCTestCase {
    func testContainsAgreesWithTheList() {
        let lists: [[String]] = [
            [], [""], ["type", "text", "name", "input_schema", "cache_control", "t", "x"],
            ["abc", "abd", "bbc", "ab", "abcd"], [String(repeating: "k", count: 300), "k"],
        ]
        let probes = [
            "", "t", "x", "y", "type", "typf", "uype", "text", "tex", "texts", "name", "input_schema",
            "input_schemb", "cache_control", "abc", "abd", "abe", "bbc", "ab", "a", "abcd", "abcde",
            String(repeating: "k", count: 300), String(repeating: "k", count: 299) + "j", "k", "kk",
        ]
        for list in lists {
            let names = ByteNames(list)
            for probe in probes {
                var key = probe
                let found = key.withUTF8 { b -> Bool in
                    // A one-byte buffer for the empty key: `contains` reads no byte of it.
                    var one: UInt8 = 0
                    return b.baseAddress.map { names.contains($0, b.count) } ?? names.contains(&one, 0)
                }
                XCTAssertEqual(found, list.contains(probe), "\(list) contains \(probe)")
            }
        }
    }
}
