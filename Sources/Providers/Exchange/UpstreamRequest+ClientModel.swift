extension UpstreamRequest {
    /// Where the top-level `model` string is in `body` (quotes included), by one validating scan; nil
    /// when absent or not a string. For translators whose general path reads a JSON tree, which keeps no
    /// byte ranges, to set `clientModel`.
    public static func modelValueRange(in body: [UInt8]) -> Range<Int>? {
        struct Finder: JSONMemberVisitor {
            let bytes: UnsafeRawBufferPointer
            var range: Range<Int>?
            var seen = false

            mutating func member(_ m: JSONMemberSpan) {
                // The first `model` counts, as a JSON tree's subscript reads it.
                guard !seen, m.keyIs("model", in: bytes) else { return }
                seen = true
                if m.kind == .string { range = m.valueRange }
            }
        }
        return body.withUnsafeBytes { b -> Range<Int>? in
            var finder = Finder(bytes: b)
            guard (try? JSONObjectScanner.scanMembers(b, into: &finder)) != nil else { return nil }
            return finder.range
        }
    }
}
