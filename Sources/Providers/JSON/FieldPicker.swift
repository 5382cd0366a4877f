#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A value found by `FieldPicker`: its bytes (offsets into the picker's buffer) and what it starts with.
struct PickedValue {
    var range: Range<Int>
    var kind: JSONKind
}

/// Finds the first member with each of up to eight names in one JSON object, without building a tree.
///
/// Why: the upstream's responses and stream events are read for a handful of fields; a tree per event
/// (String keys, boxed values) cost more than the rest of the translation. The object is validated by
/// `JSONObjectScanner` while scanned, and the values stay as byte ranges: strings are copied to the
/// output as they are when they hold no escape (decoding and re-escaping would give the same bytes).
/// The first member of a name wins, as `JSONObject`'s subscript reads it.
struct FieldPicker: JSONMemberVisitor {
    let bytes: UnsafeRawBufferPointer
    private let names: (StaticString, StaticString, StaticString, StaticString,
        StaticString, StaticString, StaticString, StaticString)
    private var found: (PickedValue?, PickedValue?, PickedValue?, PickedValue?,
        PickedValue?, PickedValue?, PickedValue?, PickedValue?) = (nil, nil, nil, nil, nil, nil, nil, nil)

    /// A picker to be fed members by another visitor (see `take`); `pick` scans by itself.
    init(
        _ bytes: UnsafeRawBufferPointer, _ n0: StaticString, _ n1: StaticString = "", _ n2: StaticString = "",
        _ n3: StaticString = "", _ n4: StaticString = "", _ n5: StaticString = "", _ n6: StaticString = "",
        _ n7: StaticString = ""
    ) {
        self.bytes = bytes
        self.names = (n0, n1, n2, n3, n4, n5, n6, n7)
    }

    /// Scans the object `bytes` for the named members; nil when `bytes` is not a valid JSON object.
    static func pick(
        _ bytes: UnsafeRawBufferPointer, _ n0: StaticString, _ n1: StaticString = "", _ n2: StaticString = "",
        _ n3: StaticString = "", _ n4: StaticString = "", _ n5: StaticString = "", _ n6: StaticString = "",
        _ n7: StaticString = ""
    ) -> FieldPicker? {
        var picker = FieldPicker(bytes, n0, n1, n2, n3, n4, n5, n6, n7)
        guard JSONObjectScanner.fastScanMembers(bytes, into: &picker) != nil else { return nil }
        return picker
    }

    /// Picks from the object at `i`, an element of an array that was validated whole and ends (after its
    /// `]`) at `end`: one walk over the members, offsets into `bytes`. Moves `i` past the element and
    /// the comma after it. Nil when the element is not an object.
    static func walk(
        _ bytes: UnsafeRawBufferPointer, at i: inout Int, end: Int, _ n0: StaticString, _ n1: StaticString = "",
        _ n2: StaticString = "", _ n3: StaticString = "", _ n4: StaticString = ""
    ) -> FieldPicker? {
        guard let base = bytes.baseAddress else { return nil }
        let p = base.assumingMemoryBound(to: UInt8.self)
        guard p[i] == UInt8(ascii: "{") else { return nil }
        var fields = FieldPicker(bytes, n0, n1, n2, n3, n4)
        var k = JSONFastScan.whitespace(p, end, i + 1)
        if p[k] == UInt8(ascii: "}") {
            k += 1
        } else {
            while true {
                var escaped = false
                let keyEnd = JSONFastScan.string(p, end, k, &escaped)
                guard keyEnd > k else { return nil }
                let valueStart = JSONFastScan.whitespace(p, end, JSONFastScan.whitespace(p, end, keyEnd) + 1)
                guard let valueEnd = valueEnd(bytes, valueStart, end, depth: 3) else { return nil }
                _ = fields.take(
                    JSONMemberSpan(
                        keyRange: k..<keyEnd, valueRange: valueStart..<valueEnd,
                        kind: JSONKind(firstByte: p[valueStart]), keyEscaped: escaped))
                k = JSONFastScan.whitespace(p, end, valueEnd)
                let c = p[k]
                k += 1
                if c == UInt8(ascii: "}") { break }
                k = JSONFastScan.whitespace(p, end, k)
            }
        }
        k = JSONFastScan.whitespace(p, end, k)
        if p[k] == UInt8(ascii: ",") { k = JSONFastScan.whitespace(p, end, k + 1) }
        i = k
        return fields
    }

