import XCTest

@testable import UVProxy
@testable import HTTP1

/// The SWAR control-byte mask the head scanner jumps with: its lowest flagged byte must be exactly
/// the first byte below 0x20 or equal to DEL, whatever the other bytes hold.
final class HTTPBytesTests: XCTestCase {
    private static func isControl(_ b: UInt8) -> Bool { b < 0x20 || b == 0x7F }

    /// The reference: offset of the first control byte of the little-endian word, or nil.
    private static func firstControl(_ bytes: [UInt8]) -> Int? { bytes.firstIndex(where: isControl) }

    private static func maskFirst(_ bytes: [UInt8]) -> Int? {
        let w = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        let mask = HTTPBytes.controlMask(w)
        return mask == 0 ? nil : mask.trailingZeroBitCount / 8
    }

    func testEveryByteValueAtEveryOffset() {
        var rng = SystemRandomNumberGenerator()
        for offset in 0..<8 {
            for value in 0...255 {
                for _ in 0..<8 {
                    var bytes = (0..<8).map { _ in UInt8.random(in: 0...255, using: &rng) }
                    // Visible bytes before the probe, anything after it.
                    for i in 0..<offset { bytes[i] = UInt8.random(in: 0x20...0x7E, using: &rng) }
                    bytes[offset] = UInt8(value)
                    XCTAssertEqual(Self.maskFirst(bytes), Self.firstControl(bytes), "\(bytes)")
                }
            }
        }
    }

    func testBordersAndObsText() {
        // 0x1F, 0x7F flagged; 0x20, 0x7E, 0x80, 0xFF not; HT (0x09) is flagged (the scanner lets it pass).
        XCTAssertEqual(Self.maskFirst([0x20, 0x7E, 0x80, 0xFF, 0x41, 0x42, 0x43, 0x1F]), 7)
        XCTAssertEqual(Self.maskFirst([0x80, 0x80, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00]), 2)
        XCTAssertEqual(Self.maskFirst([0x09, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41]), 0)
        XCTAssertNil(Self.maskFirst(Array("GET / HT".utf8)))
        XCTAssertNil(Self.maskFirst([0xFF, 0xFE, 0x80, 0xA0, 0x20, 0x7E, 0xC3, 0xA9]))
        // A borrow from a real match must not hide it: 0x00 then 0x01 (and the reverse).
        XCTAssertEqual(Self.maskFirst([0x41, 0x00, 0x01, 0x41, 0x41, 0x41, 0x41, 0x41]), 1)
        XCTAssertEqual(Self.maskFirst([0x41, 0x41, 0x20, 0x1F, 0x00, 0x41, 0x41, 0x41]), 3)
    }

    func testRandomWords() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200_000 {
            // Mostly visible ASCII (like a head) with the odd control or high byte.
            let bytes = (0..<8).map { _ -> UInt8 in
                switch UInt8.random(in: 0..<16, using: &rng) {
                case 0: return UInt8.random(in: 0...0x1F, using: &rng)
                case 1: return UInt8.random(in: 0x7F...0xFF, using: &rng)
                default: return UInt8.random(in: 0x20...0x7E, using: &rng)
                }
            }
            XCTAssertEqual(Self.maskFirst(bytes), Self.firstControl(bytes), "\(bytes)")
        }
    }
}

/// `isToken` is RFC 9110's tchar: ALPHA / DIGIT / "!#$%&'*+-.^_`|~", nothing else (no byte >= 0x80).
final class HTTPTokenTests: XCTestCase {
    func testEveryByte() {
        let specials = Set("!#$%&'*+-.^_`|~".utf8)
        for b in 0...255 {
            let byte = UInt8(b)
            let expected = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || specials.contains(byte)
            XCTAssertEqual(HTTPBytes.isToken(byte), expected, "byte \(b)")
        }
    }

    /// The name scanner's mask: exactly the letters, digits and `-` among the eight bytes, each byte's
    /// bit independent of its neighbours (every value at every offset, random neighbours).
    func testCommonTokenMaskIsExactPerByte() {
        func isCommon(_ b: UInt8) -> Bool {
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D
        }
        var rng = SystemRandomNumberGenerator()
        var common = 0
        for offset in 0..<8 {
            for value in 0...255 {
                for _ in 0..<8 {
                    var bytes = (0..<8).map { _ in UInt8.random(in: 0...255, using: &rng) }
                    bytes[offset] = UInt8(value)
                    let w = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
                    let mask = HTTPBytes.commonTokenMask(w)
                    XCTAssertEqual(mask & ~0x8080_8080_8080_8080, 0)
                    for i in 0..<8 {
                        XCTAssertEqual(mask >> (8 * i + 7) & 1 == 1, isCommon(bytes[i]), "\(bytes) at \(i)")
                    }
                    if isCommon(UInt8(value)) { common += 1 }
                    XCTAssertTrue(!isCommon(UInt8(value)) || HTTPBytes.isToken(UInt8(value)), "a common byte is a token")
                }
            }
        }
        XCTAssertEqual(common, 8 * 8 * (10 + 26 + 26 + 1))
    }

    /// Field names through the request parser, eight bytes at a time and then byte by byte: a probe
    /// byte at every position of names of every length up to 40 ends the name exactly where the byte
    /// by byte reading ended it (any token continues it, the colon ends it, anything else is refused).
    func testFieldNamesEndWhereTheBytewiseReadingEnds() {
        let probes: [UInt8] = Array("aZ09-!#$%&'*+.^_`|~:@ ()[]{}\"/,;<=>?".utf8) + [0x09, 0x80, 0xC3, 0xFF]
        for length in 1...40 {
            let base = (0..<length).map { i in Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-".utf8)[(i * 7 + length) % 63] }
            for position in 0..<length {
                for probe in probes {
                    var name = base
                    name[position] = probe
                    let head = Array("GET / HTTP/1.1\r\n".utf8) + name + Array(": v\r\nHost: x\r\n\r\n".utf8)
                    var parser = HTTPRequestParser()
                    let result = head.withUnsafeBytes { parser.parse($0) }
                    // Byte by byte: the name runs to the first byte that is not a token.
                    let end = name.firstIndex { !HTTPBytes.isToken($0) } ?? name.count
                    let ok = end > 0 && (end == name.count || name[end] == 0x3A)
                    switch result {
                    case .complete(let h, _):
                        XCTAssertTrue(ok, "\(name)")
                        XCTAssertEqual(Array(h.bytes[h.fields[0].name]), Array(name[..<end]), "\(name)")
                        let value = Array(h.bytes[h.fields[0].value])
                        XCTAssertEqual(value, end == name.count ? Array("v".utf8) : Array(name[(end + 1)...]) + Array(": v".utf8))
                    case .failure:
                        XCTAssertFalse(ok, "\(name)")
                    case .incomplete:
                        XCTFail("incomplete: \(name)")
                    }
                }
            }
        }
    }
}
