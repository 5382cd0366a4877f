/// The common Anthropic Messages request mapped to Bedrock's body straight from its bytes: one
/// validating scan of the top-level members that writes the output as it goes, no `String` keys, no
/// member list, no `JSONEdit`.
///
/// Why a second path: the general translation (scan with decoded keys, an edit list, a second pass for
/// the messages) cost ~31,000 instructions for a small request. This path takes only requests the general
/// one accepts (with a client `anthropic-beta` header only when the body has no `anthropic_beta` of its own:
/// the list is then appended), and returns nil for anything unusual (invalid
/// JSON, escaped keys, a repeated `model`, `stream` or `messages`, a missing or mistyped field, an escaped
/// model name, a message that is not an object): the caller then runs the general code, which produces
/// every error message. Its output is tested to be byte-identical to the general path's.
///
/// The bytes it writes follow `JSONEdit.apply`: a kept member takes the separator that followed the
/// previous kept member (the first one takes the first member's leading whitespace), `model`, `stream`
/// and every `anthropic_version` are dropped, and Bedrock's `anthropic_version` is appended before the
/// whitespace that precedes `}`.
struct AnthropicToBedrockFastPath: JSONMemberVisitor {
    let bytes: UnsafeRawBufferPointer
    let p: UnsafePointer<UInt8>
    let open: Int
    var out: [UInt8] = []
    var fallback = false
    var model: Range<Int>?
    var messages: JSONKind?
    var maxTokens: JSONKind?
    var stream: JSONMemberSpan?
    /// The client sent `anthropic-beta`: a body `anthropic_beta` to merge with is left to the general path.
    var hasBeta = false
    private var emitted = 0
    private var firstKeyStart = -1
    private var previousKept = false
    private var previousValueEnd = 0
    /// The separator after the last kept member (from its value to the next member's key).
    private var separator = 0..<0

    private init(bytes: UnsafeRawBufferPointer, p: UnsafePointer<UInt8>, open: Int) {
        self.bytes = bytes
        self.p = p
        self.open = open
    }

