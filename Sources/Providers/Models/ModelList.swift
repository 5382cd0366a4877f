/// A model served by a models endpoint (from config).
public struct ModelInfo: Sendable, Equatable {
    public var id: String
    public var ownedBy: String
    /// Unix seconds.
    public var created: Int
    public var displayName: String?

    public init(id: String, ownedBy: String, created: Int, displayName: String? = nil) {
        self.id = id
        self.ownedBy = ownedBy
        self.created = created
        self.displayName = displayName
    }
}

/// Model list bodies in each dialect's shape.
public enum ModelList {
    /// `models` in the order a client of `dialect` reads them best: Claude Code keeps only the ids that
    /// start with `claude` or `anthropic` from an Anthropic list, so those come first there (each group
    /// in its configured order); other dialects get the configured order.
    public static func ordered(_ models: [ModelInfo], for dialect: Dialect) -> [ModelInfo] {
        guard dialect == .anthropicMessages else { return models }
        let isClaude = { (m: ModelInfo) in m.id.hasPrefix("claude") || m.id.hasPrefix("anthropic") }
        return models.filter(isClaude) + models.filter { !isClaude($0) }
    }

    /// OpenAI: `{"object":"list","data":[{"id","object":"model","created","owned_by"}]}`.
    /// Anthropic: `{"data":[{"type":"model","id","display_name","created_at"}],"has_more":false,"first_id","last_id"}`.
    public static func body(_ models: [ModelInfo], dialect: Dialect) -> [UInt8] {
        switch dialect {
        case .anthropicMessages, .bedrockAnthropic:
            let data: [JSON] = models.map { m in
                [
                    "type": "model", "id": .string(m.id), "display_name": .string(m.displayName ?? m.id),
                    "created_at": .string(rfc3339(m.created)),
                ]
            }
            let list: JSON = [
                "data": .array(data), "has_more": false,
                "first_id": models.first.map { .string($0.id) } ?? .null,
                "last_id": models.last.map { .string($0.id) } ?? .null,
            ]
            return list.bytes
        case .openAIChat, .openAIResponses, .passthrough:
            let data: [JSON] = models.map { m in
                ["id": .string(m.id), "object": "model", "created": .number(JSONNumber(m.created)),
                 "owned_by": .string(m.ownedBy)]
            }
            let list: JSON = ["object": "list", "data": .array(data)]
            return list.bytes
        }
    }

    /// Unix seconds → `YYYY-MM-DDTHH:MM:SSZ` (UTC), with Howard Hinnant's civil-from-days algorithm.
    public static func rfc3339(_ seconds: Int) -> String {
        var out: [UInt8] = []
        appendRFC3339(seconds, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The same appended to `out` as bytes (no String: a rate-limit reset in a response head).
    public static func appendRFC3339(_ seconds: Int, into out: inout [UInt8]) {
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let secs = seconds - days * 86400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        appendPadded(y, 4, into: &out)
        out.append(UInt8(ascii: "-"))
        appendPadded(m, 2, into: &out)
        out.append(UInt8(ascii: "-"))
        appendPadded(d, 2, into: &out)
        out.append(UInt8(ascii: "T"))
        appendPadded(secs / 3600, 2, into: &out)
        out.append(UInt8(ascii: ":"))
        appendPadded(secs % 3600 / 60, 2, into: &out)
        out.append(UInt8(ascii: ":"))
        appendPadded(secs % 60, 2, into: &out)
        out.append(UInt8(ascii: "Z"))
    }

    /// `String(v)` left-padded with zeros to `width` characters (a negative year keeps its sign after
    /// the zeros, as the String form always wrote it).
    private static func appendPadded(_ v: Int, _ width: Int, into out: inout [UInt8]) {
        var count = v < 0 ? 2 : 1
        var rest = v.magnitude / 10
        while rest > 0 {
            count += 1
            rest /= 10
        }
        for _ in count..<max(count, width) { out.append(UInt8(ascii: "0")) }
        ChunkBytes.append(v, to: &out)
    }
}
