/// A configuration problem, located by its key path (`routes[2].upstream`, `upstreams.ai-gateway.url`).
///
/// The key path is what a person edits, so every error names one. Paths use `.` between mapping keys
/// and `[i]` for sequence elements (0-based). Problems that belong to no key use a pseudo path in
/// parentheses: `(file)` for reading the file, `(yaml)` for YAML syntax, `(root)` for the document.
package struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    package var path: String
    package var message: String

    package init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    package var description: String { "\(path): \(message)" }
}
