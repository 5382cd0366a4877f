/// A configuration problem, located by its key path (`routes[2].upstream`, `upstreams.ai-gateway.url`).
///
/// The key path is what a person edits, so every error names one. Paths use `.` between mapping keys
/// and `[i]` for sequence elements (0-based). Problems that belong to no key use a pseudo path in
/// parentheses: `(file)` for reading the file, `(yaml)` for YAML syntax, `(root)` for the document.
public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}
