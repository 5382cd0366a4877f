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

/// What the fast-path tests feed both paths: every prefix of `body` (the empty one first, the whole
/// body only with `includingWhole`), then `body` with each byte changed to each of `replacements`
/// (a byte is never "changed" to itself).
func prefixesAndByteChanges(_ body: [UInt8], replacements: [UInt8], includingWhole: Bool = false) -> [[UInt8]] {
    var variants: [[UInt8]] = (0..<(includingWhole ? body.count + 1 : body.count)).map { Array(body[..<$0]) }
    for i in body.indices {
        for r in replacements where r != body[i] {
            var changed = body
            changed[i] = r
            variants.append(changed)
        }
    }
    return variants
}

import Foundation

enum Fixture {
    static func url(_ folder: String, _ name: String) -> URL? {
        Bundle.module.url(forResource: "Fixtures/\(folder)/\(name)", withExtension: nil)
            ?? Bundle.module.resourceURL?.appendingPathComponent("Fixtures/\(folder)/\(name)")
    }

    static func bytes(_ folder: String, _ name: String, file: StaticString = #filePath, line: UInt = #line) -> [UInt8] {
        guard let url = url(folder, name), let data = try? Data(contentsOf: url) else {
            XCTFail("missing fixture \(folder)/\(name)", file: file, line: line)
            return []
        }
        return [UInt8](data)
    }

    static func names(_ folder: String, suffix: String) -> [String] {
        guard let dir = Bundle.module.resourceURL?.appendingPathComponent("Fixtures/\(folder)"),
            let files = try? FileManager.default.contentsOfDirectory(atPath: dir.path)
        else { return [] }
        return files.filter { $0.hasSuffix(suffix) }.map { String($0.dropLast(suffix.count)) }.sorted()
    }
}

/// Replays upstream stream chunks through a fresh translator; returns the client bytes as a string.
func replayStream(_ make: () -> any ExchangeTranslator, _ chunks: [[UInt8]], end: Bool = true) -> String {
    let t = make()
    var out: [UInt8] = []
    for c in chunks { c.withUnsafeBytes { t.streamChunk($0, into: &out) } }
    if end { t.streamEnd(into: &out) }
    return out.utf8String
}
