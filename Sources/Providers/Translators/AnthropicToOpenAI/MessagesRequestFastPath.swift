#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The Anthropic Messages request mapped to the OpenAI Chat body straight from its bytes, in one
/// validating scan and one write, for the shapes agents send (Claude Code, the anthropic SDK).
///
/// Why a second path: `MessagesRequestMapping` parses the body into a `JSON` tree (every string decoded
/// into a `String`) and writes the upstream body from the tree: each byte is read twice and copied
/// three times, ~1.2x a parse + write of the same bytes at 1-10 MB. This path scans the body once;
/// what the upstream body reuses (texts, base64 images, tool results, the system prompt, tool schemas,
/// tool inputs) is noted as byte ranges, not decoded. The mapping reorders (the system prompt, often
/// sent after `messages`, becomes the first message; `tool_result` blocks become `tool` messages before
/// the rest of their turn and their images follow; `tools` go after the sampling fields), so the scan
/// writes a list of `Piece`s (ranges of the body and constant text) per output section, and `write`
/// copies them in the upstream body's order: every byte is read by the scan and copied once.
///
/// Byte-equal to `MessagesRequestMapping` (the tests hold it so: fixtures, a generator of random
/// requests, every prefix and one-byte change), with the same `removedForUpstream` in the same order.
/// That needs copied strings to be spelled as `JSON.writeString` spells them, and copied objects (tool
/// schemas, tool inputs, output schemas) to be compact (`JSONCanonicalScan`): what JavaScript's
/// `JSON.stringify` and Python's `json.dumps` with compact separators write.
///
/// It returns nil, and the caller runs `MessagesRequestMapping` (which produces every error message and
/// is the reference), for: anything invalid or refused; escaped keys; a key it reads given twice in
/// one object; escaped `type`, `role`, `model`, effort or tool-choice values; copied strings with
/// other escapes (`\/`, `\u00e9`, uppercase hex) and copied objects with whitespace inside; `document`
/// blocks; a `url` image source with an escape; an `UpstreamAdjustments.dropped` name it does not know.
struct MessagesRequestFastPath {
    /// A piece of the upstream body.
    enum Piece {
        /// Body bytes as they are.
        case body(Int, Int)
        /// Body bytes (a compact object) written as a JSON string: a tool input → `arguments`.
        case quoted(Int, Int)
        case text(StaticString)
        /// `[N image(s) of this result follow in the next user message]`.
        case imageNote(Int)
    }

    /// A member value found by the scan: its bytes (quotes included) and kind; `start` -1: absent.
    struct Value {
        var start = -1
        var end = -1
        var kind = JSONKind.null

        var present: Bool { start >= 0 && kind != .null }
        var isString: Bool { start >= 0 && kind == .string }
        /// A string's content, without the quotes.
        var inner: Range<Int> { (start + 1)..<(end - 1) }
    }

    let bytes: UnsafeRawBufferPointer
    let p: UnsafePointer<UInt8>
    let n: Int

    /// The output sections, in `pieces`: the system text (inside the quotes), the messages (each one
    /// led by a comma) and the tools (each led by a comma).
    var pieces: [Piece] = []
    var system = 0..<0
    var systemHasText = false
    var messages = 0..<0
    var tools = 0..<0
    var toolCount = 0

    // Scratch, reused for each message.
    var blocks: [Block] = []
    var innerBlocks: [Block] = []
    var toolMessages: [Piece] = []
    var images: [Piece] = []
    var parts: [Piece] = []
    var texts: [Range<Int>] = []
    var keys: [Range<Int>] = []

    // What the upstream body needs of the top level.
    var seen: UInt32 = 0
    var model = Value()
    var maxTokens = Value()
    var stream = Value()
    var temperature = Value()
    var topP = Value()
    var stops: [Range<Int>] = []
    var userID = Value()
    var choice = Value()
    var choiceType = ""
    var choiceName = Value()
    var disableParallel = false
    /// `output_config.effort` mapped, and the effort `thinking` implies.
    var effort: StaticString?
    var thinkingEffort: StaticString?
    /// `output_config.format`'s schema, and `output_format`'s (used when the first is absent).
    var format = Value()
    var formatFallback = Value()

    // `removedForUpstream`, by where `MessagesRequestMapping` notes them.
    var systemNotes = RemovedNotes()
    var messageNotes = RemovedNotes()
    var metadataNotes = RemovedNotes()
    var toolNotes = RemovedNotes()
    var configNotes = RemovedNotes()
    var fieldNotes = RemovedNotes()

    private init(_ bytes: UnsafeRawBufferPointer, _ base: UnsafeRawPointer) {
        self.bytes = bytes
        self.p = base.assumingMemoryBound(to: UInt8.self)
        self.n = bytes.count
    }