    /// Skips the element at `i` of a validated array ending at `end`, and the comma after it.
    static func skipElement(_ bytes: UnsafeRawBufferPointer, at i: inout Int, end: Int) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let p = base.assumingMemoryBound(to: UInt8.self)
        guard let valueEnd = valueEnd(bytes, i, end, depth: 2) else { return false }
        var k = JSONFastScan.whitespace(p, end, valueEnd)
        if p[k] == UInt8(ascii: ",") { k = JSONFastScan.whitespace(p, end, k + 1) }
        i = k
        return true
    }

    /// The end of the (validated) value at `start`; values nested deeper than the fast scan goes are
    /// finished by the detailed reader, as `JSONObjectScanner` does.
    private static func valueEnd(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int, depth: Int) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        let p = base.assumingMemoryBound(to: UInt8.self)
        let valueEnd = JSONFastScan.value(p, end, start, depth: depth, maxDepth: JSONParser.maxDepth)
        if valueEnd == JSONFastScan.tooDeep {
            var r = JSONReader(UnsafeRawBufferPointer(rebasing: bytes[..<end]))
            r.index = start
            do throws(JSONError) { try r.skipValueDetailed(depth: depth) } catch { return nil }
            return r.index
        }
        return valueEnd > start ? valueEnd : nil
    }

    /// The same, for a value found by another picker: nil unless it is an object.
    func object(
        _ value: PickedValue?, _ n0: StaticString, _ n1: StaticString = "", _ n2: StaticString = "",
        _ n3: StaticString = "", _ n4: StaticString = "", _ n5: StaticString = "", _ n6: StaticString = "",
        _ n7: StaticString = ""
    ) -> FieldPicker? {
        guard let value, value.kind == .object else { return nil }
        return Self.pick(slice(value), n0, n1, n2, n3, n4, n5, n6, n7)
    }

    /// The value of the `k`th name (0-based), if present.
    subscript(_ k: Int) -> PickedValue? {
        switch k {
        case 0: found.0
        case 1: found.1
        case 2: found.2
        case 3: found.3
        case 4: found.4
        case 5: found.5
        case 6: found.6
        default: found.7
        }
    }

    mutating func member(_ member: JSONMemberSpan) { _ = take(member) }

    /// Records `member` if it has one of the names and is the first of that name. True when its key is
    /// one of the names (first or not).
    mutating func take(_ member: JSONMemberSpan) -> Bool {
        if member.keyEscaped { return takeEscaped(member) }
        guard let base = bytes.baseAddress else { return false }
        let n = member.keyRange.count &- 2
        guard n > 0 else { return false }  // unused name slots are empty
        let key = base + (member.keyRange.lowerBound &+ 1)
        let value = PickedValue(range: member.valueRange, kind: member.kind)
        if n == names.0.utf8CodeUnitCount, memcmp(key, names.0.utf8Start, n) == 0 {
            if found.0 == nil { found.0 = value }
            return true
        }
        if n == names.1.utf8CodeUnitCount, memcmp(key, names.1.utf8Start, n) == 0 {
            if found.1 == nil { found.1 = value }
            return true
        }
        if n == names.2.utf8CodeUnitCount, memcmp(key, names.2.utf8Start, n) == 0 {
            if found.2 == nil { found.2 = value }
            return true
        }
        if n == names.3.utf8CodeUnitCount, memcmp(key, names.3.utf8Start, n) == 0 {
            if found.3 == nil { found.3 = value }
            return true
        }
        if n == names.4.utf8CodeUnitCount, memcmp(key, names.4.utf8Start, n) == 0 {
            if found.4 == nil { found.4 = value }
            return true
        }
        if n == names.5.utf8CodeUnitCount, memcmp(key, names.5.utf8Start, n) == 0 {
            if found.5 == nil { found.5 = value }
            return true
        }
        if n == names.6.utf8CodeUnitCount, memcmp(key, names.6.utf8Start, n) == 0 {
            if found.6 == nil { found.6 = value }
            return true
        }
        if n == names.7.utf8CodeUnitCount, memcmp(key, names.7.utf8Start, n) == 0 {
            if found.7 == nil { found.7 = value }
            return true
        }
        return false
    }

    /// `take` for a key written with escapes: decoded and compared as text (rare).
    private mutating func takeEscaped(_ member: JSONMemberSpan) -> Bool {
        let value = PickedValue(range: member.valueRange, kind: member.kind)
        if names.0.utf8CodeUnitCount > 0, member.keyIs(names.0, in: bytes) {
            if found.0 == nil { found.0 = value }
            return true
        }
        if names.1.utf8CodeUnitCount > 0, member.keyIs(names.1, in: bytes) {
            if found.1 == nil { found.1 = value }
            return true
        }
        if names.2.utf8CodeUnitCount > 0, member.keyIs(names.2, in: bytes) {
            if found.2 == nil { found.2 = value }
            return true
        }
        if names.3.utf8CodeUnitCount > 0, member.keyIs(names.3, in: bytes) {
            if found.3 == nil { found.3 = value }
            return true
        }
        if names.4.utf8CodeUnitCount > 0, member.keyIs(names.4, in: bytes) {
            if found.4 == nil { found.4 = value }
            return true
        }
        if names.5.utf8CodeUnitCount > 0, member.keyIs(names.5, in: bytes) {
            if found.5 == nil { found.5 = value }
            return true
        }
        if names.6.utf8CodeUnitCount > 0, member.keyIs(names.6, in: bytes) {
            if found.6 == nil { found.6 = value }
            return true
        }
        if names.7.utf8CodeUnitCount > 0, member.keyIs(names.7, in: bytes) {
            if found.7 == nil { found.7 = value }
            return true
        }
        return false
    }

    // MARK: Values

    @inline(__always)
    func slice(_ value: PickedValue) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[value.range])
    }

    /// True when the string value's text is exactly `word` (JSON's `stringValue == word`).
    func isString(_ value: PickedValue?, _ word: StaticString) -> Bool {
        guard let value, value.kind == .string else { return false }
        let n = word.utf8CodeUnitCount
        guard let base = bytes.baseAddress else { return false }
        // The same bytes are the same text; other bytes are other text unless escapes are involved.
        if value.range.count == n + 2 && memcmp(base + value.range.lowerBound + 1, word.utf8Start, n) == 0 {
            return true
        }
        guard hasEscape(value) else { return false }
        return JSONObjectScanner.decodeString(bytes, at: value.range) == word.description
    }

    /// The decoded text of a string value; nil for absent and non-string values.
    func string(_ value: PickedValue?) -> String? {
        guard let value, value.kind == .string else { return nil }
        return JSONObjectScanner.decodeString(bytes, at: value.range)
    }

    /// True for a string value with no text.
    func isEmptyString(_ value: PickedValue) -> Bool { value.range.count == 2 }

    /// `JSON.intValue`: an integer literal that fits in `Int` (no fraction, no exponent).
    func int(_ value: PickedValue?) -> Int? {
        guard let value, value.kind == .number else { return nil }
        var i = value.range.lowerBound
        let end = value.range.upperBound
        let negative = bytes[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        guard i < end else { return nil }
        var result = 0
        while i < end {
            let digit = bytes[i] &- 0x30
            guard digit < 10 else { return nil }
            let (times, o1) = result.multipliedReportingOverflow(by: 10)
            let (sum, o2) =
                negative ? times.subtractingReportingOverflow(Int(digit)) : times.addingReportingOverflow(Int(digit))
            if o1 || o2 { return nil }
            result = sum
            i += 1
        }
        return result
    }

    /// Appends a string value's text, escaped as `JSON.writeString` escapes it, without the quotes.
    func appendStringContent(_ value: PickedValue, to out: inout [UInt8]) {
        let inner = UnsafeRawBufferPointer(rebasing: bytes[(value.range.lowerBound + 1)..<(value.range.upperBound - 1)])
        if !hasEscape(value) {
            // Valid JSON string content without escapes has no quote, backslash or control byte: it is
            // already what the writer would write.
            out.append(contentsOf: inner)
            return
        }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(inner.count)
        JSONReader.unescape(inner, into: &decoded)
        let start = out.count
        decoded.withUnsafeBytes { JSON.writeString(utf8: $0, to: &out) }
        // Drop the quotes the writer added around the content.
        out.remove(at: start)
        out.removeLast()
    }

    /// Appends a string value as a JSON string literal, byte-identical to decoding and `JSON.writeString`.
    func appendString(_ value: PickedValue, to out: inout [UInt8]) {
        if !hasEscape(value) {
            out.append(contentsOf: slice(value))
            return
        }
        out.append(0x22)
        appendStringContent(value, to: &out)
        out.append(0x22)
    }

    private func hasEscape(_ value: PickedValue) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        return memchr(base + value.range.lowerBound, 0x5C, value.range.count) != nil
    }
}
