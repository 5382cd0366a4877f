/// One header field: spans into its head's `bytes`, so a head costs one allocation for the bytes
/// and one for the fields however many fields it has.
public struct HTTPHeaderField: Sendable, Equatable {
    public var name: Range<Int>
    /// The value without surrounding OWS (may be empty).
    public var value: Range<Int>

    public init(name: Range<Int>, value: Range<Int>) {
        self.name = name
        self.value = value
    }
}

/// What request and response heads share: the bytes and the field spans, and lookups over them.
/// Lookups compare names case-insensitively and allocate only when they return a `String`.
public protocol HTTPHead: Sendable {
    /// The head's bytes from the start line through the blank line that ends it.
    var bytes: [UInt8] { get }
    var fields: [HTTPHeaderField] { get }
}

extension HTTPHead {
    /// True if field `i`'s name equals `lowercased` (ASCII, compared case-insensitively). No allocation.
    @inlinable
    public func nameEquals(_ i: Int, lowercased: [UInt8]) -> Bool {
        guard fields.indices.contains(i) else { return false }
        return bytes.withUnsafeBytes { p in
            lowercased.withUnsafeBytes { HTTPBytes.equalsIgnoringCase(p, fields[i].name, $0) }
        }
    }

    /// The index of the first field named `name` (case-insensitive), if any.
    @inlinable
    public func firstIndex(of name: String) -> Int? {
        var name = name
        return name.withUTF8 { n in
            bytes.withUnsafeBytes { p in
                fields.firstIndex { HTTPBytes.equalsIgnoringCase(p, $0.name, UnsafeRawBufferPointer(n)) }
            }
        }
    }

    /// The same for a constant name, without going through a String.
    @inlinable
    public func firstIndex(ofLowercased name: StaticString) -> Int? {
        let n = UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
        return bytes.withUnsafeBytes { p in
            fields.firstIndex { HTTPBytes.equalsIgnoringCase(p, $0.name, n) }
        }
    }

    /// The value of the first field named `lowercasedName` (compared case-insensitively).
    @inlinable
    public func value(_ lowercasedName: String) -> String? {
        firstIndex(of: lowercasedName).map { value(at: $0) }
    }

    /// The values of every field so named, in order (each field's value as sent, lists not split).
    @inlinable
    public func values(_ lowercasedName: String) -> [String] {
        var name = lowercasedName
        return name.withUTF8 { n in
            bytes.withUnsafeBytes { p in
                fields.compactMap { field in
                    HTTPBytes.equalsIgnoringCase(p, field.name, UnsafeRawBufferPointer(n))
                        ? String(decoding: p[field.value], as: UTF8.self) : nil
                }
            }
        }
    }

    /// True if the first field named `name` has a value starting with `lowercasedPrefix` (ASCII,
    /// case-insensitive), e.g. `valueHasPrefix("content-type", "text/event-stream")`. No allocation.
    @inlinable
    public func valueHasPrefix(_ name: String, _ lowercasedPrefix: String) -> Bool {
        guard let i = firstIndex(of: name) else { return false }
        return valueHasPrefix(at: i, lowercasedPrefix)
    }

    /// True if field `i`'s value starts with `lowercasedPrefix` (ASCII, case-insensitive).
    @inlinable
    public func valueHasPrefix(at i: Int, _ lowercasedPrefix: String) -> Bool {
        guard fields.indices.contains(i) else { return false }
        let value = fields[i].value
        var prefix = lowercasedPrefix
        return prefix.withUTF8 { q in
            guard value.count >= q.count else { return false }
            return bytes.withUnsafeBytes { p in
                HTTPBytes.equalsIgnoringCase(p, value.lowerBound..<(value.lowerBound + q.count), UnsafeRawBufferPointer(q))
            }
        }
    }

    /// True if any field so named lists `token` as one of its comma-separated elements
    /// (case-insensitive), e.g. `has("connection", token: "close")`.
    @inlinable
    public func has(_ name: String, token: String) -> Bool {
        var name = name
        var token = token
        return name.withUTF8 { n in
            token.withUTF8 { t in
                bytes.withUnsafeBytes { p in
                    var found = false
                    for field in fields where HTTPBytes.equalsIgnoringCase(p, field.name, UnsafeRawBufferPointer(n)) {
                        HTTPBytes.forEachListElement(p, field.value) { element in
                            found = HTTPBytes.equalsIgnoringCase(p, element, UnsafeRawBufferPointer(t))
                            return !found
                        }
                        if found { return true }
                    }
                    return false
                }
            }
        }
    }

    /// True if field `i`'s value is all ASCII (no obs-text), so its bytes and `value(at:)` agree.
    @inlinable
    public func valueIsASCII(at i: Int) -> Bool {
        guard fields.indices.contains(i) else { return false }
        let value = fields[i].value
        return bytes.withUnsafeBytes { p in
            for j in value where p[j] >= 0x80 { return false }
            return true
        }
    }

    /// Field `i`'s name as sent.
    @inlinable
    public func name(at i: Int) -> String {
        String(decoding: bytes[fields[i].name], as: UTF8.self)
    }

    /// Field `i`'s value, OWS trimmed. Bytes that are not UTF-8 (obs-text) become U+FFFD.
    @inlinable
    public func value(at i: Int) -> String {
        String(decoding: bytes[fields[i].value], as: UTF8.self)
    }
}
