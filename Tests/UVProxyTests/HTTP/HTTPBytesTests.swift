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
}
