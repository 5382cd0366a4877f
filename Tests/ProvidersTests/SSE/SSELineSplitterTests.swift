import XCTest

@testable import Providers

final class SSELineSplitterTests: XCTestCase {
    struct Collector: SSELineSink {
        var lines: [String] = []
        mutating func line(_ bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) {
            lines.append(String(decoding: bytes, as: UTF8.self))
        }
    }

    func split(_ pieces: [[UInt8]], max: Int = 64) -> [String] {
        var splitter = SSELineSplitter(maxLineBytes: max)
        var sink = Collector()
        var out: [UInt8] = []
        for piece in pieces { piece.withUnsafeBytes { splitter.feed($0, sink: &sink, into: &out) } }
        splitter.finish(sink: &sink, into: &out)
        return sink.lines + (splitter.overflowed ? ["<overflow>"] : [])
    }

    func testLineEndings() {
        let input = bytes("a\nb\r\nc\rd\r\n\r\ne\n\n\rf")
        assertEverySplit(input, expected: ["a", "b", "c", "d", "", "e", "", "", "f"]) { split($0) }
    }

    func testMultiByteUTF8AcrossReads() {
        let input = bytes("data: h\u{e9}llo \u{1F600}\n")
        assertEverySplit(input, expected: ["data: h\u{e9}llo \u{1F600}"]) { split($0) }
    }

    /// The limit applies the same whether a line arrives whole or in pieces.
    func testOverflowWhateverTheSplit() {
        let input = bytes("short\n" + String(repeating: "x", count: 20) + "\nafter\n")
        assertEverySplit(input, expected: ["short", "<overflow>"]) { split($0, max: 10) }
        assertEverySplit(bytes("1234567890\n"), expected: ["1234567890"]) { split($0, max: 10) }
    }

    /// `lineEnd` (eight bytes at a time) answers exactly as a byte-by-byte search.
    func testLineEndMatchesNaiveSearchAtEveryPosition() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = [0x0A, 0x0D, 0x0B, 0x0C, 0x8A, 0x8D, 0x41, 0x00, 0xFF]
        for length in 0..<40 {
            for _ in 0..<50 {
                let bytes = (0..<length).map { _ in
                    Bool.random(using: &generator) ? UInt8(ascii: "a") : alphabet.randomElement(using: &generator)!
                }
                bytes.withUnsafeBytes { buffer in
                    for start in 0...length {
                        let naive = (start..<length).first { bytes[$0] == 0x0A || bytes[$0] == 0x0D } ?? length
                        XCTAssertEqual(SSELineSplitter.lineEnd(buffer, from: start), naive, "\(bytes) from \(start)")
                    }
                }
            }
        }
    }
}
