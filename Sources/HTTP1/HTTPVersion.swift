/// The `HTTP-version` of a start line: `HTTP/` DIGIT `.` DIGIT, exactly 8 bytes, case-sensitive.
enum HTTPVersion {
    case http1(minor: Int)
    /// A well-formed version with a major other than 1 (answered with 505).
    case otherMajor
    case invalid

    static func parse(_ p: UnsafeRawBufferPointer, _ r: Range<Int>) -> HTTPVersion {
        let prefix: StaticString = "HTTP/"
        guard r.count >= 6,
            memcmpEqual(p, r.lowerBound..<(r.lowerBound + 5), UnsafeRawBufferPointer(start: prefix.utf8Start, count: 5))
        else { return .invalid }
        let major = p[r.lowerBound + 5] &- 48
        guard major <= 9 else { return .invalid }
        if r.count == 8, p[r.lowerBound + 6] == UInt8(ascii: "."), p[r.lowerBound + 7] &- 48 <= 9 {
            return major == 1 ? .http1(minor: Int(p[r.lowerBound + 7] &- 48)) : .otherMajor
        }
        // `HTTP/2`, `HTTP/3` (no minor) are versions too, just not ours.
        if r.count == 6 && major != 1 { return .otherMajor }
        return .invalid
    }
}
