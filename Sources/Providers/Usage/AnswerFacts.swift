import CByteSearch
#if canImport(Glibc)
import Glibc
#endif

/// What an answer said about itself, read from the bytes the client receives (any dialect): token
/// usage, why it stopped, whether a first token and the end of the stream went by. The proxy logs it,
/// counts it in its metrics and puts it on trace spans; it never changes what is sent.

/// Token counts of one answer, counted as OpenTelemetry's GenAI conventions count them, the same for
/// every dialect: `input` is every input token (cache reads and cache writes included, which
/// Anthropic reports apart), `output` every output token (reasoning included); `cacheRead`,
/// `cacheCreation` and `reasoning` are parts of those. nil: the answer did not say.
public struct TokenUsage: Sendable, Equatable {
    public var input: Int?
    public var output: Int?
    public var cacheRead: Int?
    public var cacheCreation: Int?
    public var reasoning: Int?

    public init(input: Int? = nil, output: Int? = nil, cacheRead: Int? = nil, cacheCreation: Int? = nil, reasoning: Int? = nil) {
        self.input = input
        self.output = output
        self.cacheRead = cacheRead
        self.cacheCreation = cacheCreation
        self.reasoning = reasoning
    }

    public var isEmpty: Bool { input == nil && output == nil && cacheRead == nil && cacheCreation == nil && reasoning == nil }
}

public struct AnswerFacts: Sendable, Equatable {
    public var usage = TokenUsage()
    /// The dialect's own word: `end_turn`, `tool_use`, `max_tokens` (Anthropic); `stop`, `length`,
    /// `tool_calls` (OpenAI Chat); `completed`, or the reason of an `incomplete` (Responses);
    /// `error` when the stream ended with an error event.
    public var stopReason: String?
    /// The model the answer names (`model`, or `response.model`), which may be more precise than the
    /// one asked for.
    public var model: String?
    /// A stream carried its first token (text, reasoning or tool-call input).
    public var firstToken = false
    /// A stream's terminal event went by (`message_stop`, `[DONE]`, `response.completed` and the
    /// like, or an error event): the client has the whole answer even if it closes before the
    /// connection's framing ends.
    public var ended = false

    public init() {}
}

/// Reads `AnswerFacts` from a complete JSON answer.
public enum AnswerReader {
    /// `body` is a 2xx JSON answer in `dialect` (the client's). Unknown shapes give empty facts;
    /// nothing here throws or allocates more than a few small values.
    /// `model: false` leaves `facts.model` nil (the caller knows the model; a long id is a String to make),
    /// `stop: false` leaves `facts.stopReason` nil (only the token counts are wanted: the metrics).
    public static func json(_ body: UnsafeRawBufferPointer, dialect: Dialect, model: Bool = true, stop: Bool = true) -> AnswerFacts {
        // One path from the empty facts to the return: with the reading's branches in here, the result
        // was copied out of the local and the local destroyed (~120 instructions an answer).
        var facts = AnswerFacts()
        read(body, dialect: dialect, model: model, stop: stop, into: &facts)
        return facts
    }

    /// `json`'s reading, into `facts` (emptied first): for a caller that keeps the facts in a stored
    /// property, which this fills in place.
    public static func json(_ body: UnsafeRawBufferPointer, dialect: Dialect, model: Bool = true, stop: Bool = true,
                            into facts: inout AnswerFacts) {
        // Emptied field by field: most often the facts are still empty, and assigning a fresh value
        // destroyed the old one through an outlined call.
        facts.usage = TokenUsage()
        if facts.stopReason != nil { facts.stopReason = nil }
        if facts.model != nil { facts.model = nil }
        facts.firstToken = false
        facts.ended = false
        read(body, dialect: dialect, model: model, stop: stop, into: &facts)
    }

    /// `json`'s reading, into empty `facts`.
    static func read(_ body: UnsafeRawBufferPointer, dialect: Dialect, model: Bool, stop: Bool, into facts: inout AnswerFacts) {
        guard body.count > 0 else { return }
        switch dialect {
        case .anthropicMessages, .bedrockAnthropic:
            if !anthropicByKeys(body, into: &facts, model: model, stop: stop) {
                anthropicByWalk(body, into: &facts)
                if !model { facts.model = nil }
                if !stop { facts.stopReason = nil }
            }
        case .openAIChat, .passthrough:
            if !chatByKeys(body, into: &facts, model: model, stop: stop) {
                chatByWalk(body, into: &facts)
                if !model { facts.model = nil }
                if !stop { facts.stopReason = nil }
            }
        case .openAIResponses:
            readResponseObject(body, 0..<body.count, into: &facts)
        }
    }

