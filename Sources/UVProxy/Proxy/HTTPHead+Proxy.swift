extension HTTPHead {
    /// True when field `i`'s name starts with `lowercasedPrefix` (ASCII case-insensitive), without
    /// building a String.
    func nameHasPrefix(_ i: Int, _ lowercasedPrefix: [UInt8]) -> Bool {
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
