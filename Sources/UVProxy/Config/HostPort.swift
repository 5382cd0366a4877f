/// An address to listen on: an IP literal and a port.
///
/// Accepted forms: `127.0.0.1:3001`, `[::1]:8080`, `0.0.0.0:3001`, `localhost:3001` (binds 127.0.0.1),
/// `:3001` and `3001`. An empty host means **loopback** (127.0.0.1), never "all interfaces": listening
/// publicly must be written out (`0.0.0.0:3001` or `[::]:3001`). Port 0 asks the system for a free port.
package struct HostPort: Sendable, Equatable, CustomStringConvertible {
    /// An IPv4 or IPv6 literal, IPv6 without brackets.
    package var host: String
    package var port: Int

    package init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    package var isIPv6: Bool { host.contains(":") }

    /// 127.0.0.0/8 or ::1: only this machine can connect.
    package var isLoopback: Bool {
        if isIPv6 { return host == "::1" || host == "0:0:0:0:0:0:0:1" }
        return host.hasPrefix("127.")
    }

    package var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    package static func parse(_ text: String) throws(ConfigError) -> HostPort {
        try parse(text, path: "listen")
    }

    package static func parse(_ text: String, path: String) throws(ConfigError) -> HostPort {
        let s = text.trimmingSpaces()
        func fail(_ why: String) -> ConfigError {
            ConfigError(path: path, message: "\(why) in '\(s)' (expected HOST:PORT, e.g. 127.0.0.1:3001 or [::1]:3001)")
        }
        var host: Substring
        var portText: Substring
        if s.hasPrefix("[") {
            guard let close = s.firstIndex(of: "]") else { throw fail("unclosed '['") }
            host = s[s.index(after: s.startIndex)..<close]
            let rest = s[s.index(after: close)...]
            guard rest.hasPrefix(":") else { throw fail("missing port") }
            portText = rest.dropFirst()
            guard isIPv6Literal(host) else { throw fail("invalid IPv6 address") }
        } else if let colon = s.lastIndex(of: ":") {
            host = s[..<colon]
            portText = s[s.index(after: colon)...]
            if host.contains(":") { throw fail("IPv6 addresses need brackets") }
        } else {
            host = ""
            portText = Substring(s)
        }
        if host.isEmpty || host == "localhost" { host = "127.0.0.1" }
        if !host.contains(":") && !isIPv4Literal(host) {
            throw fail("host must be an IP address or localhost")
        }
        guard !portText.isEmpty, portText.utf8.allSatisfy(ConfigSyntax.isDigit), portText.count <= 5,
            let port = Int(portText), port <= 65535
        else { throw fail("invalid port") }
        return HostPort(host: String(host), port: port)
    }

    static func isIPv4Literal<S: StringProtocol>(_ s: S) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy { p in
                !p.isEmpty && p.count <= 3 && p.utf8.allSatisfy(ConfigSyntax.isDigit) && (Int(p) ?? 256) <= 255
            }
    }

    /// Hex groups and colons (with at most one `::`), optionally ending in an IPv4 literal.
    static func isIPv6Literal<S: StringProtocol>(_ s: S) -> Bool {
        guard s.contains(":"), s.count <= 45 else { return false }
        let text = String(s)
        let doubleColons = text.ranges(of: "::").count
        guard doubleColons <= 1 else { return false }
        var groups = text.split(separator: ":", omittingEmptySubsequences: true)
        var slots = 8
        if let last = groups.last, last.contains(".") {
            guard isIPv4Literal(last) else { return false }
            groups.removeLast()
            slots = 6
        }
        guard groups.allSatisfy({ g in g.count <= 4 && g.allSatisfy(\.isHexDigit) }) else { return false }
        return doubleColons == 1 ? groups.count < slots : groups.count == slots
    }
}
