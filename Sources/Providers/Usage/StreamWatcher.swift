#if canImport(Glibc)
import Glibc
#endif

/// Reads `AnswerFacts` from a server-sent-event stream in the client's dialect, fed the bytes as
/// they go to the client (split anywhere). Only the few events that carry facts are parsed
/// (`message_start`/`message_delta`/`message_stop`, a Chat chunk with `finish_reason` or `usage`,
/// `response.completed`...); every other line costs a search for its end and a prefix compare.
public struct StreamWatcher: Sendable {
    public let dialect: Dialect
    public private(set) var facts = AnswerFacts()
    /// The start of a line that the last feed cut (empty when feeds ended on a line end).
    private var carry: [UInt8] = []
    /// A line longer than `maxLine` is being passed over up to its end.
    private var skipping = false
    /// The current event's `event:` name, classified.
    private var event = Event.none
    /// Anthropic's own `input_tokens` (cache parts apart), see `AnswerReader.readAnthropicUsage`.
    private var anthropicInput: Int?

    /// Lines longer than this (a `response.completed` echoing a huge answer) are not read.
    public static let maxLine = 8 << 20

    private enum Event {
        case none, other
        // Anthropic
        case messageStart, contentDelta, messageDelta, messageStop, error
        // Responses
        case responseDone, delta
    }

