#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What a top-level value starts with; enough to check a field's type without decoding it.
public enum JSONKind: Sendable, Equatable {
    case object, array, string, number, bool, null

    init(firstByte c: UInt8) {
        switch c {
        case 0x7B: self = .object
        case 0x5B: self = .array
        case 0x22: self = .string
        case 0x74, 0x66: self = .bool
        case 0x6E: self = .null
        default: self = .number
        }
    }
}

/// The result of scanning a JSON object document: where each top-level member sits in the bytes.
public struct JSONObjectScan: Sendable {
    public struct Member: Sendable, Equatable {
        /// The decoded key.
        public var key: String
        /// The key's bytes including its quotes.
        public var keyRange: Range<Int>
        /// The value's bytes, exactly as written (no surrounding whitespace).
        public var valueRange: Range<Int>
        public var kind: JSONKind
    }

    public var members: [Member]
    /// Offsets of the object's `{` and `}` in the scanned bytes.
    public var openBrace: Int
    public var closeBrace: Int

    /// The first member named `key`.
    public func first(_ key: String) -> Member? {
        for m in members where m.key == key { return m }
        return nil
    }

    public func contains(_ key: String) -> Bool { first(key) != nil }
}

/// One top-level member as `JSONObjectScanner.scanMembers` reports it: spans only, no decoded key.
public struct JSONMemberSpan: Sendable, Equatable {
    /// The key's bytes including its quotes.
    public var keyRange: Range<Int>
    /// The value's bytes, exactly as written (no surrounding whitespace).
    public var valueRange: Range<Int>
    public var kind: JSONKind
    /// The key contains a backslash escape, so its bytes are not its text.
    public var keyEscaped: Bool

    /// True when the key is exactly `name`; compares bytes, and decodes only an escaped key.
    @inline(__always)
    public func keyIs(_ name: StaticString, in bytes: UnsafeRawBufferPointer) -> Bool {
        let n = name.utf8CodeUnitCount
        guard !keyEscaped else { return JSONObjectScanner.decodeString(bytes, at: keyRange) == name.description }
        guard keyRange.count == n + 2, let base = bytes.baseAddress else { return false }
        return memcmp(base + keyRange.lowerBound + 1, name.utf8Start, n) == 0
    }
}

/// Receives each top-level member of a scanned object, in order.
public protocol JSONMemberVisitor {
    mutating func member(_ member: JSONMemberSpan)
}

/// Validates a whole document that must be a JSON object and returns each top-level member's key and
/// byte ranges, in one pass and without building a tree. Used for byte-exact pass-through: the proxy
/// edits the few members it owns and copies every other byte (see `JSONEdit`).
public enum JSONObjectScanner {
    /// Validates `bytes` as one JSON object and hands each top-level member to `visitor`, without
    /// decoding keys or allocating. Returns the offsets of the object's braces.
    ///
    /// On invalid input the visitor may already have seen some members before the error is thrown.
    public static func scanMembers<V: JSONMemberVisitor>(
        _ bytes: UnsafeRawBufferPointer, into visitor: inout V
    ) throws(JSONError) -> (openBrace: Int, closeBrace: Int) {
        if let braces = fastScanMembers(bytes, into: &visitor) { return braces }
        // Invalid: the detailed reader finds the message and offset.
        var ignore = IgnoringVisitor()
        _ = try detailedScanMembers(bytes, into: &ignore)
        throw JSONError(message: "invalid JSON", offset: 0)  // unreachable while the two paths agree
    }

    private struct IgnoringVisitor: JSONMemberVisitor {
        mutating func member(_ member: JSONMemberSpan) {}
    }