    /// What the fast path made of a request.
    struct Result {
        var request: UpstreamRequest
        var model: String
        var upstreamModel: String
        var removed: [String]
        var sent: SentHints
    }

    /// The mapped request, or nil when `MessagesRequestMapping` must run.
    static func translate(
        _ body: [UInt8], options: TranslationOptions, adjustments: UpstreamAdjustments
    ) -> Result? {
        for name in adjustments.dropped where !OpenAIRejection.droppable.contains(name) { return nil }
        return body.withUnsafeBytes { bytes -> Result? in
            guard let base = bytes.baseAddress else { return nil }
            var path = MessagesRequestFastPath(bytes, base)
            guard path.scan() else { return nil }
            return path.finish(options: options, adjustments: adjustments)
        }
    }

    // MARK: Top level

    /// The top-level keys this path reads (one bit each in `seen`).
    enum Field: UInt32 {
        case other = 0
        case model, messages, maxTokens, system, stream, temperature, topP, stopSequences, metadata, tools
        case toolChoice, thinking, outputConfig, outputFormat, mcpServers
    }

    /// Validates the body and notes or writes what the upstream body takes from it. False: the general path.
    private mutating func scan() -> Bool {
        var i = JSONFastScan.whitespace(p, n, 0)
        guard i < n, p[i] == 0x7B else { return false }
        i = JSONFastScan.whitespace(p, n, i + 1)
        guard i < n, p[i] != 0x7D else { return false }
        pieces.reserveCapacity(64 + n / 512)
        while true {
            guard i < n, p[i] == 0x22 else { return false }
            let keyStart = i
            guard let (keyEnd, start) = JSONFastScan.plainKey(p, n, i) else { return false }
            let field = Self.field(p, keyStart + 1, keyEnd - 1)
            if field != .other {
                let bit: UInt32 = 1 << field.rawValue
                if seen & bit != 0 { return false }
                seen |= bit
            }
            i = member(field, start, key: (keyStart + 1)..<(keyEnd - 1))
            guard i > 0 else { return false }
            i = JSONFastScan.whitespace(p, n, i)
            guard i < n else { return false }
            let d = p[i]
            i += 1
            if d == 0x7D { break }
            guard d == 0x2C else { return false }
            i = JSONFastScan.whitespace(p, n, i)
        }
        return JSONFastScan.whitespace(p, n, i) == n
    }

    /// One top-level member's value at `start`: the index after it, or -1.
    private mutating func member(_ field: Field, _ start: Int, key: Range<Int>) -> Int {
        let c = p[start]
        switch field {
        case .model:
            guard c == 0x22 else { return -1 }
            var escaped = false
            let end = JSONFastScan.string(p, n, start, &escaped)
            guard end > 0, !escaped, end - start > 2 else { return -1 }
            model = Value(start: start, end: end, kind: .string)
            return end
        case .messages:
            guard c == 0x5B else { return -1 }
            let first = pieces.count
            let end = scanMessages(start)
            messages = first..<pieces.count
            return end
        case .system:
            if c == 0x6E { return JSONFastScan.member(p, n, start, depth: 1) }
            let first = pieces.count
            var notes = RemovedNotes()
            let end: Int
            if c == 0x22 {
                end = JSONCanonicalScan.string(p, n, start)
                guard end > 0 else { return -1 }
                if end - start > 2 {
                    pieces.append(.body(start + 1, end - 1))
                    systemHasText = true
                }
            } else {
                guard c == 0x5B else { return -1 }
                end = readBlocks(start, depth: 1)
                guard end > 0, let hasText = systemBlocks(notes: &notes) else { return -1 }
                systemHasText = hasText
            }
            systemNotes = notes
            system = first..<pieces.count
            return end
        case .maxTokens, .temperature, .topP:
            let end = JSONFastScan.member(p, n, start, depth: 1)
            let value = Value(start: start, end: end, kind: JSONKind(firstByte: c))
            if field == .maxTokens {
                guard value.kind == .number else { return -1 }
                maxTokens = value
            } else {
                guard value.kind == .number || value.kind == .null else { return -1 }
                if field == .temperature { temperature = value } else { topP = value }
            }
            return end
        case .stream:
            let end = JSONFastScan.member(p, n, start, depth: 1)
            guard c == 0x74 || c == 0x66 || c == 0x6E else { return -1 }
            stream = Value(start: start, end: end, kind: JSONKind(firstByte: c))
            return end
        case .stopSequences:
            if c == 0x6E { return JSONFastScan.member(p, n, start, depth: 1) }
            guard c == 0x5B else { return -1 }
            return stringList(start)
        case .metadata:
            if c == 0x6E { return JSONFastScan.member(p, n, start, depth: 1) }
            guard c == 0x7B else { return -1 }
            return metadata(start)
        case .tools:
            if c == 0x6E { return JSONFastScan.member(p, n, start, depth: 1) }
            guard c == 0x5B else { return -1 }
            let first = pieces.count
            let end = scanTools(start)
            tools = first..<pieces.count
            return end
        case .toolChoice:
            if c == 0x6E { return JSONFastScan.member(p, n, start, depth: 1) }
            guard c == 0x7B else { return -1 }
            return toolChoice(start)
        case .thinking:
            if c == 0x6E { return JSONFastScan.member(p, n, start, depth: 1) }
            guard c == 0x7B else { return -1 }
            return thinking(start)
        case .outputConfig:
            if c == 0x6E { return JSONFastScan.member(p, n, start, depth: 1) }
            guard c == 0x7B else { return -1 }
            return outputConfig(start)
        case .outputFormat:
            if c == 0x6E { return JSONFastScan.member(p, n, start, depth: 1) }
            guard c == 0x7B else { return -1 }
            var value = Value()
            let end = outputFormat(start, into: &value)
            formatFallback = value
            return end
        case .mcpServers:
            let end = JSONFastScan.member(p, n, start, depth: 1)
            guard end > 0 else { return -1 }
            // Only an empty list (or null) is accepted: servers Anthropic would connect to are refused.
            if c == 0x6E { return end }
            guard c == 0x5B, JSONFastScan.whitespace(p, n, start + 1) == end - 1 else { return -1 }
            return end
        case .other:
            let end = JSONFastScan.member(p, n, start, depth: 1)
            if end > 0 { fieldNotes.add("field " + Self.string(bytes, key)) }
            return end
        }
    }

