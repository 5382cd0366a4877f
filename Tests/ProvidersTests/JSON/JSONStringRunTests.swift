import XCTest

@testable import Providers

/// The two string loops that find plain runs eight bytes at a time and copy them whole, `JSONReader.unescape`
/// (parsing) and `JSON.writeString` (writing), must give exactly what the byte loops they replaced gave
/// (`unescapeBytewise`, `writeStringBytewise`, kept here as the references), wherever an escape or a byte
/// to escape sits in or across words and whatever the string's length; and a parse and write of large
/// escaped text must give back the same bytes.
final class JSONStringRunTests: XCTestCase {
    /// The byte-at-a-time loop `JSONReader.unescape` was until December (the reference).
    private static func unescapeBytewise(_ raw: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        var i = 0
        let n = raw.count
        func hex4(_ at: Int) -> UInt32 {
            var value: UInt32 = 0
            for k in 0..<4 where at + k < n { value = value << 4 | UInt32(JSONReader.hexValue(raw[at + k]) ?? 0) }
            return value
        }
        while i < n {
            let c = raw[i]
            guard c == 0x5C, i + 1 < n else {
                bytes.append(c)
                i += 1
                continue
            }
            let e = raw[i + 1]
            i += 2
            switch e {
            case 0x62: bytes.append(0x08)
            case 0x66: bytes.append(0x0C)
            case 0x6E: bytes.append(0x0A)
            case 0x72: bytes.append(0x0D)
            case 0x74: bytes.append(0x09)
            case 0x75:
                var scalar = hex4(i)
                i += 4
                if scalar >= 0xD800 && scalar <= 0xDBFF && i + 6 <= n {
                    let low = hex4(i + 2)
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                JSONReader.appendUTF8(scalar, to: &bytes)
            default: bytes.append(e)
            }
        }
        return bytes
    }

    private func unescape(_ raw: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0xAA]  // appends after what is there
        raw.withUnsafeBytes { JSONReader.unescape($0, into: &out) }
        return Array(out.dropFirst())
    }

