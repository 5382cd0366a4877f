/// `${VAR}` and `${VAR:-default}` expansion inside YAML string values.
///
/// Expansion runs on scalar values after YAML parsing, never on the raw text: an environment value can
/// never change the structure of the document (a value with `: ` or a newline stays one string), and an
/// error names the key path of the value that asked for the variable.
///
/// Rules (documented in `config/README.md`):
/// - `${NAME}`: the variable's value; set but empty gives the empty string; unset is an error.
/// - `${NAME:-default}`: the value when set and non-empty, otherwise `default` (literal text up to the
///   first `}`; it is not expanded again).
/// - `$$` is a literal `$` (so `$${X}` is the literal text `${X}`).
/// - A `$` followed by anything else is literal (`$HOME` is not expanded: only the braced form is).
/// - Expanded values are not scanned again.
enum EnvExpansion {
    static func expand(_ text: String, environment: [String: String], path: String) throws(ConfigError) -> String {
        guard text.contains("$") else { return text }
        var out = ""
        var i = text.startIndex
        let end = text.endIndex
        while i < end {
            let c = text[i]
            let next = text.index(after: i)
            guard c == "$", next < end else {
                out.append(c)
                i = next
                continue
            }
            if text[next] == "$" {
                out.append("$")
                i = text.index(after: next)
                continue
            }
            guard text[next] == "{" else {
                out.append(c)
                i = next
                continue
            }
            let innerStart = text.index(after: next)
            guard let close = text[innerStart...].firstIndex(of: "}") else {
                throw ConfigError(path: path, message: "unterminated '${' (write '$$' for a literal '$')")
            }
            let inner = text[innerStart..<close]
            out += try substitute(inner, environment: environment, path: path)
            i = text.index(after: close)
        }
        return out
    }

    private static func substitute(
        _ inner: Substring, environment: [String: String], path: String
    ) throws(ConfigError) -> String {
        var name = inner
        var fallback: Substring? = nil
        if let colon = inner.firstIndex(of: ":") {
            name = inner[..<colon]
            let rest = inner[inner.index(after: colon)...]
            guard rest.first == "-" else {
                throw ConfigError(
                    path: path,
                    message: "unsupported expansion '${\(inner)}' (only ${NAME} and ${NAME:-default})")
            }
            fallback = rest.dropFirst()
        }
        guard isVariableName(name) else {
            throw ConfigError(path: path, message: "invalid environment variable name '\(name)' in '${\(inner)}'")
        }
        let value = environment[String(name)]
        if let fallback {
            if let value, !value.isEmpty { return value }
            return String(fallback)
        }
        guard let value else {
            throw ConfigError(
                path: path,
                message: "environment variable \(name) is not set (write ${\(name):-} to make it optional)")
        }
        return value
    }

    /// POSIX shell variable names: a letter or `_`, then letters, digits and `_`.
    static func isVariableName<S: StringProtocol>(_ s: S) -> Bool {
        guard let first = s.utf8.first, first == UInt8(ascii: "_") || isLetter(first) else { return false }
        return s.utf8.allSatisfy { $0 == UInt8(ascii: "_") || isLetter($0) || ($0 >= 0x30 && $0 <= 0x39) }
    }

    private static func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }
}
