extension UpstreamRequest {
    /// Where the top-level `model` string is in `body` (quotes included); nil when absent or not a
    /// string. For translators whose general path has already parsed (and so validated) `body` into a
    /// JSON tree, which keeps no byte ranges, to set `clientModel`: the members are skimmed up to the
    /// first `model` (usually the first or second key), not scanned to the end again.
    public static func modelValueRange(in body: [UInt8]) -> Range<Int>? {
        body.withUnsafeBytes { b -> Range<Int>? in
            // The first `model` counts, as a JSON tree's subscript reads it.
            guard let r = MemberPick(b, 0..<b.count, "model").r0, b[r.lowerBound] == 0x22 else { return nil }
            return r
        }
    }
}