    private static let escapes: [[UInt8]] = [
        Array(#"\n"#.utf8), Array(#"\""#.utf8), Array(#"\\"#.utf8), Array(#"\/"#.utf8), Array(#"\t"#.utf8),
        Array(#"\b"#.utf8), Array(#"\f"#.utf8), Array(#"\r"#.utf8), Array(#"\u00e9"#.utf8), Array(#"\u20AC"#.utf8),
        Array(#"\ud83d\ude00"#.utf8), Array("é".utf8), Array("😀".utf8),
    ]

    /// One or two escapes at every offset of plain runs of 0...40 bytes (in and across 8-byte words).
    func testEveryOffsetMatchesTheByteLoop() {
        let plain = Array("abcdefghijklmnopqrstuvwxyz0123456789+/=-".utf8)
        for length in 0...40 {
            for at in 0...length {
                for e in Self.escapes {
                    var raw = Array(plain[0..<at]) + e + Array(plain[at..<length])
                    XCTAssertEqual(unescape(raw), Self.unescapeBytewise(raw), "\(length) \(at) \(e)")
                    raw += Self.escapes[(at + length) % Self.escapes.count] + Array(plain[0..<(length % 11)])
                    XCTAssertEqual(unescape(raw), Self.unescapeBytewise(raw), "\(length) \(at) \(e) +")
                }
            }
        }
        // A backslash as the last byte (never in validated content): kept, as the byte loop kept it.
        XCTAssertEqual(unescape(Array(#"abcdefghij\"#.utf8)), Self.unescapeBytewise(Array(#"abcdefghij\"#.utf8)))
    }

    /// Random mixes of plain runs and escapes, up to a few KB.
    func testRandomStringsMatchTheByteLoop() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            var raw: [UInt8] = []
            for _ in 0..<Int.random(in: 0...40, using: &rng) {
                let run = Int.random(in: 0...(Bool.random(using: &rng) ? 9 : 200), using: &rng)
                raw += (0..<run).map { _ in UInt8.random(in: 0x20...0x7E, using: &rng) }.map { $0 == 0x5C ? 0x41 : $0 }
                raw += Self.escapes.randomElement(using: &rng)!
            }
            XCTAssertEqual(unescape(raw), Self.unescapeBytewise(raw), String(decoding: raw, as: UTF8.self))
        }
    }

    /// Through the parser: a tool output of many lines and a base64 payload, written back byte for byte.
    func testParserRoundTripsLargeEscapedStrings() throws {
        let lines = (0..<5000).map { "\($0)\tlet x = \"value\\\\\($0)\" // é 😀" }.joined(separator: "\n")
        let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
        let base64 = String(repeating: png, count: 3000)
        let value: JSON = ["output": .string(lines), "image": .string("data:image/png;base64," + base64)]
        let bytes = value.bytes
        let parsed = try JSONParser.parse(bytes)
        XCTAssertEqual(parsed, value)
        XCTAssertEqual(parsed.bytes, bytes)
    }

    // MARK: Writing

    /// The byte-at-a-time loop `JSON.writeString(utf8:to:)` was until December (the reference).
    private static func writeStringBytewise(_ utf8: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x22]
        for c in utf8 {
            guard c < 0x20 || c == 0x22 || c == 0x5C else {
                out.append(c)
                continue
            }
            out.append(0x5C)
            switch c {
            case 0x22: out.append(0x22)
            case 0x5C: out.append(0x5C)
            case 0x0A: out.append(0x6E)
            case 0x0D: out.append(0x72)
            case 0x09: out.append(0x74)
            case 0x08: out.append(0x62)
            case 0x0C: out.append(0x66)
            default:
                let high = c >> 4, low = c & 0xF
                out += [0x75, 0x30, 0x30, 0x30 + high, low < 10 ? 0x30 + low : 0x57 + low]
            }
        }
        out.append(0x22)
        return out
    }

    private func write(_ utf8: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0xAA]
        utf8.withUnsafeBytes { JSON.writeString(utf8: $0, to: &out) }
        return Array(out.dropFirst())
    }

    /// Every byte value that matters (each control byte, quote, backslash, DEL, UTF-8 lead and continuation
    /// bytes) at every offset of plain runs of 0...40 bytes, alone and with a second one after it.
    func testWriteEveryOffsetMatchesTheByteLoop() {
        let plain = Array("abcdefghijklmnopqrstuvwxyz0123456789+/=-".utf8)
        let special: [[UInt8]] = (0..<0x20).map { [UInt8($0)] } + [[0x22], [0x5C], [0x7F], [0x21], [0x5B]]
            + [Array("é".utf8), Array("€".utf8), Array("😀".utf8), [0x80], [0xFF]]
        for length in 0...40 {
            for at in 0...length {
                for (k, e) in special.enumerated() {
                    var raw = Array(plain[0..<at]) + e + Array(plain[at..<length])
                    XCTAssertEqual(write(raw), Self.writeStringBytewise(raw), "\(length) \(at) \(e)")
                    raw += special[(k + at) % special.count] + Array(plain[0..<(length % 13)])
                    XCTAssertEqual(write(raw), Self.writeStringBytewise(raw), "\(length) \(at) \(e) +")
                }
            }
        }
    }

    func testWriteRandomBytesMatchesTheByteLoop() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let n = Int.random(in: 0...(Bool.random(using: &rng) ? 24 : 3000), using: &rng)
            let sparse = Bool.random(using: &rng)
            let raw: [UInt8] = (0..<n).map { _ in
                sparse && UInt8.random(in: 0...15, using: &rng) != 0
                    ? UInt8.random(in: 0x23...0x5B, using: &rng) : UInt8.random(in: 0...255, using: &rng)
            }
            XCTAssertEqual(write(raw), Self.writeStringBytewise(raw), "\(raw)")
        }
    }
}
