/// A JSON value that keeps what the wire said: numbers keep their text (so they round-trip byte-exact)
/// and objects keep their member order (so a re-written body reads like the one the client sent).
///
/// Used on cold-ish paths (building requests, error bodies, small events). Hot pass-through paths use
/// `JSONObjectScanner` and `JSONEdit`, which never build a tree.
public enum JSON: Equatable, Sendable {
    case null
    case bool(Bool)
    /// Keeps the raw text, so numbers round-trip byte-exact.
    case number(JSONNumber)
    case string(String)
    case array([JSON])
    case object(JSONObject)
}

/// A JSON number as its text. `init(_ text:)` does not validate: callers that build numbers from
/// untrusted text should parse them with `JSONParser` instead.
public struct JSONNumber: Equatable, Sendable {
    public var text: String

    public init(_ text: String) { self.text = text }
    public init(_ int: Int) { self.text = String(int) }

    /// The value as an `Int` when the text is an integer literal that fits (no fraction, no exponent).
    public var intValue: Int? { Int(text) }
    /// The value as a `Double` (any JSON number; very large exponents give infinity).
    public var doubleValue: Double? { Double(text) }
}

/// A JSON object's members in insertion order. Lookups are linear: objects in API bodies are small,
/// and order matters more than lookup speed here. Duplicate keys can exist after parsing; the
/// subscript reads and writes the first one.
public struct JSONObject: Equatable, Sendable {
    public struct Member: Equatable, Sendable {
        public var key: String
        public var value: JSON

        public init(key: String, value: JSON) {
            self.key = key
            self.value = value
        }
    }

    public var members: [Member]

    public init() { members = [] }

    public init(_ members: [(String, JSON)]) {
        self.members = members.map { Member(key: $0.0, value: $0.1) }
    }

    public var isEmpty: Bool { members.isEmpty }
    public var count: Int { members.count }
    public var keys: [String] { members.map(\.key) }

    /// Get: the first member with `key`. Set: replaces that member's value in place, appends a new
    /// member when there is none, and `nil` removes every member with `key`.
    public subscript(key: String) -> JSON? {
        get {
            for member in members where member.key == key { return member.value }
            return nil
        }
        set {
            guard let newValue else {
                members.removeAll { $0.key == key }
                return
            }
            if let index = members.firstIndex(where: { $0.key == key }) {
                members[index].value = newValue
            } else {
                members.append(Member(key: key, value: newValue))
            }
        }
    }

    public mutating func append(_ key: String, _ value: JSON) {
        members.append(Member(key: key, value: value))
    }
}

extension JSON {
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    public var arrayValue: [JSON]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var numberValue: JSONNumber? {
        if case .number(let n) = self { return n }
        return nil
    }

    /// An integer-literal number that fits in `Int`; `nil` for `1.0`, `1e3`, strings and the rest.
    public var intValue: Int? {
        if case .number(let n) = self { return n.intValue }
        return nil
    }

    public var doubleValue: Double? {
        if case .number(let n) = self { return n.doubleValue }
        return nil
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// A member of an object; `nil` when this is not an object or has no such key.
    public subscript(key: String) -> JSON? {
        if case .object(let o) = self { return o[key] }
        return nil
    }
}

extension JSON: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
}

extension JSON: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int) { self = .number(JSONNumber(value)) }
}

extension JSON: ExpressibleByBooleanLiteral {
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension JSON: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
}

extension JSON: ExpressibleByDictionaryLiteral {
    /// Keeps the literal's order.
    public init(dictionaryLiteral elements: (String, JSON)...) { self = .object(JSONObject(elements)) }
}

extension JSON: ExpressibleByNilLiteral {
    public init(nilLiteral: ()) { self = .null }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSON)...) { self.init(elements) }
}