    /// `scanMembers` over `JSONFastScan`: nil when the document is invalid.
    @inline(__always)
    static func fastScanMembers<V: JSONMemberVisitor>(
        _ bytes: UnsafeRawBufferPointer, into visitor: inout V
    ) -> (openBrace: Int, closeBrace: Int)? {
        guard let base = bytes.baseAddress else { return nil }
        let p = base.assumingMemoryBound(to: UInt8.self)
        let n = bytes.count
        var i = JSONFastScan.whitespace(p, n, 0)
        guard i < n, p[i] == 0x7B else { return nil }
        let open = i
        i = JSONFastScan.whitespace(p, n, i + 1)
        guard i < n else { return nil }
        var close = i
        if p[i] == 0x7D {
            i += 1
        } else {
            while true {
                i = JSONFastScan.whitespace(p, n, i)
                guard i < n, p[i] == 0x22 else { return nil }
                let keyStart = i
                var escaped = false
                i = JSONFastScan.string(p, n, i, &escaped)
                if i < 0 { return nil }
                let keyEnd = i
                i = JSONFastScan.whitespace(p, n, i)
                guard i < n, p[i] == 0x3A else { return nil }
                let valueStart = JSONFastScan.whitespace(p, n, i + 1)
                i = JSONFastScan.value(p, n, valueStart, depth: 1, maxDepth: JSONParser.maxDepth)
                if i == JSONFastScan.tooDeep {
                    var r = JSONReader(bytes)
                    r.index = valueStart
                    do throws(JSONError) { try r.skipValueDetailed(depth: 1) } catch { return nil }
                    i = r.index
                }
                if i < 0 { return nil }
                visitor.member(
                    JSONMemberSpan(
                        keyRange: keyStart..<keyEnd, valueRange: valueStart..<i,
                        kind: JSONKind(firstByte: p[valueStart]), keyEscaped: escaped))
                i = JSONFastScan.whitespace(p, n, i)
                guard i < n else { return nil }
                let d = p[i]
                i += 1
                if d == 0x7D {
                    close = i - 1
                    break
                }
                guard d == 0x2C else { return nil }
            }
        }
        guard JSONFastScan.whitespace(p, n, i) == n else { return nil }
        return (open, close)
    }

    /// `scanMembers` over `JSONReader`, which throws precise errors.
    static func detailedScanMembers<V: JSONMemberVisitor>(
        _ bytes: UnsafeRawBufferPointer, into visitor: inout V
    ) throws(JSONError) -> (openBrace: Int, closeBrace: Int) {
        var r = JSONReader(bytes)
        r.skipWhitespace()
        guard r.peek() == 0x7B else {
            if r.atEnd { throw r.error("empty document, expected a JSON object") }
            throw r.error("expected a JSON object")
        }
        let open = r.index
        r.index += 1
        r.skipWhitespace()
        var close = r.index
        if r.peek() == 0x7D {
            r.index += 1
        } else {
            while true {
                r.skipWhitespace()
                guard r.peek() == 0x22 else { throw r.atEnd ? r.unexpected() : r.error("expected a string key") }
                let keyStart = r.index
                let k = try r.scanString()
                let keyEnd = r.index
                r.skipWhitespace()
                try r.expect(0x3A, "':'")
                r.skipWhitespace()
                let valueStart = r.index
                try r.skipValueDetailed(depth: 1)
                visitor.member(
                    JSONMemberSpan(
                        keyRange: keyStart..<keyEnd, valueRange: valueStart..<r.index,
                        kind: JSONKind(firstByte: r.p[valueStart]), keyEscaped: k.escaped))
                r.skipWhitespace()
                guard let d = r.peek() else { throw r.error("unexpected end of input, expected ',' or '}'") }
                if d == 0x7D {
                    close = r.index
                    r.index += 1
                    break
                }
                guard d == 0x2C else { throw r.error("expected ',' or '}'") }
                r.index += 1
            }
        }
        r.skipWhitespace()
        guard r.atEnd else { throw r.error("unexpected data after the JSON value") }
        return (open, close)
    }

    /// Collects members with decoded keys.
    private struct Collector: JSONMemberVisitor {
        let bytes: UnsafeRawBufferPointer
        var members: [JSONObjectScan.Member] = []

