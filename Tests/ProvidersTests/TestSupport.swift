import XCTest
@testable import Providers

/// Feeds `bytes` to `body` as: the whole buffer; one byte at a time; and split in two at every index.
/// `body` receives the chunks of one replay and returns that replay's result, which must equal `expected`.
func assertEverySplit<R: Equatable>(
    _ bytes: [UInt8], expected: R, file: StaticString = #filePath, line: UInt = #line,
    _ body: ([[UInt8]]) -> R
) {
    XCTAssertEqual(body([bytes]), expected, "whole", file: file, line: line)
    XCTAssertEqual(body(bytes.map { [$0] }), expected, "byte by byte", file: file, line: line)
    if bytes.count > 1 {
        for cut in 1..<bytes.count {
            let r = body([Array(bytes[..<cut]), Array(bytes[cut...])])
            if r != expected {
                XCTAssertEqual(r, expected, "split at \(cut)", file: file, line: line)
                return
            }
        }
    }
}

extension Array where Element == UInt8 {
    var utf8String: String { String(decoding: self, as: UTF8.self) }
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