    /// The translated request, or nil when the general path must run.
    static func translate(_ bytes: UnsafeRawBufferPointer, options: TranslationOptions, beta: [String] = []) -> UpstreamRequest? {
        guard let base = bytes.baseAddress else { return nil }
        let p = base.assumingMemoryBound(to: UInt8.self)
        let n = bytes.count
        let open = JSONFastScan.whitespace(p, n, 0)
        guard open < n, p[open] == 0x7B else { return nil }
        var w = AnthropicToBedrockFastPath(bytes: bytes, p: p, open: open)
        w.hasBeta = !beta.isEmpty
        w.out.reserveCapacity(n + 64)
        w.copy(0..<(open + 1))
        guard let braces = JSONObjectScanner.fastScanMembers(bytes, into: &w), !w.fallback else { return nil }
        guard let model = w.model, model.count > 2, w.messages == .array, w.maxTokens == .number else { return nil }
        var name = UnsafeRawBufferPointer(rebasing: bytes[(model.lowerBound + 1)..<(model.upperBound - 1)])
        for c in name where c == 0x5C { return nil }
        // `claude-opus-4-6[1m]`: Claude Code's 1M-context choice leaves the id (the profile adds the beta).
        let longContext = Self.hasLongContextSuffix(name)
        if longContext { name = UnsafeRawBufferPointer(rebasing: name[0..<(name.count - 4)]) }
        var stream = false
        if let s = w.stream {
            switch s.kind {
            case .bool: stream = p[s.valueRange.lowerBound] == UInt8(ascii: "t")
            case .null: stream = false
            default: return nil
            }
        }
        // The tail: appended member before the whitespace that precedes `}`.
        let tailStart = w.firstKeyStart < 0 ? open + 1 : w.previousValueEnd
        var closeRunStart = braces.closeBrace
        while closeRunStart > tailStart, Self.isWhitespace(p[closeRunStart - 1]) { closeRunStart -= 1 }
        w.copy(tailStart..<closeRunStart)
        if w.emitted > 0 { w.out.append(0x2C) }
        w.append(#""anthropic_version":"bedrock-2023-05-31""#)
        if !beta.isEmpty {
            // As the general path writes it: the header's values in order, empty ones and repeats dropped.
            var seen: [String] = []
            w.append(#","anthropic_beta":["#)
            for b in beta where !b.isEmpty && !seen.contains(b) {
                if !seen.isEmpty { w.out.append(0x2C) }
                seen.append(b)
                JSON.writeString(b, to: &w.out)
            }
            w.out.append(0x5D)
        }
        w.copy(closeRunStart..<n)
        let path = BedrockModelID.path(
            template: options.upstreamPath, modelBytes: name, aliases: options.modelAliases, stream: stream)
        var request = UpstreamRequest(
            path: path, body: w.out, stream: stream, accept: stream ? "text/event-stream" : "application/json")
        request.longContext = longContext
        request.clientModel = model
        return request
    }

    /// True for a name of more than four bytes ending in `[1m]` (any case of `m`), as the general path checks.
    static func hasLongContextSuffix(_ name: UnsafeRawBufferPointer) -> Bool {
        let n = name.count
        return n > 4 && name[n - 4] == 0x5B && name[n - 3] == 0x31 && (name[n - 2] | 0x20) == 0x6D && name[n - 1] == 0x5D
    }

    mutating func member(_ m: JSONMemberSpan) {
        if fallback { return }
        if m.keyEscaped {
            fallback = true
            return
        }
        if firstKeyStart < 0 { firstKeyStart = m.keyRange.lowerBound }
        if previousKept { separator = previousValueEnd..<m.keyRange.lowerBound }
        previousValueEnd = m.valueRange.upperBound
        previousKept = false
        var isMessages = false
        if m.keyIs("model", in: bytes) {
            if model != nil || m.kind != .string { fallback = true }
            model = m.valueRange
            return
        } else if m.keyIs("stream", in: bytes) {
            if stream != nil { fallback = true }
            stream = m
            return
        } else if m.keyIs("anthropic_version", in: bytes) {
            return
        } else if hasBeta, m.keyIs("anthropic_beta", in: bytes) {
            fallback = true
            return
        } else if m.keyIs("messages", in: bytes) {
            if messages != nil { fallback = true }
            messages = m.kind
            isMessages = true
        } else if m.keyIs("max_tokens", in: bytes) {
            if maxTokens == nil { maxTokens = m.kind }
        }
        copy(emitted == 0 ? (open + 1)..<firstKeyStart : separator)
        emitted += 1
        previousKept = true
        copy(m.keyRange.lowerBound..<m.valueRange.lowerBound)
        if isMessages && m.kind == .array {
            if !writeMessages(m.valueRange) { fallback = true }
        } else {
            copy(m.valueRange)
        }
    }

    /// Copies the (validated) messages array, every string `content` written as one text block (the
    /// string's bytes as they are). False for anything the general path must handle.
    private mutating func writeMessages(_ range: Range<Int>) -> Bool {
        let end = range.upperBound
        var at = range.lowerBound
        var i = JSONFastScan.whitespace(p, end, range.lowerBound + 1)
        while i < end - 1 {
            guard p[i] == 0x7B else { return false }
            var k = JSONFastScan.whitespace(p, end, i + 1)
            guard k < end else { return false }
            if p[k] == 0x7D {
                k += 1
            } else {
                while true {
                    var escaped = false
                    let keyEnd = JSONFastScan.string(p, end, k, &escaped)
                    guard keyEnd > k, !escaped else { return false }
                    let colon = JSONFastScan.whitespace(p, end, keyEnd)
                    guard colon < end else { return false }
                    let valueStart = JSONFastScan.whitespace(p, end, colon + 1)
                    let valueEnd = JSONFastScan.value(p, end, valueStart, depth: 3, maxDepth: JSONParser.maxDepth)
                    guard valueEnd > valueStart else { return false }
                    if p[valueStart] == 0x22, keyEnd - k == 9,
                        JSONMemberSpan(keyRange: k..<keyEnd, valueRange: 0..<0, kind: .string, keyEscaped: false)
                            .keyIs("content", in: bytes)
                    {
                        copy(at..<valueStart)
                        append(#"[{"type":"text","text":"#)
                        copy(valueStart..<valueEnd)
                        append("}]")
                        at = valueEnd
                    }
                    k = JSONFastScan.whitespace(p, end, valueEnd)
                    guard k < end else { return false }
                    let c = p[k]
                    k += 1
                    if c == 0x7D { break }
                    guard c == 0x2C else { return false }
                    k = JSONFastScan.whitespace(p, end, k)
                }
            }
            k = JSONFastScan.whitespace(p, end, k)
            guard k < end else { return false }
            if p[k] == 0x2C { k = JSONFastScan.whitespace(p, end, k + 1) }
            i = k
        }
        copy(at..<end)
        return true
    }

    @inline(__always) private mutating func copy(_ range: Range<Int>) {
        if !range.isEmpty { out.append(contentsOf: UnsafeBufferPointer(start: p + range.lowerBound, count: range.count)) }
    }

    @inline(__always) private mutating func append(_ s: StaticString) {
        out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    @inline(__always) private static func isWhitespace(_ c: UInt8) -> Bool {
        c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09
    }
}