    static func field(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Field {
        switch end - start {
        case 5:
            if equals(p, start, "model") { return .model }
            if equals(p, start, "top_p") { return .topP }
            return equals(p, start, "tools") ? .tools : .other
        case 6:
            if equals(p, start, "system") { return .system }
            return equals(p, start, "stream") ? .stream : .other
        case 8:
            if equals(p, start, "messages") { return .messages }
            if equals(p, start, "metadata") { return .metadata }
            return equals(p, start, "thinking") ? .thinking : .other
        case 10: return equals(p, start, "max_tokens") ? .maxTokens : .other
        case 11:
            if equals(p, start, "temperature") { return .temperature }
            if equals(p, start, "tool_choice") { return .toolChoice }
            return equals(p, start, "mcp_servers") ? .mcpServers : .other
        case 13:
            if equals(p, start, "output_config") { return .outputConfig }
            return equals(p, start, "output_format") ? .outputFormat : .other
        case 14: return equals(p, start, "stop_sequences") ? .stopSequences : .other
        default: return .other
        }
    }

    // MARK: Objects

    /// Walks the object at `start` (its keys unescaped, none read twice by `visit`): `visit` gets the
    /// key's first byte, the value's start and first byte, and returns the index after the value or -1.
    @inline(__always) mutating func members(
        _ start: Int, depth: Int, _ visit: (inout MessagesRequestFastPath, Range<Int>, Int, UInt8) -> Int
    ) -> Int {
        var i = JSONFastScan.whitespace(p, n, start + 1)
        guard i < n else { return -1 }
        if p[i] == 0x7D { return i + 1 }
        while true {
            guard i < n, p[i] == 0x22 else { return -1 }
            let keyStart = i
            guard let (keyEnd, valueStart) = JSONFastScan.plainKey(p, n, i) else { return -1 }
            i = visit(&self, (keyStart + 1)..<(keyEnd - 1), valueStart, p[valueStart])
            guard i > 0 else { return -1 }
            i = JSONFastScan.whitespace(p, n, i)
            guard i < n else { return -1 }
            let d = p[i]
            i += 1
            if d == 0x7D { return i }
            guard d == 0x2C else { return -1 }
            i = JSONFastScan.whitespace(p, n, i)
        }
    }

    // MARK: Bytes

    /// A string value with no escape, as a `String`; nil for anything else.
    func plainString(_ value: Value) -> String? {
        guard value.isString else { return nil }
        for i in value.inner where p[i] == 0x5C { return nil }
        return Self.string(bytes, value.inner)
    }

    /// An integer literal that fits in `Int` (as `JSONNumber.intValue` reads one).
    func int(_ value: Value) -> Int? {
        Int(Self.string(bytes, value.start..<value.end))
    }

    static func string(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    /// The key at `key` (inside its quotes) spells `s`.
    @inline(__always) static func isKey(_ p: UnsafePointer<UInt8>, _ key: Range<Int>, _ s: StaticString) -> Bool {
        key.count == s.utf8CodeUnitCount && memcmp(p + key.lowerBound, s.utf8Start, key.count) == 0
    }

    @inline(__always) static func equals(_ p: UnsafePointer<UInt8>, _ at: Int, _ s: StaticString) -> Bool {
        memcmp(p + at, s.utf8Start, s.utf8CodeUnitCount) == 0
    }
}
