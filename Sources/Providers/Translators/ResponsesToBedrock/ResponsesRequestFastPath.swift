#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A Responses request mapped to the Anthropic-on-Bedrock body straight from its bytes: one validating
/// scan that notes, for every content block, tool and echoed field, the byte runs of the client's body
/// that make it up (`pieces`), then one copy of those runs in the order the body needs. No `JSON` tree,
/// no `String` for a text, an image or a tool output: a string that is already written as `JSON.write`
/// writes it (`JSONCanonicalScan`) is copied as it stands.
///
/// Why a second path: `ResponsesRequestMapping` parses the body into a tree and writes it back, so every
/// byte of a Codex request (10 MB with screenshots) was decoded, materialised and re-escaped. This path
/// takes the shapes agents send and that the mapping accepts, and gives byte-identical results (body,
/// path, `removed` notes and the `ResponseContext` with its echo; the tests compare them on fixtures,
/// generated requests and byte mutations). It returns nil, and the caller runs the mapping (which
/// produces every error message), for:
/// - anything the mapping refuses (invalid JSON, a missing or mistyped field, `store: true`,
///   `previous_response_id`, `conversation`, `prompt`, `background: true`, `top_logprobs` above 0, ...);
/// - rare shapes: an escaped key in an object it reads, an escaped `type` or `role` value,
///   `additional_tools` items, a data URL whose media type is not printable ASCII, nesting past 64
///   containers in a copied value.
/// Values it reads before it knows what they are (a message's `content` ahead of its `role`, an item's
/// `output` ahead of its `type`) are walked again once they are known; agents write `type` first.
struct ResponsesRequestFastPath {
    /// A run of output bytes: from the body, or from `side` (bytes this path writes itself).
    struct Piece {
        var lo: Int
        var hi: Int
        var side: Bool
    }

    /// One Anthropic content block: its pieces, and where it goes.
    struct Block {
        var pieces: Range<Int>
        /// Its turn (`turns` index); -1 system, -2 not placed yet, -3 dropped.
        var turn: Int
        var kind: Kind
        /// A text block: the pieces of its text string; with `cache_control` or not.
        var text: Range<Int> = 0..<0
        var cache = false

        enum Kind { case text, other, toolUse, toolResult, thinking }
    }

    struct Turn {
        var assistant: Bool
        /// Its blocks lie in `blocks[first..<end]` (among blocks of no turn or of none).
        var first: Int
        var end: Int
    }

    /// A value as the scan found it: its bytes, whether they are what `JSON.write` writes, and whether a
    /// string holds an escape.
    struct Slot {
        var start: Int
        var end: Int
        var canonical: Bool
        var escaped: Bool
    }

    let bytes: UnsafeRawBufferPointer
    let p: UnsafePointer<UInt8>
    let n: Int
    var pieces: [Piece] = []
    var side: [UInt8] = []
    /// Pieces before this index are closed: a new run never extends them (blocks move independently).
    var floor = 0
    var blocks: [Block] = []
    var systemBlocks: [Int] = []
    var instructionsBlock = -1
    var turns: [Turn] = []
    /// Thinking blocks waiting for the assistant content they belong to.
    var pending: [Int] = []
    var inputRemoved: [String] = []
    var toolRemoved: [String] = []
    /// Cleared when the value being scanned is not in `JSON.write`'s form.
    var canon = true
    /// Tools as the upstream gets them (piece ranges), and their client names.
    var tools: [Range<Int>] = []
    /// Each tool's upstream name (nil for the `text.format` tool), for `allowed_tools`.
    var toolUpstreamNames: [String?] = []
    var names: [String: ClientToolName] = [:]
    /// Where `input` ended (set by `input(at:)`).
    var inputEnd = 0
    /// Blocks written into the tool result being read (`contentParts` with `inline`).
    var inlineCount = 0

    init(_ bytes: UnsafeRawBufferPointer, _ p: UnsafePointer<UInt8>) {
        self.bytes = bytes
        self.p = p
        self.n = bytes.count
    }

