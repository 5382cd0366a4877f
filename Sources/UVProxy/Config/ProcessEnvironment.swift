import Glibc

/// The process environment as a dictionary, read from `environ` (what Foundation's
/// `ProcessInfo.processInfo.environment` returns, without linking Foundation).
package enum ProcessEnvironment {
    /// Every `NAME=value` entry; an entry without `=` is skipped, and the first of two same names wins
    /// (as `getenv` does).
    package static func current() -> [String: String] {
        var out: [String: String] = [:]
        var entry = environ
        while let c = entry.pointee {
            let text = String(cString: c)
            if let eq = text.utf8.firstIndex(of: UInt8(ascii: "=")) {
                let name = String(text[..<eq])
                if out[name] == nil { out[name] = String(text[text.index(after: eq)...]) }
            }
            entry += 1
        }
        return out
    }
}
