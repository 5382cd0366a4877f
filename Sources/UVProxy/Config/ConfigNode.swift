/// A YAML node plus the key path that reached it: every typed read either succeeds or throws a
/// `ConfigError` naming that path. String reads expand `${VAR}` from the environment first, so a
/// number or a boolean may come from the environment too (`workers: ${WORKERS:-1}`).
struct ConfigNode {
    let node: YAMLNode
    let path: String
    let environment: [String: String]

    func error(_ message: String) -> ConfigError { ConfigError(path: path.isEmpty ? "(root)" : path, message: message) }

    /// A plain `~`, `null` or empty scalar: treated as if the key were absent.
    var isNull: Bool {
        guard case .scalar(let s) = node, s.isPlain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(s.text)
    }

    /// What the node is, for "expected X, got Y" messages.
    var kind: String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar(let s): return "'\(s.text)'"
        }
    }

    // MARK: Scalars

    /// The scalar's text, environment-expanded. Any scalar is a string (`prefix: 123` is "123").
    func string() throws(ConfigError) -> String {
        guard case .scalar(let s) = node else { throw error("expected a string, got \(kind)") }
        return try EnvExpansion.expand(s.text, environment: environment, path: path)
    }

    func int(in range: ClosedRange<Int>) throws(ConfigError) -> Int {
        guard case .scalar = node else { throw error("expected an integer, got \(kind)") }
        let text = try string().trimmingSpaces()
        guard let value = Int(text) else { throw error("expected an integer, got '\(text)'") }
        guard range.contains(value) else {
            throw error("\(value) is out of range \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    /// `true` or `false` (YAML 1.2; `yes`/`no`/`on`/`off` are refused as ambiguous).
    func bool() throws(ConfigError) -> Bool {
        guard case .scalar = node else { throw error("expected true or false, got \(kind)") }
        switch try string().trimmingSpaces() {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        case let other: throw error("expected true or false, got '\(other)'")
        }
    }

    /// A duration in milliseconds: `250ms`, `30s`, `2m`, `1h`, `1m30s`, or a number of seconds.
    func duration() throws(ConfigError) -> Int {
        guard case .scalar = node else { throw error("expected a duration, got \(kind)") }
        let text = try string()
        guard let ms = ConfigSyntax.durationMilliseconds(text) else {
            throw error("expected a duration like 250ms, 30s, 2m or a number of seconds, got '\(text)'")
        }
        return ms
    }

    /// A byte count: `65536`, `64KiB`, `32MiB`, `1GB`.
    func byteCount(in range: ClosedRange<Int>) throws(ConfigError) -> Int {
        guard case .scalar = node else { throw error("expected a size in bytes, got \(kind)") }
        let text = try string()
        guard let n = ConfigSyntax.byteCount(text) else {
            throw error("expected a size like 65536, 64KiB or 32MiB, got '\(text)'")
        }
        guard range.contains(n) else {
            throw error("\(n) bytes is out of range \(range.lowerBound)...\(range.upperBound)")
        }
        return n
    }

    // MARK: Collections

    func sequence() throws(ConfigError) -> [ConfigNode] {
        guard case .sequence(let seq) = node else { throw error("expected a list, got \(kind)") }
        var out: [ConfigNode] = []
        for (i, element) in seq.enumerated() {
            out.append(ConfigNode(node: element, path: "\(path)[\(i)]", environment: environment))
        }
        return out
    }

    /// A list of strings; a single string is accepted as a list of one when `allowSingle`.
    func stringList(allowSingle: Bool = true) throws(ConfigError) -> [String] {
        if allowSingle, case .scalar = node { return [try string()] }
        var out: [String] = []
        for element in try sequence() { out.append(try element.string()) }
        return out
    }

    /// The mapping's entries in file order. With `allowed`, any other key is an error naming it.
    func mapping(allowed: [String]? = nil) throws(ConfigError) -> ConfigMapping {
        guard case .mapping(let map) = node else { throw error("expected a mapping, got \(kind)") }
        var entries: [(key: String, value: ConfigNode)] = []
        for pair in map {
            let (keyNode, valueNode) = (pair.key, pair.value)
            guard case .scalar(let k) = keyNode else { throw error("mapping keys must be strings, got \(keyNode.kindName)") }
            let childPath = path.isEmpty ? k.text : "\(path).\(k.text)"
            if let allowed, !allowed.contains(k.text) {
                throw ConfigError(
                    path: childPath, message: "unknown key (expected one of: \(allowed.joined(separator: ", ")))")
            }
            entries.append((k.text, ConfigNode(node: valueNode, path: childPath, environment: environment)))
        }
        return ConfigMapping(path: path, entries: entries)
    }
}

/// A YAML mapping's entries with their paths, keyed lookups treating null values as absent.
struct ConfigMapping {
    let path: String
    let entries: [(key: String, value: ConfigNode)]

    /// The value for `key`, or nil when the key is absent or its value is null.
    subscript(_ key: String) -> ConfigNode? {
        guard let entry = entries.first(where: { $0.key == key }), !entry.value.isNull else { return nil }
        return entry.value
    }

    func has(_ key: String) -> Bool { self[key] != nil }

    func required(_ key: String) throws(ConfigError) -> ConfigNode {
        guard let node = self[key] else {
            throw ConfigError(path: path.isEmpty ? key : "\(path).\(key)", message: "required key is missing")
        }
        return node
    }

    /// An optional string whose empty expansion (e.g. `${CA_FILE:-}`) also means "not set".
    func optionalString(_ key: String) throws(ConfigError) -> String? {
        guard let node = self[key] else { return nil }
        let value = try node.string()
        return value.isEmpty ? nil : value
    }
}