    public init(dialect: Dialect) {
        self.dialect = dialect
    }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        var start = 0
        let n = bytes.count
        while start < n {
            guard let nl = memchr(base + start, 0x0A, n - start) else {
                keep(UnsafeRawBufferPointer(rebasing: bytes[start...]))
                return
            }
            let end = base.distance(to: UnsafeRawPointer(nl))
            let piece = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
            if skipping {
                skipping = false
            } else if carry.isEmpty {
                line(piece)
            } else {
                carry.append(contentsOf: piece)
                // Taken out while it is read (line() mutates self), then put back emptied: a pass-through
                // stream's reads split lines anywhere, and the buffer is kept for the next one.
                var whole: [UInt8] = []
                swap(&whole, &carry)
                whole.withUnsafeBytes { line($0) }
                whole.removeAll(keepingCapacity: whole.capacity <= 64 << 10)
                swap(&whole, &carry)
            }
            start = end + 1
        }
    }

    private mutating func keep(_ piece: UnsafeRawBufferPointer) {
        guard !skipping else { return }
        if carry.count + piece.count > Self.maxLine {
            carry.removeAll(keepingCapacity: false)
            skipping = true
            return
        }
        carry.append(contentsOf: piece)
    }

    private mutating func line(_ raw: UnsafeRawBufferPointer) {
        var l = raw
        if let last = l.last, last == 0x0D { l = UnsafeRawBufferPointer(rebasing: l.dropLast()) }
        if l.isEmpty {
            event = .none
            return
        }
        if Self.hasPrefix(l, "data:") {
            var d = UnsafeRawBufferPointer(rebasing: l.dropFirst(5))
            if let f = d.first, f == 0x20 { d = UnsafeRawBufferPointer(rebasing: d.dropFirst()) }
            data(d)
        } else if Self.hasPrefix(l, "event:") {
            var name = UnsafeRawBufferPointer(rebasing: l.dropFirst(6))
            if let f = name.first, f == 0x20 { name = UnsafeRawBufferPointer(rebasing: name.dropFirst()) }
            event = classify(name)
        }
    }

    private func classify(_ name: UnsafeRawBufferPointer) -> Event {
        switch dialect {
        case .anthropicMessages, .bedrockAnthropic:
            if Self.equals(name, "content_block_delta") { return .contentDelta }
            if Self.equals(name, "message_delta") { return .messageDelta }
            if Self.equals(name, "message_start") { return .messageStart }
            if Self.equals(name, "message_stop") { return .messageStop }
            if Self.equals(name, "error") { return .error }
        case .openAIResponses:
            if Self.hasSuffix(name, ".delta") { return .delta }
            if Self.equals(name, "response.completed") || Self.equals(name, "response.incomplete")
                || Self.equals(name, "response.failed") { return .responseDone }
            if Self.equals(name, "error") { return .error }
        case .openAIChat, .passthrough:
            if Self.equals(name, "error") { return .error }
        }
        return .other
    }

    private mutating func data(_ d: UnsafeRawBufferPointer) {
        var kind = event
        if kind == .none { kind = classify(Self.typeField(d)) }
        switch dialect {
        case .openAIChat, .passthrough:
            chatData(d, kind)
        case .anthropicMessages, .bedrockAnthropic:
            switch kind {
            case .contentDelta:
                facts.firstToken = true
            case .messageStart:
                if let m = MemberPick(d, 0..<d.count, "message").r0 {
                    let message = MemberPick(d, m, "usage", "model")
                    if let u = message.r0 { AnswerReader.readAnthropicUsage(d, u, into: &facts.usage, base: &anthropicInput) }
                    if let model = message.r1 { facts.model = AnswerReader.stringValue(d, model) }
                }
            case .messageDelta:
                let top = MemberPick(d, 0..<d.count, "delta", "usage")
                if let u = top.r1 { AnswerReader.readAnthropicUsage(d, u, into: &facts.usage, base: &anthropicInput) }
                if let delta = top.r0, let s = AnswerReader.stringMember(d, delta, "stop_reason") { facts.stopReason = s }
            case .messageStop:
                facts.ended = true
            case .error:
                endWithError()
            default:
                break
            }
        case .openAIResponses:
            switch kind {
            case .delta:
                facts.firstToken = true
            case .responseDone:
                if let r = MemberPick(d, 0..<d.count, "response").r0 { AnswerReader.readResponseObject(d, r, into: &facts) }
                facts.ended = true
            case .error:
                endWithError()
            default:
                break
            }
        }
    }

    /// An error event: the stream's last.
    private mutating func endWithError() {
        facts.stopReason = "error"
        facts.ended = true
    }

    private mutating func chatData(_ d: UnsafeRawBufferPointer, _ kind: Event) {
        if Self.equals(d, "[DONE]") {
            facts.ended = true
            return
        }
        if kind == .error || Self.hasPrefix(d, #"{"error":"#) {
            facts.stopReason = "error"
            return
        }
        if !facts.firstToken, Self.carriesToken(d) { facts.firstToken = true }
        let (finish, usage) = Self.finishOrUsage(d)
        guard finish || usage else { return }
        let top = MemberPick(d, 0..<d.count, "usage", "choices", "model")
        if usage, let u = top.r0 { AnswerReader.readOpenAIUsage(d, u, into: &facts.usage) }
        if finish, let c = top.r1, let s = AnswerReader.firstFinishReason(d, c) { facts.stopReason = s }
        if facts.model == nil, let m = top.r2 { facts.model = AnswerReader.stringValue(d, m) }
    }

    /// Whether a Chat chunk has a `finish_reason` string or a `usage` object, told by the keys'
    /// underscores (`finish_reason`, `prompt_tokens`): a content chunk has two or three underscores,
    /// which memchr finds fast, where a search for each key would stop at every quote. Inside a JSON
    /// string a quote is escaped, so `finish_reason":` can only be a key.
    private static func finishOrUsage(_ d: UnsafeRawBufferPointer) -> (finish: Bool, usage: Bool) {
        guard let base = d.baseAddress else { return (false, false) }
        let n = d.count
        var finish = false
        var usage = false
        var i = 0
        while i < n, let hit = memchr(base + i, 0x5F, n - i) {
            let at = base.distance(to: UnsafeRawPointer(hit))
            i = at + 1
            if at >= 7, Self.matches(d, at - 7, #""finish_reason":"#) {
                var v = at - 7 + 16
                while v < n, d[v] == 0x20 { v += 1 }
                if v < n, d[v] == 0x22 { finish = true }
            } else if at >= 7, Self.matches(d, at - 7, #""prompt_tokens""#) {
                usage = true
            }
        }
        return (finish, usage)
    }

    @inline(__always) private static func matches(_ b: UnsafeRawBufferPointer, _ at: Int, _ s: StaticString) -> Bool {
        let k = s.utf8CodeUnitCount
        return at + k <= b.count && memcmp(b.baseAddress! + at, s.utf8Start, k) == 0
    }

    /// A Chat chunk's delta carries text, reasoning, a refusal or a tool call (not just a role).
    private static func carriesToken(_ d: UnsafeRawBufferPointer) -> Bool {
        nonEmptyString(d, #""content":"#) || value(d, #""tool_calls":"#, startsWith: 0x5B) != nil
            || nonEmptyString(d, #""reasoning_content":"#) || nonEmptyString(d, #""reasoning":"#) || nonEmptyString(d, #""refusal":"#)
    }

    // MARK: Bytes

    /// `{"type":"X"...`: X, for streams without `event:` lines.
    private static func typeField(_ d: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        let prefix: StaticString = #"{"type":""#
        guard hasPrefix(d, prefix) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let start = prefix.utf8CodeUnitCount
        var i = start
        while i < d.count, d[i] != 0x22 { i += 1 }
        return UnsafeRawBufferPointer(rebasing: d[start..<i])
    }

    private static func hasPrefix(_ b: UnsafeRawBufferPointer, _ s: StaticString) -> Bool {
        let n = s.utf8CodeUnitCount
        return b.count >= n && memcmp(b.baseAddress!, s.utf8Start, n) == 0
    }

    private static func hasSuffix(_ b: UnsafeRawBufferPointer, _ s: StaticString) -> Bool {
        let n = s.utf8CodeUnitCount
        return b.count >= n && memcmp(b.baseAddress! + (b.count - n), s.utf8Start, n) == 0
    }

    private static func equals(_ b: UnsafeRawBufferPointer, _ s: StaticString) -> Bool {
        b.count == s.utf8CodeUnitCount && hasPrefix(b, s)
    }

    private static func find(_ b: UnsafeRawBufferPointer, _ s: StaticString) -> Int? {
        let n = s.utf8CodeUnitCount
        guard n > 0, b.count >= n, let base = b.baseAddress else { return nil }
        let first = Int32(s.utf8Start.pointee)
        var i = 0
        let last = b.count - n
        while i <= last {
            guard let hit = memchr(base + i, first, last - i + 1) else { return nil }
            let at = base.distance(to: UnsafeRawPointer(hit))
            if memcmp(base + at, s.utf8Start, n) == 0 { return at }
            i = at + 1
        }
        return nil
    }

    /// The offset of the value after the first `key` (`"name":`) whose value starts with `first`
    /// (whitespace after the colon allowed); nil when there is none.
    private static func value(_ b: UnsafeRawBufferPointer, _ key: StaticString, startsWith first: UInt8) -> Int? {
        var from = 0
        while from < b.count, let i = find(UnsafeRawBufferPointer(rebasing: b[from...]), key) {
            var v = from + i + key.utf8CodeUnitCount
            while v < b.count, b[v] == 0x20 || b[v] == 0x09 { v += 1 }
            if v < b.count, b[v] == first { return v }
            from = v
        }
        return nil
    }

    /// A `key` whose value is a string that is not empty.
    private static func nonEmptyString(_ b: UnsafeRawBufferPointer, _ key: StaticString) -> Bool {
        guard let v = value(b, key, startsWith: 0x22) else { return false }
        return v + 1 < b.count && b[v + 1] != 0x22
    }
}