    /// A Chat completion read by its keys rather than walked: the pass-through route's every answer
    /// comes here, and a walk of a whole completion costs several instructions a byte. In a Chat
    /// completion every object key is the schema's (message text, tool arguments and logprobs are
    /// strings, in which quotes are escaped), so `"usage":` is the top-level usage and its token keys
    /// are the only ones of their names, the first `"finish_reason":` is the first choice's and the
    /// first `"model":` the top-level model. False (nothing read) when there is no usage object: the
    /// caller walks the body.
    static func chatByKeys(_ body: UnsafeRawBufferPointer, into facts: inout AnswerFacts, model: Bool = true, stop: Bool = true) -> Bool {
        let n = body.count
        // The usage is near the end: found backwards by the `g` of `"usage":`.
        guard let usageAt = KeySearch.lastKey(body, #""usage":"#, anchor: 4, before: n) else { return false }
        let v = KeySearch.valueStart(body, usageAt + 8)
        guard v < n, body[v] == 0x7B else { return false }
        if !compactChatUsage(body, from: v, into: &facts.usage) { readOpenAIUsage(body, from: v, into: &facts.usage) }
        // The last choice's finish reason is just before the usage (by the `_` of `finish_reason`).
        if stop, let f = KeySearch.lastKey(body, #""finish_reason":"#, anchor: 7, before: usageAt),
           let r = KeySearch.stringValue(body, after: f + 16) {
            facts.stopReason = stopWord(body, r)
        }
        // The model is near the start (by the `l` of `model`).
        if model, let m = KeySearch.firstKey(body, #""model":"#, anchor: 5, before: usageAt),
           let r = KeySearch.stringValue(body, after: m + 8) {
            facts.model = stringValue(body, r)
        }
        return true
    }

    /// OpenAI's own compact usage object (`{"prompt_tokens":N,...`), its few keys found by search rather
    /// than each of its keys walked: after the last `"usage":` of a Chat completion, every key is the
    /// usage's or a top-level key of another name (`service_tier`, `system_fingerprint`), and a compact
    /// writer writes every key compactly. False (nothing read) when the object does not start so.
    static func compactChatUsage(_ b: UnsafeRawBufferPointer, from v: Int, into u: inout TokenUsage) -> Bool {
        guard let prompt = firstCount(b, from: v, #""prompt_tokens":"#) else { return false }
        u = UsageRun.openAIOrder(b, after: v + 17, prompt: prompt) ?? searchedChatUsage(b, from: v, prompt: prompt)
        return true
    }

    /// The count of the key `key` (quotes and colon included) that a usage object at `v` starts with.
    @inline(__always)
    static func firstCount(_ b: UnsafeRawBufferPointer, from v: Int, _ key: StaticString) -> Int? {
        let k = key.utf8CodeUnitCount
        guard let base = b.baseAddress, v >= 0, v + 1 + k < b.count, memcmp(base + v + 1, key.utf8Start, k) == 0
        else { return nil }
        return UsageKeys.int(b, v + 1 + k)
    }

    /// `compactChatUsage`'s search for each key after `{"prompt_tokens":N` (keys in any order).
    static func searchedChatUsage(_ b: UnsafeRawBufferPointer, from v: Int, prompt: Int) -> TokenUsage {
        let n = b.count
        var u = TokenUsage(input: prompt)
        // By a byte that is rare among the usage's keys: `c` (it comes next), `h`, `g`.
        if let k = KeySearch.firstKey(b, #""completion_tokens":"#, anchor: 1, from: v + 17, before: n),
           let x = UsageKeys.int(b, KeySearch.valueStart(b, k + 20)) { u.output = x }
        if let k = KeySearch.firstKey(b, #""cached_tokens":"#, anchor: 4, from: v + 17, before: n),
           let x = UsageKeys.int(b, KeySearch.valueStart(b, k + 16)) { u.cacheRead = x }
        if let k = KeySearch.firstKey(b, #""reasoning_tokens":"#, anchor: 9, from: v + 17, before: n),
           let x = UsageKeys.int(b, KeySearch.valueStart(b, k + 19)) { u.reasoning = x }
        return u
    }

    /// A stop or finish reason: the common ones as literals (no decoding), others decoded.
    static func stopWord(_ b: UnsafeRawBufferPointer, _ r: Range<Int>) -> String? {
        guard r.count >= 2 else { return nil }
        let w = UnsafeRawBufferPointer(rebasing: b[(r.lowerBound + 1)..<(r.upperBound - 1)])
        switch w.count {
        case 4 where KeySearch.same(w, "stop"): return "stop"
        case 6 where KeySearch.same(w, "length"): return "length"
        case 8 where KeySearch.same(w, "end_turn"): return "end_turn"
        case 8 where KeySearch.same(w, "tool_use"): return "tool_use"
        case 10 where KeySearch.same(w, "tool_calls"): return "tool_calls"
        case 10 where KeySearch.same(w, "max_tokens"): return "max_tokens"
        case 13 where KeySearch.same(w, "stop_sequence"): return "stop_sequence"
        case 14 where KeySearch.same(w, "content_filter"): return "content_filter"
        default: return stringValue(b, r)
        }
    }

    /// An Anthropic message read by its keys. Its `content` may hold any keys (a `tool_use` block's
    /// `input` is the model's own object), but Anthropic and Bedrock write `usage` last and
    /// `stop_reason` just before it, after the content, and `model` before it: so the usage is the
    /// last `"usage":`, the stop reason the last `"stop_reason":` before it, the model the first
    /// `"model":`. False (nothing read) when there is no usage object after a stop reason: the
    /// caller walks.
    static func anthropicByKeys(_ body: UnsafeRawBufferPointer, into facts: inout AnswerFacts, model: Bool = true, stop: Bool = true) -> Bool {
        let n = body.count
        guard let usageAt = KeySearch.lastKey(body, #""usage":"#, anchor: 4, before: n) else { return false }
        let v = KeySearch.valueStart(body, usageAt + 8)
        guard v < n, body[v] == 0x7B,
              let stopAt = KeySearch.lastKey(body, #""stop_reason":"#, anchor: 5, before: usageAt)  // the `_`
        else { return false }
        if !compactAnthropicUsage(body, from: v, into: &facts.usage) {
            var base: Int?
            readAnthropicUsage(body, v..<n, into: &facts.usage, base: &base)
        }
        if stop, let r = KeySearch.stringValue(body, after: stopAt + 14) { facts.stopReason = stopWord(body, r) }
        if model, let m = KeySearch.firstKey(body, #""model":"#, anchor: 5, before: stopAt),
           let r = KeySearch.stringValue(body, after: m + 8) {
            facts.model = stringValue(body, r)
        }
        return true
    }

    /// Anthropic's own compact usage object (`{"input_tokens":N,...`), its few keys found by search as
    /// in `compactChatUsage`: Anthropic and Bedrock write the usage last, so every key after it is the
    /// usage's. False (nothing read) when the object does not start so.
    static func compactAnthropicUsage(_ b: UnsafeRawBufferPointer, from v: Int, into u: inout TokenUsage) -> Bool {
        guard let input = firstCount(b, from: v, #""input_tokens":"#) else { return false }
        u = UsageRun.anthropicOrder(b, after: v + 16, input: input) ?? searchedAnthropicUsage(b, from: v, input: input)
        return true
    }

    /// `compactAnthropicUsage`'s search for each key after `{"input_tokens":N` (keys in any order).
    static func searchedAnthropicUsage(_ b: UnsafeRawBufferPointer, from v: Int, input: Int) -> TokenUsage {
        let n = b.count
        var u = TokenUsage()
        // By the `h` of `cache` and the `p` of `output` (the keys before it have theirs in `input`).
        if let k = KeySearch.firstKey(b, #""cache_creation_input_tokens":"#, anchor: 4, from: v + 16, before: n),
           let x = UsageKeys.int(b, KeySearch.valueStart(b, k + 30)) { u.cacheCreation = x }
        if let k = KeySearch.firstKey(b, #""cache_read_input_tokens":"#, anchor: 4, from: v + 16, before: n),
           let x = UsageKeys.int(b, KeySearch.valueStart(b, k + 26)) { u.cacheRead = x }
        if let k = KeySearch.firstKey(b, #""output_tokens":"#, anchor: 4, from: v + 16, before: n),
           let x = UsageKeys.int(b, KeySearch.valueStart(b, k + 16)) { u.output = x }
        u.input = input + (u.cacheRead ?? 0) + (u.cacheCreation ?? 0)
        return u
    }

    /// An Anthropic message walked member by member (the reference for `anthropicByKeys`).
    static func anthropicByWalk(_ body: UnsafeRawBufferPointer, into facts: inout AnswerFacts) {
        let top = MemberPick(body, 0..<body.count, "usage", "stop_reason", "model")
        var base: Int?
        if let u = top.r0 { readAnthropicUsage(body, u, into: &facts.usage, base: &base) }
        if let s = top.r1 { facts.stopReason = stringValue(body, s) }
        if let m = top.r2 { facts.model = stringValue(body, m) }
    }

    /// A Chat completion walked member by member (the reference for `chatByKeys`, and the way for
    /// one without a usage object).
    static func chatByWalk(_ body: UnsafeRawBufferPointer, into facts: inout AnswerFacts) {
        let top = MemberPick(body, 0..<body.count, "usage", "choices", "model")
        if let u = top.r0 { readOpenAIUsage(body, u, into: &facts.usage) }
        if let c = top.r1 { facts.stopReason = firstFinishReason(body, c) }
        if let m = top.r2 { facts.model = stringValue(body, m) }
    }

    // MARK: Pieces shared with the stream watcher

    /// An Anthropic `usage` object (also the one in `message_start` and `message_delta`): values
    /// present replace earlier ones; `input` is recomputed from its three parts (`base` keeps
    /// Anthropic's own `input_tokens`, which leaves the cache parts out).
    static func readAnthropicUsage(_ b: UnsafeRawBufferPointer, _ r: Range<Int>, into u: inout TokenUsage, base: inout Int?) {
        var changedInput = false
        var keys = UsageKeys(b, from: r.lowerBound)
        while keys.next() {
            switch keys.keyCount {
            case 12 where keys.keyIs("input_tokens"):
                if let n = keys.int() { base = n; changedInput = true }
            case 13 where keys.keyIs("output_tokens"):
                if let n = keys.int() { u.output = n }
            case 23 where keys.keyIs("cache_read_input_tokens"):
                if let n = keys.int() { u.cacheRead = n; changedInput = true }
            case 27 where keys.keyIs("cache_creation_input_tokens"):
                if let n = keys.int() { u.cacheCreation = n; changedInput = true }
            default: break
            }
        }
        if changedInput, let base {
            u.input = base + (u.cacheRead ?? 0) + (u.cacheCreation ?? 0)
        }
    }

    /// An OpenAI `usage` object, Chat (`prompt_tokens`...) or Responses (`input_tokens`...).
    static func readOpenAIUsage(_ b: UnsafeRawBufferPointer, _ r: Range<Int>, into u: inout TokenUsage) {
        readOpenAIUsage(b, from: r.lowerBound, into: &u)
    }

    /// The OpenAI `usage` object that starts at `start` (Chat's or Responses' key names).
    static func readOpenAIUsage(_ b: UnsafeRawBufferPointer, from start: Int, into u: inout TokenUsage) {
        var keys = UsageKeys(b, from: start)
        while keys.next() {
            switch keys.keyCount {
            case 12:
                if keys.keyIs("input_tokens") { u.input = keys.int() ?? u.input }
            case 13:
                if keys.keyIs("prompt_tokens") { u.input = keys.int() ?? u.input }
                else if keys.keyIs("output_tokens") { u.output = keys.int() ?? u.output }
                else if keys.keyIs("cached_tokens") { u.cacheRead = keys.int() ?? u.cacheRead }
            case 16:
                if keys.keyIs("reasoning_tokens") { u.reasoning = keys.int() ?? u.reasoning }
            case 17:
                if keys.keyIs("completion_tokens") { u.output = keys.int() ?? u.output }
            default: break
            }
        }
    }

    /// A Responses `response` object: usage and status (`incomplete` gives its reason).
    static func readResponseObject(_ b: UnsafeRawBufferPointer, _ r: Range<Int>, into facts: inout AnswerFacts) {
        let top = MemberPick(b, r, "usage", "status", "incomplete_details", "model")
        if let u = top.r0 { readOpenAIUsage(b, u, into: &facts.usage) }
        if let m = top.r3 { facts.model = stringValue(b, m) }
        guard let s = top.r1.flatMap({ stringValue(b, $0) }) else { return }
        if s == "incomplete", let d = top.r2, let reason = stringMember(b, d, "reason") {
            facts.stopReason = reason
        } else {
            facts.stopReason = s
        }
    }

    /// `choices[0].finish_reason` of a Chat completion or chunk; nil while it is null.
    static func firstFinishReason(_ b: UnsafeRawBufferPointer, _ choices: Range<Int>) -> String? {
        guard let first = JSONSkim.firstElement(b, choices) else { return nil }
        return stringMember(b, first, "finish_reason")
    }

    static func intMember(_ b: UnsafeRawBufferPointer, _ r: Range<Int>, _ key: StaticString) -> Int? {
        MemberPick(b, r, key).r0.flatMap { intValue(b, $0) }
    }

    static func stringMember(_ b: UnsafeRawBufferPointer, _ r: Range<Int>, _ key: StaticString) -> String? {
        MemberPick(b, r, key).r0.flatMap { stringValue(b, $0) }
    }

    /// A non-negative JSON integer (at most 15 digits); nil for anything else.
    static func intValue(_ b: UnsafeRawBufferPointer, _ r: Range<Int>) -> Int? {
        guard !r.isEmpty, r.count <= 15 else { return nil }
        var v = 0
        for i in r {
            let d = b[i] &- 0x30
            guard d < 10 else { return nil }
            v = v * 10 + Int(d)
        }
        return v
    }

    /// A JSON string's text (short words such as stop reasons; longer or escaped ones are decoded).
    static func stringValue(_ b: UnsafeRawBufferPointer, _ r: Range<Int>) -> String? {
        guard r.count >= 2, r.lowerBound >= 0, r.upperBound <= b.count, b[r.lowerBound] == 0x22, let base = b.baseAddress
        else { return nil }
        // Without a backslash (model ids, stop words) the bytes are the text: no decoding pass.
        if memchr(base + r.lowerBound + 1, 0x5C, r.count - 2) == nil {
            return String(decoding: UnsafeRawBufferPointer(start: base + r.lowerBound + 1, count: r.count - 2), as: UTF8.self)
        }
        return JSONObjectScanner.decodeString(b, at: r)
    }
}

/// Members of the JSON object at `range` of `bytes`, by key (up to eight keys), found by `JSONSkim`;
/// the value ranges are offsets into `bytes`. The walk stops once every key is found. `valid` is
/// false when the range does not start a well-formed object (as far as the walk went).
struct MemberPick {
    private(set) var r0: Range<Int>?
    private(set) var r1: Range<Int>?
    private(set) var r2: Range<Int>?
    private(set) var r3: Range<Int>?
    private(set) var r4: Range<Int>?
    private(set) var r5: Range<Int>?
    private(set) var r6: Range<Int>?
    private(set) var r7: Range<Int>?
    private(set) var valid = false

    init(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ k0: StaticString, _ k1: StaticString = "",
         _ k2: StaticString = "", _ k3: StaticString = "", _ k4: StaticString = "", _ k5: StaticString = "",
         _ k6: StaticString = "", _ k7: StaticString = "") {
        guard let base = bytes.baseAddress, range.lowerBound >= 0, range.upperBound <= bytes.count else { return }
        let p = base.assumingMemoryBound(to: UInt8.self)
        let n = range.upperBound
        var i = JSONSkim.whitespace(p, n, range.lowerBound)
        guard i < n, p[i] == 0x7B else { return }
        i = JSONSkim.whitespace(p, n, i + 1)
        guard i < n else { return }
        if p[i] == 0x7D {
            valid = true
            return
        }
        // Lengths first: a key is compared only with those of its length ("" never matches: keys
        // found here have at least one byte, an empty one is compared as length 0 only with "").
        let l0 = k0.utf8CodeUnitCount, l1 = k1.utf8CodeUnitCount, l2 = k2.utf8CodeUnitCount, l3 = k3.utf8CodeUnitCount
        let l4 = k4.utf8CodeUnitCount, l5 = k5.utf8CodeUnitCount, l6 = k6.utf8CodeUnitCount, l7 = k7.utf8CodeUnitCount
        let keys = l7 > 0 ? 8 : l6 > 0 ? 7 : l5 > 0 ? 6 : l4 > 0 ? 5 : l3 > 0 ? 4 : l2 > 0 ? 3 : l1 > 0 ? 2 : 1
        var found = 0
        while true {
            guard i < n, p[i] == 0x22 else { return }
            var escaped = false
            let keyEnd = JSONFastScan.string(p, n, i, &escaped)
            guard keyEnd > 0 else { return }
            let key = UnsafeRawBufferPointer(start: p + i + 1, count: keyEnd - i - 2)
            i = JSONSkim.whitespace(p, n, keyEnd)
            guard i < n, p[i] == 0x3A else { return }
            let valueStart = JSONSkim.whitespace(p, n, i + 1)
            let valueEnd = JSONSkim.value(p, n, valueStart)
            guard valueEnd > valueStart else { return }
            let v = valueStart..<valueEnd
            let kl = key.count
            if kl == l0, r0 == nil, Self.same(key, k0) { r0 = v; found += 1 }
            else if kl == l1, r1 == nil, Self.same(key, k1) { r1 = v; found += 1 }
            else if kl == l2, r2 == nil, Self.same(key, k2) { r2 = v; found += 1 }
            else if kl == l3, r3 == nil, Self.same(key, k3) { r3 = v; found += 1 }
            else if kl == l4, r4 == nil, Self.same(key, k4) { r4 = v; found += 1 }
            else if kl == l5, r5 == nil, Self.same(key, k5) { r5 = v; found += 1 }
            else if kl == l6, r6 == nil, Self.same(key, k6) { r6 = v; found += 1 }
            else if kl == l7, r7 == nil, Self.same(key, k7) { r7 = v; found += 1 }
            if found == keys {
                valid = true
                return
            }
            i = JSONSkim.whitespace(p, n, valueEnd)
            guard i < n else { return }
            if p[i] == 0x2C {
                i = JSONSkim.whitespace(p, n, i + 1)
                continue
            }
            if p[i] == 0x7D { valid = true }
            return
        }
    }

    /// `key` (of `k`'s length) is `k`.
    @inline(__always) private static func same(_ key: UnsafeRawBufferPointer, _ k: StaticString) -> Bool {
        let a = key.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let b = k.utf8Start
        for j in 0..<key.count where a[j] != b[j] { return false }
        return true
    }
}

/// Finds keys (`"name":`, quotes and colon included) in JSON bytes without walking the JSON.
enum KeySearch {
    /// The offset of the last `key` that ends before `before`, found backwards by its byte at `anchor`
    /// (pick one that is rare near the end: the `g` of `"usage":`) with glibc's memrchr.
    @inline(__always)
    static func lastKey(_ b: UnsafeRawBufferPointer, _ key: StaticString, anchor: Int, before: Int) -> Int? {
        guard let base = b.baseAddress, before <= b.count else { return nil }
        let k = key.utf8CodeUnitCount
        let a = Int32(key.utf8Start[anchor])
        // Anchor positions whose key would end before `before`.
        var limit = before - k + anchor + 1
        while limit > anchor {
            let at = CByteSearch_last_byte(base, a, limit)
            guard at >= anchor else { return nil }
            let start = at - anchor
            if memcmp(base + start, key.utf8Start, k) == 0 { return start }
            limit = at
        }
        return nil
    }

    /// The offset of the first `key` that ends before `before`, found by its byte at `anchor` with
    /// memchr (pick one that is rare before the key).
    @inline(__always)
    static func firstKey(_ b: UnsafeRawBufferPointer, _ key: StaticString, anchor: Int, from start: Int = 0, before: Int) -> Int? {
        guard let base = b.baseAddress, before <= b.count else { return nil }
        let k = key.utf8CodeUnitCount
        let a = Int32(key.utf8Start[anchor])
        var from = start + anchor
        let top = before - k + anchor  // the last anchor position whose key ends before `before`
        while from <= top, let hit = memchr(base + from, a, top - from + 1) {
            let at = base.distance(to: UnsafeRawPointer(hit))
            if memcmp(base + (at - anchor), key.utf8Start, k) == 0 { return at - anchor }
            from = at + 1
        }
        return nil
    }

    @inline(__always)
    static func same(_ key: UnsafeRawBufferPointer, _ k: StaticString) -> Bool {
        key.count == k.utf8CodeUnitCount && memcmp(key.baseAddress!, k.utf8Start, key.count) == 0
    }

    /// The range (quotes included) of the string value that starts after a key ending at `i`; nil
    /// when the value is not a string.
    static func stringValue(_ b: UnsafeRawBufferPointer, after i: Int) -> Range<Int>? {
        let s = valueStart(b, i)
        guard s < b.count, b[s] == 0x22, let base = b.baseAddress else { return nil }
        var escaped = false
        let e = JSONFastScan.string(base.assumingMemoryBound(to: UInt8.self), b.count, s, &escaped)
        return e > s ? s..<e : nil
    }

    /// Past spaces and tabs after a colon.
    static func valueStart(_ b: UnsafeRawBufferPointer, _ i: Int) -> Int {
        var v = i
        while v < b.count, b[v] == 0x20 || b[v] == 0x09 || b[v] == 0x0A || b[v] == 0x0D { v += 1 }
        return v
    }
}

/// Walks JSON that is on its way to a client unchanged, to pick a few values out of it: brackets and
/// strings are matched (strings with `JSONFastScan`'s vector scan), nothing else is validated. Not
/// for input the proxy acts on: that goes through `JSONObjectScanner`.
enum JSONSkim {
    typealias Bytes = UnsafePointer<UInt8>

    @inline(__always) static func whitespace(_ p: Bytes, _ n: Int, _ start: Int) -> Int {
        JSONFastScan.whitespace(p, n, start)
    }

    /// The index after the value that starts at `start`, or -1 when it does not end before `n`.
    static func value(_ p: Bytes, _ n: Int, _ start: Int) -> Int {
        var i = start
        guard i < n else { return -1 }
        let c = p[i]
        if c == 0x22 {
            var escaped = false
            return JSONFastScan.string(p, n, i, &escaped)
        }
        if c != 0x7B && c != 0x5B {
            // A number or a literal: up to the next delimiter.
            while i < n {
                let b = p[i]
                if b == 0x2C || b == 0x7D || b == 0x5D || b <= 0x20 { return i }
                i &+= 1
            }
            return i
        }
        var depth = 0
        while i < n {
            let b = p[i]
            if b == 0x22 {
                var escaped = false
                i = JSONFastScan.string(p, n, i, &escaped)
                if i < 0 { return -1 }
                continue
            }
            // `{` and `[` (0x7B, 0x5B) are one bit apart, as are `}` and `]`.
            let folded = b | 0x20
            if folded == 0x7B {
                depth &+= 1
            } else if folded == 0x7D {
                depth &-= 1
                if depth == 0 { return i &+ 1 }
            }
            i &+= 1
        }
        return -1
    }

    /// The range of the first element of the array at `range`; nil for an empty or malformed array.
    static func firstElement(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Range<Int>? {
        guard let base = bytes.baseAddress, range.upperBound <= bytes.count else { return nil }
        let p = base.assumingMemoryBound(to: UInt8.self)
        let n = range.upperBound
        guard range.lowerBound < n, p[range.lowerBound] == 0x5B else { return nil }
        let start = whitespace(p, n, range.lowerBound + 1)
        guard start < n, p[start] != 0x5D else { return nil }
        let end = value(p, n, start)
        return end > start ? start..<end : nil
    }
}

/// The keys of a usage object, one after the other: each key (at any depth: the detail objects' keys
/// too) and the offset of its value, until the object's closing brace; a cursor rather than a closure,
/// so that a read of a usage object is one loop with no call per key but a `memchr` for its end.
/// Usage objects' keys are all distinct, their string values (`service_tier`) plain words without
/// escapes, and what stands between a value and the next quote is digits, literals, commas, colons,
/// braces and spaces: so the walk goes from quote to quote and counts braces in between.
struct UsageKeys {
    private let p: UnsafePointer<UInt8>?
    private let n: Int
    private var i: Int
    private var depth = 1
    /// The current key: its first byte's offset and its length.
    private(set) var keyStart = 0
    private(set) var keyCount = 0
    /// The offset of the current key's value (past spaces).
    private(set) var value = 0

    /// At the `{` at `start` (no key at all when there is none).
    @inline(__always)
    init(_ b: UnsafeRawBufferPointer, from start: Int) {
        n = b.count
        if let base = b.baseAddress, start >= 0, start < b.count, b[start] == 0x7B {
            p = base.assumingMemoryBound(to: UInt8.self)
            i = start + 1
        } else {
            p = nil
            i = n
        }
    }

    var key: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: p.map { $0 + keyStart }, count: keyCount) }

    /// Moves to the next key; false at the object's end (or the bytes' end).
    @inline(__always)
    mutating func next() -> Bool {
        guard let p else { return false }
        while i < n {
            var c = p[i]
            while c != 0x22 {
                if c == 0x7B {
                    depth &+= 1
                } else if c == 0x7D {
                    depth &-= 1
                    if depth == 0 {
                        i = n
                        return false
                    }
                }
                i &+= 1
                guard i < n else { return false }
                c = p[i]
            }
            let open = i
            guard let q = memchr(p + open + 1, 0x22, n - open - 1) else {
                i = n
                return false
            }
            let close = UnsafeRawPointer(p).distance(to: UnsafeRawPointer(q))
            var v = close + 1
            while v < n, p[v] == 0x20 || p[v] == 0x0A || p[v] == 0x0D || p[v] == 0x09 { v &+= 1 }
            i = v
            // A string value: passed over as a key that is not followed by a colon.
            guard v < n, p[v] == 0x3A else { continue }
            v &+= 1
            while v < n, p[v] == 0x20 || p[v] == 0x0A || p[v] == 0x0D || p[v] == 0x09 { v &+= 1 }
            keyStart = open + 1
            keyCount = close - open - 1
            value = v
            i = v
            return true
        }
        return false
    }

    /// The current key is `k` (whose length the caller compared): its first and last eight bytes (and
    /// the middle of longer ones) loaded as words rather than compared byte by byte.
    @inline(__always)
    func keyIs(_ k: StaticString) -> Bool {
        let m = k.utf8CodeUnitCount
        guard keyCount == m, let p else { return false }
        let a = UnsafeRawPointer(p + keyStart)
        let b = UnsafeRawPointer(k.utf8Start)
        guard m >= 8 else { return memcmp(a, b, m) == 0 }
        guard a.loadUnaligned(as: UInt64.self) == b.loadUnaligned(as: UInt64.self),
              a.loadUnaligned(fromByteOffset: m - 8, as: UInt64.self) == b.loadUnaligned(fromByteOffset: m - 8, as: UInt64.self)
        else { return false }
        return m <= 16 || memcmp(a + 8, b + 8, m - 16) == 0
    }

    /// The current value as a non-negative integer (at most 15 digits, then a delimiter); nil otherwise.
    @inline(__always)
    func int() -> Int? {
        guard let p else { return nil }
        return Self.int(p, n, value)
    }

    /// The non-negative integer at `at` of `b` (at most 15 digits, then a delimiter); nil otherwise.
    @inline(__always)
    static func int(_ b: UnsafeRawBufferPointer, _ at: Int) -> Int? {
        guard let base = b.baseAddress else { return nil }
        return int(base.assumingMemoryBound(to: UInt8.self), b.count, at)
    }

    @inline(__always)
    static func int(_ p: UnsafePointer<UInt8>, _ n: Int, _ value: Int) -> Int? {
        var j = value
        var v = 0
        while j < n {
            let d = p[j] &- 0x30
            if d >= 10 { break }
            v = v &* 10 &+ Int(d)
            j &+= 1
        }
        let digits = j - value
        guard digits > 0, digits <= 15 else { return nil }
        if j < n {
            let c = p[j]
            guard c == 0x2C || c == 0x7D || c == 0x5D || c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return nil }
        }
        return v
    }
}

/// A compact usage object read in the order its provider writes it: each next key checked in place
/// (a few word compares) and its count read, with no search at all. OpenAI writes
/// `{"prompt_tokens":N,"completion_tokens":N,"total_tokens":N,"prompt_tokens_details":{"cached_tokens":N,
/// "audio_tokens":N},"completion_tokens_details":{"reasoning_tokens":N,...`, Bedrock's Anthropic
/// `{"input_tokens":N,"cache_creation_input_tokens":N,"cache_read_input_tokens":N,"output_tokens":N`.
/// nil as soon as the bytes differ (another order, another key, spaces, a value that is not a count):
/// the caller then searches for each key, as it did before (`compactChatUsage`, `compactAnthropicUsage`).
struct UsageRun {
    private let p: UnsafeRawPointer
    private let n: Int
    private var i: Int

    private init(_ p: UnsafeRawPointer, _ n: Int, _ i: Int) {
        self.p = p
        self.n = n
        self.i = i
    }

    /// After `{"prompt_tokens":N` (`after` is the offset of N).
    static func openAIOrder(_ b: UnsafeRawBufferPointer, after at: Int, prompt: Int) -> TokenUsage? {
        guard let base = b.baseAddress, at >= 0, at <= b.count else { return nil }
        var r = UsageRun(base, b.count, at)
        guard r.skipCount(), r.expect(#","completion_tokens":"#), let output = r.count(),
              r.expect(#","total_tokens":"#), r.skipCount()
        else { return nil }
        if r.at(0x7D) { return TokenUsage(input: prompt, output: output) }
        guard r.expect(#","prompt_tokens_details":{"cached_tokens":"#), let cached = r.count(),
              r.expect(#","audio_tokens":"#), r.skipCount(),
              r.expect(#"},"completion_tokens_details":{"reasoning_tokens":"#), let reasoning = r.count()
        else { return nil }
        return TokenUsage(input: prompt, output: output, cacheRead: cached, reasoning: reasoning)
    }

    /// After `{"input_tokens":N` (`after` is the offset of N): `input` counts the cache parts too.
    static func anthropicOrder(_ b: UnsafeRawBufferPointer, after at: Int, input: Int) -> TokenUsage? {
        guard let base = b.baseAddress, at >= 0, at <= b.count else { return nil }
        var r = UsageRun(base, b.count, at)
        guard r.skipCount(), r.expect(#","cache_creation_input_tokens":"#), let creation = r.count(),
              r.expect(#","cache_read_input_tokens":"#), let read = r.count(),
              r.expect(#","output_tokens":"#), let output = r.count()
        else { return nil }
        return TokenUsage(input: input &+ read &+ creation, output: output, cacheRead: read, cacheCreation: creation)
    }

    /// The byte at the cursor is `c`.
    @inline(__always)
    private func at(_ c: UInt8) -> Bool { i < n && p.load(fromByteOffset: i, as: UInt8.self) == c }

    /// The bytes at the cursor are `s` (at least 8 bytes): compared a word at a time (the last word
    /// overlapping the one before), and passed.
    @inline(__always)
    private mutating func expect(_ s: StaticString) -> Bool {
        let m = s.utf8CodeUnitCount
        guard m <= n &- i else { return false }
        let x = p + i
        let y = UnsafeRawPointer(s.utf8Start)
        @inline(__always) func word(_ o: Int) -> UInt64 {
            x.loadUnaligned(fromByteOffset: o, as: UInt64.self) ^ y.loadUnaligned(fromByteOffset: o, as: UInt64.self)
        }
        // Unrolled for keys up to 64 bytes (`m` is a constant where this is inlined: the tests fold).
        var d = word(m &- 8)
        if m > 8 { d |= word(0) }
        if m > 16 { d |= word(8) }
        if m > 24 { d |= word(16) }
        if m > 32 { d |= word(24) }
        if m > 40 { d |= word(32) }
        if m > 48 { d |= word(40) }
        if m > 56 { d |= word(48) }
        precondition(m <= 64, "UsageRun.expect: a key of at most 64 bytes")
        guard d == 0 else { return false }
        i &+= m
        return true
    }

    /// The count at the cursor (as `UsageKeys.int` reads one: at most 15 digits, then a delimiter),
    /// passed; nil when there is none.
    @inline(__always)
    private mutating func count() -> Int? {
        let q = p.assumingMemoryBound(to: UInt8.self)
        var j = i
        var v = 0
        while j < n {
            let d = q[j] &- 0x30
            if d >= 10 { break }
            v = v &* 10 &+ Int(d)
            j &+= 1
        }
        guard UInt(bitPattern: j &- i &- 1) < 15 else { return nil }  // 1 to 15 digits
        if j < n {
            let c = q[j]
            guard c == 0x2C || c == 0x7D || c <= 0x20 && (c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09) || c == 0x5D
            else { return nil }
        }
        i = j
        return v
    }

    @inline(__always)
    private mutating func skipCount() -> Bool { count() != nil }
}
