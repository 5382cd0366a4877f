/// One node of a composed YAML document: what the config reader walks.
///
/// Aliases are already resolved (an alias is a copy of its anchored node; arrays share storage, so a
/// copy costs a reference count, not a deep copy). Tags are not resolved: every scalar is its text,
/// and the typed readers in `ConfigNode` decide what the text means.
enum YAMLNode: Equatable, Sendable {
    case scalar(YAMLScalar)
    case sequence([YAMLNode])
    /// Entries in document order (keys are unique: the composer refuses duplicates).
    case mapping([YAMLPair])

    /// A plain, untagged scalar: what an unquoted value in the file becomes.
    static func plain(_ text: String) -> YAMLNode { .scalar(YAMLScalar(text: text, isPlain: true)) }

    /// A quoted or block scalar, or a tagged one.
    static func quoted(_ text: String) -> YAMLNode { .scalar(YAMLScalar(text: text, isPlain: false)) }

    /// "a scalar", "a list" or "a mapping", for messages.
    var kindName: String {
        switch self {
        case .scalar: return "a scalar"
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        }
    }
}

/// A scalar's text and whether it was written plain. Only plain scalars can mean null: `key: ~` is
/// absent, `key: "~"` is the string "~".
struct YAMLScalar: Equatable, Sendable {
    var text: String
    /// Plain style (unquoted, not a block scalar) and no explicit tag.
    var isPlain: Bool
}

/// One mapping entry.
struct YAMLPair: Equatable, Sendable {
    var key: YAMLNode
    var value: YAMLNode
}

/// A YAML syntax or structure problem at a 1-based line and column (characters, not bytes).
struct YAMLError: Error, Equatable, CustomStringConvertible {
    var line: Int
    var column: Int
    var problem: String

    var description: String { "line \(line), column \(column): \(problem)" }
}
