/// Edits a JSON object's top-level members by copying bytes: members can be removed, renamed, given a
/// new raw value, or appended. Every other byte (whitespace, untouched values, number spellings,
/// escapes) comes out unchanged. One pass over the members, no tree.
///
/// An action applies to every member with that key (a document may repeat keys). Replacement and
/// appended values are raw JSON bytes and are not validated: callers write them with `JSON.write`
/// or copy them from a validated document.
public struct JSONEdit: Sendable {
    public enum Action: Sendable, Equatable {
        case remove
        case rename(String)
        case replace([UInt8])
        case renameAndReplace(String, [UInt8])
    }

    public var actions: [(key: String, action: Action)] = []
    public var appended: [(key: String, rawValue: [UInt8])] = []

    public init() {}

    public var isEmpty: Bool { actions.isEmpty && appended.isEmpty }

    public mutating func remove(_ key: String) { actions.append((key, .remove)) }
    public mutating func rename(_ key: String, to newKey: String) { actions.append((key, .rename(newKey))) }
    public mutating func replace(_ key: String, rawValue: [UInt8]) { actions.append((key, .replace(rawValue))) }
    public mutating func append(_ key: String, rawValue: [UInt8]) { appended.append((key, rawValue)) }

    @inline(__always) private func action(for key: String) -> Action? {
        for a in actions where a.key == key { return a.action }
        return nil
    }

    /// Appends the edited document to `out`. `scan` must come from `JSONObjectScanner.scan(bytes)`.
    public func apply(to bytes: UnsafeRawBufferPointer, scan: JSONObjectScan, into out: inout [UInt8]) {
        out.reserveCapacity(out.count + bytes.count + 64)
        @inline(__always) func copy(_ range: Range<Int>) {
            if !range.isEmpty { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[range])) }
        }
        copy(0..<(scan.openBrace + 1))
        let members = scan.members
        var emitted = 0
        var lastKept = 0
        for (i, m) in members.enumerated() {
            let act = action(for: m.key)
            if act == .remove { continue }
            // Separator: the first emitted member takes the first member's leading whitespace (no
            // comma); a later one takes the separator that followed the previous kept member, so
            // removing members leaves the spacing of the ones kept.
            if emitted == 0 {
                copy((scan.openBrace + 1)..<(members[0].keyRange.lowerBound))
            } else {
                copy(members[lastKept].valueRange.upperBound..<members[lastKept + 1].keyRange.lowerBound)
            }
            emitted += 1
            lastKept = i
            switch act {
            case .rename(let newKey), .renameAndReplace(let newKey, _): JSON.writeString(newKey, to: &out)
            default: copy(m.keyRange)
            }
            copy(m.keyRange.upperBound..<m.valueRange.lowerBound)
            switch act {
            case .replace(let raw), .renameAndReplace(_, let raw): out.append(contentsOf: raw)
            default: copy(m.valueRange)
            }
        }
        let tailStart = members.last?.valueRange.upperBound ?? (scan.openBrace + 1)
        // Appended members go before the whitespace that precedes `}`.
        var closeRunStart = scan.closeBrace
        while closeRunStart > tailStart, Self.isWhitespace(bytes[closeRunStart - 1]) { closeRunStart -= 1 }
        copy(tailStart..<closeRunStart)
        for (key, raw) in appended {
            if emitted > 0 { out.append(0x2C) }
            emitted += 1
            JSON.writeString(key, to: &out)
            out.append(0x3A)
            out.append(contentsOf: raw)
        }
        copy(closeRunStart..<bytes.count)
    }

    public func apply(to bytes: [UInt8], scan: JSONObjectScan) -> [UInt8] {
        var out: [UInt8] = []
        bytes.withUnsafeBytes { apply(to: $0, scan: scan, into: &out) }
        return out
    }

    @inline(__always) private static func isWhitespace(_ c: UInt8) -> Bool {
        c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09
    }
}
