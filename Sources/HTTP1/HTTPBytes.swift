/// Byte classes and small scanning helpers shared by the parsers and the writer. Everything here is
/// branch-light and allocation-free; the character classes are bitmaps rather than tables so that no
/// global needs lazy initialisation on the hot path.
public enum HTTPBytes {
    @usableFromInline static let cr: UInt8 = 13
    @usableFromInline static let lf: UInt8 = 10
    @usableFromInline static let sp: UInt8 = 32
    @usableFromInline static let ht: UInt8 = 9
    @usableFromInline static let colon: UInt8 = 58
    @usableFromInline static let comma: UInt8 = 44
    @usableFromInline static let semicolon: UInt8 = 59

    /// `tchar` of RFC 9110 section 5.6.2 as a 128-bit set (bytes 0-63 and 64-127).
    @usableFromInline static let tokenLow: UInt64 = 0x03ff_6cfa_0000_0000
    @usableFromInline static let tokenHigh: UInt64 = 0x57ff_ffff_c7ff_fffe

    /// Branch-light (a select, a shift and a test): header names are checked byte by byte.
    @inlinable @inline(__always)
    static func isToken(_ b: UInt8) -> Bool {
        let set = b & 64 == 0 ? tokenLow : tokenHigh
        return b < 128 && (set &>> UInt64(b & 63)) & 1 != 0
    }

    /// Control characters other than HT (which field values may carry), including DEL.
    @inlinable @inline(__always)
    static func isForbiddenControl(_ b: UInt8) -> Bool {
        (b < 0x20 && b != ht) || b == 0x7F
    }

    @inlinable @inline(__always)
    static func isOWS(_ b: UInt8) -> Bool { b == sp || b == ht }

    @inlinable @inline(__always)
    static func lower(_ b: UInt8) -> UInt8 { (b >= 65 && b <= 90) ? b | 0x20 : b }

    /// SWAR, one test per 8 bytes: the high bit of each byte of `w` (a little-endian load) that may
    /// be below 0x20 or DEL; 0 if none is. Bytes >= 0x80 are never flagged, so obs-text passes.
    /// Only the lowest set bit is exact (a borrow travels upwards, so a byte above a real match may
    /// be flagged falsely): `trailingZeroBitCount / 8` is the offset of the first control byte.
    @inlinable @inline(__always)
    static func controlMask(_ w: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let below20 = (w &- ones &* 0x20) & ~w & highs
        let x = w ^ (ones &* 0x7F)
        let del = (x &- ones) & ~x & highs
        return below20 | del
    }

    /// SWAR, one test per 8 bytes: the high bit of each byte of `w` that is an ASCII letter, digit or
    /// `-` (the bytes of nearly every field name, all of them tokens), exact for every byte (no carry
    /// crosses a byte: each byte's high bit is cleared before the additions).
    @inlinable @inline(__always)
    static func commonTokenMask(_ w: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let lows: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        let x = w & lows
        // Letters: x | 0x20 in a...z (only A...Z move into that range when bit 5 is set).
        let l = x | (ones &* 0x20)
        let letter = (l &+ ones &* (0x80 - 0x61)) & ~(l &+ ones &* (0x80 - 0x7B))
        let digit = (x &+ ones &* (0x80 - 0x30)) & ~(x &+ ones &* (0x80 - 0x3A))
        // `-`: a zero byte of x ^ '-', found exactly (the low seven bits plus 0x7F carry into bit 7
        // unless they are all zero).
        let d = x ^ (ones &* 0x2D)
        let dash = ~((d &+ lows) | d)
        return (letter | digit | dash) & ~w & highs
    }

    @inlinable @inline(__always)
    static func hexValue(_ b: UInt8) -> Int? {
        switch b {
        case 48...57: return Int(b &- 48)
        case 65...70: return Int(b &- 55)
        case 97...102: return Int(b &- 87)
        default: return nil
        }
    }

    /// Case-insensitive ASCII comparison of `p[range]` with `name` (either side may be any case).
    @inlinable @inline(__always)
    public static func equalsIgnoringCase(_ p: UnsafeRawBufferPointer, _ range: Range<Int>, _ name: UnsafeRawBufferPointer) -> Bool {
        guard range.count == name.count else { return false }
        var i = 0
        var j = range.lowerBound
        while i < name.count {
            if lower(p[j]) != lower(name[i]) { return false }
            i &+= 1
            j &+= 1
        }
        return true
    }

    /// Splits `p[range]` at commas and calls `each` with every element trimmed of OWS. Empty elements
    /// are passed too (as empty ranges) so callers can decide whether they matter.
    @inlinable @inline(__always)
    static func forEachListElement(_ p: UnsafeRawBufferPointer, _ range: Range<Int>, _ each: (Range<Int>) -> Bool) {
        var start = range.lowerBound
        var i = start
        while true {
            if i == range.upperBound || p[i] == comma {
                var s = start
                var e = i
                while s < e && isOWS(p[s]) { s &+= 1 }
                while e > s && isOWS(p[e &- 1]) { e &-= 1 }
                if !each(s..<e) { return }
                if i == range.upperBound { return }
                start = i &+ 1
            }
            i &+= 1
        }
    }
}
