import Glibc
import HTTP1

extension HTTPHead {
    /// True when field `i`'s name starts with `lowercasedPrefix` (ASCII case-insensitive), without
    /// building a String.
    package func nameHasPrefix(_ i: Int, _ lowercasedPrefix: [UInt8]) -> Bool {
        let range = fields[i].name
        guard range.count >= lowercasedPrefix.count else { return false }
        return bytes.withUnsafeBufferPointer { p in
            var j = range.lowerBound
            for c in lowercasedPrefix {
                let b = p[j]
                if (b >= 65 && b <= 90 ? b | 0x20 : b) != c { return false }
                j += 1
            }
            return true
        }
    }
}

extension HTTPRequestHead {
    /// Where the query starts in `bytes` (the `?`), or the end of the target.
    private var queryStart: Int {
        bytes.withUnsafeBytes { p in
            let t = target
            guard t.upperBound > t.lowerBound, t.upperBound <= p.count, let base = p.baseAddress,
                  let q = memchr(base + t.lowerBound, 0x3F, t.upperBound - t.lowerBound)
            else { return target.upperBound }
            return base.distance(to: UnsafeRawPointer(q))
        }
    }

    /// The target without its query, as offsets into `bytes`.
    var pathRange: Range<Int> { target.lowerBound..<queryStart }

    /// The target without its query, built from bytes (call once; it allocates past 15 bytes).
    var pathString: String { String(decoding: bytes[pathRange], as: UTF8.self) }

    /// The query with its `?`, or empty.
    var queryString: String {
        let q = queryStart
        return q == target.upperBound ? "" : String(decoding: bytes[q..<target.upperBound], as: UTF8.self)
    }
}