        mutating func member(_ m: JSONMemberSpan) {
            let key: String
            if m.keyEscaped {
                key = JSONObjectScanner.decodeString(bytes, at: m.keyRange) ?? ""
            } else {
                key = String(
                    decoding: UnsafeRawBufferPointer(
                        rebasing: bytes[(m.keyRange.lowerBound + 1)..<(m.keyRange.upperBound - 1)]),
                    as: UTF8.self)
            }
            members.append(
                JSONObjectScan.Member(key: key, keyRange: m.keyRange, valueRange: m.valueRange, kind: m.kind))
        }
    }

    public static func scan(_ bytes: UnsafeRawBufferPointer) throws(JSONError) -> JSONObjectScan {
        var collector = Collector(bytes: bytes)
        collector.members.reserveCapacity(12)
        let braces = try scanMembers(bytes, into: &collector)
        return JSONObjectScan(members: collector.members, openBrace: braces.openBrace, closeBrace: braces.closeBrace)
    }

    public static func scan(_ bytes: [UInt8]) throws(JSONError) -> JSONObjectScan {
        let result: Result<JSONObjectScan, JSONError> = bytes.withUnsafeBytes { buffer in
            do throws(JSONError) { return .success(try scan(buffer)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}

extension JSONObjectScanner {
    /// The byte ranges of the elements of the array at `range` of `bytes` (ranges are offsets into `bytes`).
    /// Validates the array.
    public static func arrayElements(_ bytes: UnsafeRawBufferPointer, in range: Range<Int>) throws(JSONError) -> [Range<Int>] {
        var r = JSONReader(UnsafeRawBufferPointer(rebasing: bytes[range]))
        let base = range.lowerBound
        r.skipWhitespace()
        guard r.peek() == 0x5B else { throw JSONError(message: "expected an array", offset: base + r.index) }
        r.index += 1
        var elements: [Range<Int>] = []
        r.skipWhitespace()
        if r.peek() == 0x5D { return elements }
        while true {
            r.skipWhitespace()
            let start = r.index
            do throws(JSONError) {
                try r.skipValue(depth: 1)
            } catch {
                throw JSONError(message: error.message, offset: base + error.offset)
            }
            elements.append((base + start)..<(base + r.index))
            r.skipWhitespace()
            guard let d = r.peek() else { throw JSONError(message: "unterminated array", offset: base + r.index) }
            r.index += 1
            if d == 0x5D { return elements }
            guard d == 0x2C else { throw JSONError(message: "expected ',' or ']'", offset: base + r.index - 1) }
        }
    }

    /// Scans the object at `range` of `bytes`; the returned ranges are offsets into `bytes`.
    public static func scan(_ bytes: UnsafeRawBufferPointer, in range: Range<Int>) throws(JSONError) -> JSONObjectScan {
        let base = range.lowerBound
        var s: JSONObjectScan
        do throws(JSONError) {
            s = try scan(UnsafeRawBufferPointer(rebasing: bytes[range]))
        } catch {
            throw JSONError(message: error.message, offset: base + error.offset)
        }
        s.openBrace += base
        s.closeBrace += base
        for i in s.members.indices {
            s.members[i].keyRange = (s.members[i].keyRange.lowerBound + base)..<(s.members[i].keyRange.upperBound + base)
            s.members[i].valueRange =
                (s.members[i].valueRange.lowerBound + base)..<(s.members[i].valueRange.upperBound + base)
        }
        return s
    }

    /// Decodes the string value at `range` (which must be a validated JSON string, quotes included).
    public static func decodeString(_ bytes: UnsafeRawBufferPointer, at range: Range<Int>) -> String? {
        guard range.count >= 2, range.lowerBound >= 0, range.upperBound <= bytes.count,
            bytes[range.lowerBound] == 0x22
        else { return nil }
        var escaped = false
        for i in (range.lowerBound + 1)..<(range.upperBound - 1) where bytes[i] == 0x5C {
            escaped = true
            break
        }
        let r = JSONReader(bytes)
        return r.decodeString(start: range.lowerBound + 1, end: range.upperBound - 1, escaped: escaped)
    }
}