    /// What the mapping would make of `body`, or nil when the mapping must run.
    static func map(_ body: [UInt8], options: TranslationOptions, createdAt: Int)
        -> (mapping: ResponsesRequestMapping, model: Range<Int>)?
    {
        body.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress else { return nil }
            var scan = ResponsesRequestFastPath(bytes, base.assumingMemoryBound(to: UInt8.self))
            scan.pieces.reserveCapacity(64 + bytes.count / 256)
            scan.side.reserveCapacity(1024 + bytes.count / 64)
            return scan.translate(options: options, createdAt: createdAt)
        }
    }

    // MARK: Top level

    enum Top: Int, CaseIterable {
        case model, stream, instructions, input, tools, toolChoice, parallel, text, maxOutput, temperature, topP
        case reasoning, store, previousResponseID, conversation, prompt, background, topLogprobs, include
        case metadata, truncation
    }

    private static func topTag(_ p: UnsafePointer<UInt8>, _ k: Range<Int>) -> Top? {
        let s = k.lowerBound
        switch k.count {
        case 4: return eq(p, s, "text") ? .text : nil
        case 5:
            if eq(p, s, "model") { return .model }
            if eq(p, s, "input") { return .input }
            if eq(p, s, "tools") { return .tools }
            if eq(p, s, "store") { return .store }
            return eq(p, s, "top_p") ? .topP : nil
        case 6:
            if eq(p, s, "stream") { return .stream }
            return eq(p, s, "prompt") ? .prompt : nil
        case 7: return eq(p, s, "include") ? .include : nil
        case 8: return eq(p, s, "metadata") ? .metadata : nil
        case 9: return eq(p, s, "reasoning") ? .reasoning : nil
        case 10:
            if eq(p, s, "background") { return .background }
            return eq(p, s, "truncation") ? .truncation : nil
        case 11:
            if eq(p, s, "tool_choice") { return .toolChoice }
            return eq(p, s, "temperature") ? .temperature : nil
        case 12:
            if eq(p, s, "instructions") { return .instructions }
            if eq(p, s, "conversation") { return .conversation }
            return eq(p, s, "top_logprobs") ? .topLogprobs : nil
        case 17: return eq(p, s, "max_output_tokens") ? .maxOutput : nil
        case 19: return eq(p, s, "parallel_tool_calls") ? .parallel : nil
        case 20: return eq(p, s, "previous_response_id") ? .previousResponseID : nil
        default: return nil
        }
    }

    private mutating func translate(options: TranslationOptions, createdAt: Int)
        -> (mapping: ResponsesRequestMapping, model: Range<Int>)?
    {
        var top = [Slot?](repeating: nil, count: Top.allCases.count)
        var i = JSONFastScan.whitespace(p, n, 0)
        guard openObject(&i) == true else { return nil }
        while true {
            guard let k = key(&i) else { return nil }
            canon = true
            let tag = Self.topTag(p, k)
            let first = tag.map { top[$0.rawValue] == nil } ?? false
            let start = i
            var slot: Slot?
            if first && tag == .input {
                guard input(at: i) else { return nil }
                i = inputEnd
                slot = Slot(start: start, end: i, canonical: canon, escaped: false)
            } else if first && tag == .tools {
                guard toolList(at: &i) else { return nil }
                slot = Slot(start: start, end: i, canonical: canon, escaped: false)
            } else {
                guard let s = value(i, depth: 1) else { return nil }
                slot = s
                i = s.end
            }
            if first, let tag { top[tag.rawValue] = slot }
            guard let more = nextMember(&i) else { return nil }
            if !more { break }
        }
        guard JSONFastScan.whitespace(p, n, i) == n else { return nil }
        return finish(top, options: options, createdAt: createdAt)
    }

    // MARK: Finishing

    private mutating func finish(_ top: [Slot?], options: TranslationOptions, createdAt: Int)
        -> (mapping: ResponsesRequestMapping, model: Range<Int>)?
    {
        func present(_ t: Top) -> Slot? {
            guard let s = top[t.rawValue], p[s.start] != 0x6E else { return nil }
            return s
        }
        // Model.
        guard let modelSlot = present(.model), p[modelSlot.start] == 0x22, modelSlot.end - modelSlot.start > 2,
            let model = decode(modelSlot)
        else { return nil }
        // Refusals of stored state: the mapping's 400s.
        if let s = present(.store) { guard let flag = bool(s), !flag else { return nil } }
        if present(.previousResponseID) != nil || present(.conversation) != nil || present(.prompt) != nil {
            return nil
        }
        if let s = present(.background) { guard let flag = bool(s), !flag else { return nil } }
        if let s = present(.topLogprobs) { guard let count = int(s), count <= 0 else { return nil } }
        var stream = false
        if let s = present(.stream) {
            guard let flag = bool(s) else { return nil }
            stream = flag
        }
        // Instructions and input.
        if let s = present(.instructions) {
            guard p[s.start] == 0x22 else { return nil }
            if s.end - s.start > 2 { instructionsBlock = textBlock(s, turn: -1) }
        }
        guard present(.input) != nil else { return nil }
        dropPending()
        if turns.isEmpty { return nil }
        // Tools, text.format, tool_choice, parallel_tool_calls.
        var text: Slot?
        if let s = present(.text) {
            guard p[s.start] == 0x7B else { return nil }
            text = s
        }
        var parallel: Bool?
        if let s = present(.parallel) {
            guard let flag = bool(s) else { return nil }
            parallel = flag
        }
        guard let choice = toolChoice(format: text, choice: present(.toolChoice), parallel: parallel) else {
            return nil
        }
        var removed = toolRemoved
        for phrase in inputRemoved where !removed.contains(phrase) { removed.append(phrase) }

        // Sampling and thinking.
        var maxTokens = options.defaultMaxTokens
        if let s = present(.maxOutput) {
            guard let count = int(s), count >= 1 else { return nil }
            maxTokens = count
        }
        var temperature = present(.temperature)
        if let s = temperature {
            guard isNumber(s), ChatRequestFastPath.isUnitInterval(slice(s)) else { return nil }
        }
        var topP = present(.topP)
        if let s = topP, !isNumber(s) { return nil }
        var effort: Slot?
        var summary: Slot?
        if let s = present(.reasoning) {
            guard p[s.start] == 0x7B, let fields = reasoningFields(s) else { return nil }
            (effort, summary) = fields
        }
        let effortText: String? = effort.flatMap { decode($0) }
        let budget: Int?
        do { budget = try ReasoningBudget.tokens(forEffort: effortText) } catch { return nil }
        var thinking = 0
        if let budget {
            if choice.forcesTool {
                removed.append("thinking (tool_choice forces a tool)")
            } else if pendingToolCallLacksThinking() {
                removed.append("thinking (no reasoning item before the pending tool call)")
            } else {
                thinking = budget
                if maxTokens <= budget { maxTokens += budget }
                if let s = temperature, let value = Double(String(decoding: slice(s), as: UTF8.self)), value != 1 {
                    temperature = nil
                    removed.append("temperature (thinking)")
                }
                if let s = topP, let value = Double(String(decoding: slice(s), as: UTF8.self)), value < 0.95 {
                    topP = nil
                    removed.append("top_p (thinking)")
                }
            }
        }
        guard let includes = includesEncryptedReasoning(present(.include)) else { return nil }
        guard let path = ChatRequestFastPath.upstreamPath(model, options: options, stream: stream) else { return nil }

        let body = write(maxTokens: maxTokens, choice: choice, thinking: thinking, temperature: temperature, topP: topP)
        let echo = echo(top, present, model: modelSlot, effort: effort, summary: summary)
        let context = ResponseContext(
            model: model, createdAt: createdAt, includeEncryptedReasoning: includes, toolNames: names,
            outputTool: choice.outputTool, echo: echo)
        return (
            ResponsesRequestMapping(stream: stream, path: path, body: body, removed: removed, context: context),
            modelSlot.start..<modelSlot.end
        )
    }

    /// `reasoning`'s `effort` and `summary` (each a string or absent); nil for any other shape.
    private mutating func reasoningFields(_ s: Slot) -> (Slot?, Slot?)? {
        var i = s.start
        var effort: Slot?
        var summary: Slot?
        var seenEffort = false
        var seenSummary = false
        guard let any = openObject(&i) else { return nil }
        if any {
            while true {
                guard let k = key(&i), let v = value(i, depth: 2) else { return nil }
                if keyIs(k, "effort"), !seenEffort {
                    seenEffort = true
                    effort = v
                } else if keyIs(k, "summary"), !seenSummary {
                    seenSummary = true
                    summary = v
                }
                i = v.end
                guard let more = nextMember(&i) else { return nil }
                if !more { break }
            }
        }
        if let v = effort, p[v.start] == 0x6E { effort = nil }
        if let v = summary, p[v.start] == 0x6E { summary = nil }
        if let v = effort, p[v.start] != 0x22 { return nil }
        if let v = summary, p[v.start] != 0x22 { return nil }
        return (effort, summary)
    }

    /// `include` asks for `reasoning.encrypted_content`; nil when it is not an array of strings.
    private mutating func includesEncryptedReasoning(_ s: Slot?) -> Bool? {
        guard let s else { return false }
        var i = s.start
        guard let any = openArray(&i) else { return nil }
        var found = false
        if any {
            while true {
                guard p[i] == 0x22, let v = value(i, depth: 2) else { return nil }
                if decode(v) == "reasoning.encrypted_content" { found = true }
                i = v.end
                guard let more = nextElement(&i) else { return nil }
                if !more { break }
            }
        }
        return found
    }

    /// The last assistant turn calls a tool without a thinking block first (the mapping's rule).
    private func pendingToolCallLacksThinking() -> Bool {
        guard let t = turns.lastIndex(where: { $0.assistant }) else { return false }
        var firstKind: Block.Kind?
        var toolUse = false
        for b in turns[t].first..<turns[t].end where blocks[b].turn == t {
            if firstKind == nil { firstKind = blocks[b].kind }
            if blocks[b].kind == .toolUse { toolUse = true }
        }
        return toolUse && firstKind != .thinking
    }

    // MARK: Writing

    private func write(maxTokens: Int, choice: ToolChoice, thinking: Int, temperature: Slot?, topP: Slot?) -> [UInt8] {
        var total = 256 + side.count
        for piece in pieces where !piece.side { total += piece.hi - piece.lo }
        var out: [UInt8] = []
        out.reserveCapacity(total)
        ChunkBytes.append(#"{"anthropic_version":"bedrock-2023-05-31","max_tokens":"#, to: &out)
        ChunkBytes.append(maxTokens, to: &out)
        var system = systemBlocks
        if instructionsBlock >= 0 { system.insert(instructionsBlock, at: 0) }
        if system.count == 1, blocks[system[0]].kind == .text, !blocks[system[0]].cache {
            ChunkBytes.append(#","system":"#, to: &out)
            emit(blocks[system[0]].text, &out)
        } else if !system.isEmpty {
            ChunkBytes.append(#","system":["#, to: &out)
            for (k, b) in system.enumerated() {
                if k > 0 { out.append(0x2C) }
                emit(blocks[b].pieces, &out)
            }
            out.append(0x5D)
        }
        ChunkBytes.append(#","messages":["#, to: &out)
        for (t, turn) in turns.enumerated() {
            if t > 0 { out.append(0x2C) }
            ChunkBytes.append(
                turn.assistant ? #"{"role":"assistant","content":["# : #"{"role":"user","content":["#, to: &out)
            var first = true
            if turn.assistant {
                for b in turn.first..<turn.end where blocks[b].turn == t { put(b, &first, &out) }
            } else {
                // Tool results lead a user turn, as the mapping places them.
                for b in turn.first..<turn.end where blocks[b].turn == t && blocks[b].kind == .toolResult {
                    put(b, &first, &out)
                }
                for b in turn.first..<turn.end where blocks[b].turn == t && blocks[b].kind != .toolResult {
                    put(b, &first, &out)
                }
            }
            ChunkBytes.append("]}", to: &out)
        }
        out.append(0x5D)
        if !tools.isEmpty {
            ChunkBytes.append(#","tools":["#, to: &out)
            for (k, r) in tools.enumerated() {
                if k > 0 { out.append(0x2C) }
                emit(r, &out)
            }
            out.append(0x5D)
            if let type = choice.type {
                ChunkBytes.append(#","tool_choice":{"type":"#, to: &out)
                JSON.writeString(type, to: &out)
                if let name = choice.name {
                    ChunkBytes.append(#","name":"#, to: &out)
                    JSON.writeString(name, to: &out)
                }
                if choice.disableParallel { ChunkBytes.append(#","disable_parallel_tool_use":true"#, to: &out) }
                out.append(0x7D)
            }
        }
        if thinking > 0 {
            ChunkBytes.append(#","thinking":{"type":"enabled","budget_tokens":"#, to: &out)
            ChunkBytes.append(thinking, to: &out)
            out.append(0x7D)
        }
        if let s = temperature {
            ChunkBytes.append(#","temperature":"#, to: &out)
            out.append(contentsOf: slice(s))
        }
        if let s = topP {
            ChunkBytes.append(#","top_p":"#, to: &out)
            out.append(contentsOf: slice(s))
        }
        out.append(0x7D)
        return out
    }

    private func put(_ b: Int, _ first: inout Bool, _ out: inout [UInt8]) {
        if !first { out.append(0x2C) }
        first = false
        emit(blocks[b].pieces, &out)
    }

    func emit(_ range: Range<Int>, _ out: inout [UInt8]) {
        for k in range {
            let piece = pieces[k]
            if piece.side {
                side.withUnsafeBufferPointer {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[piece.lo..<piece.hi]))
                }
            } else {
                out.append(contentsOf: UnsafeBufferPointer(start: p + piece.lo, count: piece.hi - piece.lo))
            }
        }
    }

    /// The request fields a `Response` repeats, as `ResponsesRequestMapping.echo` writes them.
    private func echo(
        _ top: [Slot?], _ present: (Top) -> Slot?, model: Slot, effort: Slot?, summary: Slot?
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(
            256 + (present(.instructions).map { $0.end - $0.start } ?? 0)
                + (present(.tools).map { $0.end - $0.start } ?? 0))
        func member(_ key: StaticString, _ value: Slot?, _ fallback: StaticString) {
            if !out.isEmpty { out.append(0x2C) }
            out.append(0x22)
            out.append(contentsOf: UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
            out.append(0x22)
            out.append(0x3A)
            if let value {
                appendCanonical(value, &out)
            } else {
                out.append(
                    contentsOf: UnsafeBufferPointer(start: fallback.utf8Start, count: fallback.utf8CodeUnitCount))
            }
        }
        member("instructions", present(.instructions), "null")
        member("max_output_tokens", present(.maxOutput), "null")
        member("model", model, "null")
        member("parallel_tool_calls", present(.parallel), "true")
        member("previous_response_id", nil, "null")
        ChunkBytes.append(#","reasoning":{"effort":"#, to: &out)
        if let effort { appendCanonical(effort, &out) } else { ChunkBytes.append("null", to: &out) }
        ChunkBytes.append(#","summary":"#, to: &out)
        if let summary { appendCanonical(summary, &out) } else { ChunkBytes.append("null", to: &out) }
        out.append(0x7D)
        member("store", nil, "false")
        member("temperature", present(.temperature), "null")
        member("text", present(.text), #"{"format":{"type":"text"}}"#)
        member("tool_choice", present(.toolChoice), #""auto""#)
        member("tools", present(.tools), "[]")
        member("top_p", present(.topP), "null")
        member("truncation", present(.truncation), #""disabled""#)
        member("metadata", present(.metadata), "{}")
        return out
    }

    /// A value as `JSON.write` writes it: its bytes when they are in that form, else parsed and written.
    func appendCanonical(_ s: Slot, _ out: inout [UInt8]) {
        if s.canonical {
            out.append(contentsOf: slice(s))
            return
        }
        guard let value = try? JSONParser.parse(Array(slice(s))) else { return }
        value.write(to: &out)
    }
}

extension ResponsesRequestMapping {
    /// The fast path's result, in the mapping's form.
    init(stream: Bool, path: String, body: [UInt8], removed: [String], context: ResponseContext) {
        self.stream = stream
        self.path = path
        self.body = body
        self.removed = removed
        self.context = context
    }
}
