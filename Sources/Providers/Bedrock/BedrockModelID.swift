/// Client model name → the Bedrock model id used in the invoke path (DESIGN.md §3).
///
/// Rules, in order:
/// 1. A configured alias wins (its target is used as is).
/// 2. Ids already in Bedrock form pass unchanged: ARNs (`arn:...`), anything with a provider or
///    inference-profile prefix (`anthropic.`, `us.`, `eu.`, `apac.`, `global.`, ...: a first dot-separated
///    word with no `-` in it),
///    and names with a `:N` version suffix.
/// 3. A `claude…` name that already ends in a version (`-v2`, `-v1`, `-v2.1`) gets `anthropic.` and `:0`:
///    `claude-v2` → `anthropic.claude-v2:0` (DESIGN: "a `-v2` suffix → `-v2:0`").
/// 4. A dated `claude…` name (`claude-3-7-sonnet-20250219`, `claude-sonnet-4-5-20250929`) gets
///    `anthropic.` and `-v1:0`.
/// 5. A dateless `claude…` name (`claude-opus-4-6`, `claude-sonnet-5-5`) gets `anthropic.` and `-v1`:
///    Bedrock's ids for those models take no `:0` (`anthropic.claude-opus-4-6-v1`), and
///    `anthropic.claude-opus-4-6-v1:0` is "The provided model identifier is invalid".
/// 6. Anything else passes unchanged: the upstream gives a clearer error than a guessed id would.
///
/// The result is percent-encoded for use as one path segment: unreserved characters and `:` stay,
/// everything else (notably `/` in ARNs → `%2F`) is encoded.
public enum BedrockModelID {
    /// An alias key that matches every model (a route's fallback target with its own model id).
    public static let anyModel = "*"

    public static func resolve(_ model: String, aliases: [String: String]) -> String {
        pathSegment(id(for: model, aliases: aliases))
    }

    /// The id before percent-encoding.
    public static func id(for model: String, aliases: [String: String]) -> String {
        if let alias = aliases[model] ?? aliases[anyModel] { return alias }
        if model.hasPrefix("arn:") || model.utf8.contains(UInt8(ascii: ":")) || hasQualifierPrefix(model) {
            return model
        }
        guard model.hasPrefix("claude") else { return model }
        if hasVersionSuffix(model) { return "anthropic." + model + ":0" }
        var m = model
        let dated = m.withUTF8 { hasDate(UnsafeRawBufferPointer($0)) }
        return "anthropic." + model + (dated ? "-v1:0" : "-v1")
    }

    /// True when the name starts with a `word.` (provider or inference-profile region) with no `-`.
    private static func hasQualifierPrefix(_ model: String) -> Bool {
        let u = model.utf8
        guard let dot = u.firstIndex(of: UInt8(ascii: ".")), dot != u.startIndex else { return false }
        return !u[..<dot].contains(UInt8(ascii: "-"))
    }

    /// True for names ending in `-v<digits>` or `-v<digits>.<digits>` (the byte rule, shared with the fast path).
    private static func hasVersionSuffix(_ model: String) -> Bool {
        var m = model
        return m.withUTF8 { versionSuffix(UnsafeRawBufferPointer($0)) }
    }

    /// Percent-encodes everything but `A-Z a-z 0-9 - . _ ~ :`.
    public static func pathSegment(_ s: String) -> String {
        // `.` and `..` would walk up the upstream's path: encode them whole.
        if s == "." || s == ".." { return s.utf8.map { _ in "%2E" }.joined() }
        // Model ids are almost always unreserved already: then the id is its own segment (no copy).
        var text = s
        let clean = text.withUTF8 { u in u.allSatisfy { isUnreserved($0) } }
        if clean { return s }
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        for c in s.utf8 {
            switch c {
            case _ where isUnreserved(c): out.append(c)
            default:
                out.append(0x25)
                out.append(hexDigit(c >> 4))
                out.append(hexDigit(c & 0xF))
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexDigit(_ n: UInt8) -> UInt8 { n < 10 ? 0x30 + n : 0x37 + n }

    /// Letters, digits and `-._~:` (`:` as in `...-v1:0`) stay as they are in a path segment.
    @inline(__always) private static func isUnreserved(_ c: UInt8) -> Bool {
        switch c {
        case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, 0x2D, 0x2E, 0x5F, 0x7E, 0x3A: return true
        default: return false
        }
    }

    /// Fills a path template: `{model}` → the resolved, encoded id; `{action}` → `invoke` or
    /// `invoke-with-response-stream`.
    public static func path(template: String, model: String, aliases: [String: String], stream: Bool) -> String {
        let id = resolve(model, aliases: aliases)
        let action = stream ? "invoke-with-response-stream" : "invoke"
        // One pass over the template's bytes.
        var out: [UInt8] = []
        out.reserveCapacity(template.utf8.count + id.utf8.count + 32)
        var rest = template.utf8[...]
        while let c = rest.first {
            if c == UInt8(ascii: "{") {
                if rest.starts(with: "{model}".utf8) {
                    out.append(contentsOf: id.utf8)
                    rest = rest.dropFirst(7)
                    continue
                }
                if rest.starts(with: "{action}".utf8) {
                    out.append(contentsOf: action.utf8)
                    rest = rest.dropFirst(8)
                    continue
                }
            }
            out.append(c)
            rest = rest.dropFirst()
        }
        return String(decoding: out, as: UTF8.self)
    }
}
