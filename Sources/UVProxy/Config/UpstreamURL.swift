/// An upstream's base URL: `https://host[:port][/base/path]`.
///
/// Only what a proxy can honour is accepted: scheme http or https, a host, an optional port and base
/// path. User info (`user:pass@`), a query or a fragment is an error: credentials belong in `auth`,
/// and a query would be silently mangled when the route's `upstream_path` is appended.
package struct UpstreamURL: Sendable, Equatable, CustomStringConvertible {
    /// `http` or `https`, lowercased.
    package var scheme: String
    /// A DNS name (lowercased), an IPv4 literal, or an IPv6 literal without brackets.
    package var host: String
    /// The explicit port, else 80 for http and 443 for https.
    package var port: Int
    /// `""` or `/prefix` without a trailing slash; requests go to `basePath + upstreamPath`.
    package var basePath: String
    package var isTLS: Bool

    package init(scheme: String, host: String, port: Int, basePath: String) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.basePath = basePath
        self.isTLS = scheme == "https"
    }

    package var isIPv6: Bool { host.contains(":") }

    /// True when `host` is an IP literal: no SNI, and the certificate is checked against the IP.
    package var hostIsIPAddress: Bool { isIPv6 || HostPort.isIPv4Literal(host) }

    /// The `Host` header value: the host, with the port only when it is not the scheme's default.
    package var hostHeader: String {
        let h = isIPv6 ? "[\(host)]" : host
        return port == (isTLS ? 443 : 80) ? h : "\(h):\(port)"
    }

    package var description: String { "\(scheme)://\(hostHeader)\(basePath)" }

    package static func parse(_ text: String, path: String = "url") throws(ConfigError) -> UpstreamURL {
        func fail(_ why: String) -> ConfigError { ConfigError(path: path, message: "\(why) in url '\(text)'") }
        guard let sep = text.firstRange(of: "://") else {
            throw fail("not an absolute URL (expected http://HOST[:PORT][/PATH] or https://...)")
        }
        let scheme = text[..<sep.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else {
            throw fail("unsupported scheme '\(scheme)' (use http or https)")
        }
        let rest = text[sep.upperBound...]
        if rest.contains("?") { throw fail("a query ('?') is not allowed") }
        if rest.contains("#") { throw fail("a fragment ('#') is not allowed") }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        var basePath = String(rest[slash...])
        if authority.contains("@") { throw fail("user info is not allowed (configure auth instead)") }

        var host: Substring
        var portText: Substring? = nil
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw fail("unclosed '['") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw fail("unexpected text after ']'") }
                portText = after.dropFirst()
            }
            guard HostPort.isIPv6Literal(host) else { throw fail("invalid IPv6 address") }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { throw fail("missing host") }
        let isV6 = host.contains(":")
        if !isV6 {
            let ok = host.utf8.allSatisfy { b in
                ConfigSyntax.isDigit(b) || ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A) || b == UInt8(ascii: "-")
                    || b == UInt8(ascii: ".") || b == UInt8(ascii: "_")
            }
            guard ok else { throw fail("invalid host '\(host)'") }
        }
        var port = scheme == "https" ? 443 : 80
        if let portText {
            guard !portText.isEmpty, portText.count <= 5, portText.utf8.allSatisfy(ConfigSyntax.isDigit),
                let p = Int(portText), (1...65535).contains(p)
            else { throw fail("invalid port '\(portText)'") }
            port = p
        }
        while basePath.hasSuffix("/") { basePath.removeLast() }
        if !basePath.isEmpty, let problem = ConfigSyntax.pathProblem(basePath) {
            throw fail("path \(problem)")
        }
        return UpstreamURL(scheme: scheme, host: host.lowercased(), port: port, basePath: basePath)
    }
}
