/// Cuts a Bedrock-bound Anthropic body down to what the upstream accepts (`BedrockProfile` plus what
/// `BedrockHealing` learned for the model), on the bytes.
///
/// Only members that change are rewritten; every kept byte is copied as it was, so thinking
/// `signature`s, `cache_control` blocks and tool schemas reach the upstream byte-exact. What it does:
/// - `anthropic_beta`: values the profile does not list (or the model refused) are removed, the
///   long-context beta added when `[1m]` asked for it and the profile allows it; an empty list goes.
/// - top-level fields the profile does not list, the model refused, or that need a beta no longer sent
///   (`context_management` without `context-management-*`) are removed.
/// - `messages`: keys other than the profile's (`output_config` per message) are removed; a
///   `role: system` message is folded into the adjacent user turn, its text kept in order (appended to
///   the user message before it, else put before the next user message's text, after its tool
///   results, else sent as a user message of its own).
/// - `tools`: client tools lose keys the profile does not list (`defer_loading`,
///   `eager_input_streaming`); tools of a type the profile does not list are removed.
/// - `thinking`: keys other than the profile's (`display`) are removed.
///
/// The input is the translator's output (valid JSON, message contents already arrays of blocks).
public enum BedrockRequestShaper {
    public struct Result {
        /// The new body, or nil when nothing changed.
        public var body: [UInt8]?
        /// What was removed or changed, one short phrase each (for the log; never values).
        public var removed: [String]
        /// The betas the upstream request carries.
        public var sentBetas: [String]
    }

    public static func shape(
        _ bytes: UnsafeRawBufferPointer, profile: BedrockProfile, learned: LearnedRejections?, addBetas: [String] = []
    ) -> Result {
        var s = Shaper(bytes: bytes, profile: profile, learned: learned ?? LearnedRejections())
        return s.run(addBetas: addBetas)
    }

    /// The values of an `anthropic_beta` member: `["a","b"]` or `"a,b"`, each once, empty ones dropped.
    static func betaValues(_ raw: UnsafeRawBufferPointer) -> [String] { Shaper.betaValues(raw) }
}

/// Collects one object's members (offsets into the scanned buffer).
private struct MemberList: JSONMemberVisitor {
    var members: [JSONMemberSpan] = []
    mutating func member(_ m: JSONMemberSpan) { members.append(m) }
}

private struct Shaper {
    let bytes: UnsafeRawBufferPointer
    let profile: BedrockProfile
    let learned: LearnedRejections
    var removed: [String] = []

    init(bytes: UnsafeRawBufferPointer, profile: BedrockProfile, learned: LearnedRejections) {
        self.bytes = bytes
        self.profile = profile
        self.learned = learned
    }

    mutating func note(_ what: String) {
        if !removed.contains(what) { removed.append(what) }
    }

    func key(_ m: JSONMemberSpan, in buffer: UnsafeRawBufferPointer) -> String {
        if !m.keyEscaped {
            return String(decoding: UnsafeRawBufferPointer(rebasing: buffer[(m.keyRange.lowerBound + 1)..<(m.keyRange.upperBound - 1)]), as: UTF8.self)
        }
        return JSONObjectScanner.decodeString(buffer, at: m.keyRange) ?? ""
    }

    static func members(_ buffer: UnsafeRawBufferPointer) -> (list: [JSONMemberSpan], open: Int, close: Int)? {
        var list = MemberList()
        guard let braces = JSONObjectScanner.fastScanMembers(buffer, into: &list) else { return nil }
        return (list.members, braces.openBrace, braces.closeBrace)
    }

    /// The sub-buffer for `range` (offsets in the result start at 0).
    func sub(_ range: Range<Int>) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[range]) }

    // MARK: Top level

    mutating func run(addBetas: [String]) -> BedrockRequestShaper.Result {
        guard let top = Self.members(bytes) else { return .init(body: nil, removed: [], sentBetas: []) }
        let keys = top.list.map { key($0, in: bytes) }

        // Betas first: fields that need a beta depend on the final list.
        var clientBetas: [String] = []
        var betaMember: Int?
        for (i, k) in keys.enumerated() where k == "anthropic_beta" {
            betaMember = i
            clientBetas = Self.betaValues(sub(top.list[i].valueRange))
        }
        var betas: [String] = []
        for b in clientBetas + addBetas where !betas.contains(b) {
            if betaAllowed(b) { betas.append(b) } else { note("beta \(b)") }
        }

        var edit = JSONEdit()
        if let i = betaMember {
            if betas.isEmpty {
                edit.remove(keys[i])
            } else if betas != clientBetas {
                edit.replace(keys[i], rawValue: JSON.array(betas.map { .string($0) }).bytes)
            }
        } else if !betas.isEmpty {
            edit.append("anthropic_beta", rawValue: JSON.array(betas.map { .string($0) }).bytes)
        }
        for (i, m) in top.list.enumerated() {
            let k = keys[i]
            if k == "anthropic_beta" { continue }
            if let allowed = profile.topLevelFields, !allowed.contains(k) {
                edit.remove(k)
                note("field \(k)")
                continue
            }
            if learned.fields.contains(k) {
                edit.remove(k)
                note("field \(k)")
                continue
            }
            if let needs = profile.fieldBetas[k], !needs.contains(where: { betas.contains($0) }) {
                edit.remove(k)
                note("field \(k) (its beta is not sent)")
                continue
            }
            switch k {
            case "messages" where m.kind == .array:
                if let raw = shapeMessages(m.valueRange) { edit.replace(k, rawValue: raw) }
            case "tools" where m.kind == .array:
                if let raw = shapeTools(m.valueRange) { edit.replace(k, rawValue: raw) }
            case "thinking" where m.kind == .object:
                if let raw = shapeObject(m.valueRange, allowed: profile.thinkingKeys, refused: learned.thinkingKeys, what: "thinking key") {
                    edit.replace(k, rawValue: raw)
                }
            default: break
            }
        }
        guard !edit.isEmpty else { return .init(body: nil, removed: removed, sentBetas: betas) }
        // JSONEdit wants a scan with decoded keys; the members are known already.
        let scan = JSONObjectScan(
            members: top.list.enumerated().map { .init(key: keys[$0.offset], keyRange: $0.element.keyRange, valueRange: $0.element.valueRange, kind: $0.element.kind) },
            openBrace: top.open, closeBrace: top.close)
        var out: [UInt8] = []
        edit.apply(to: bytes, scan: scan, into: &out)
        return .init(body: out, removed: removed, sentBetas: betas)
    }

    func betaAllowed(_ b: String) -> Bool { profile.allowsBeta(b, learned: learned) }

    /// `["a","b"]` or `"a,b"`.
    static func betaValues(_ raw: UnsafeRawBufferPointer) -> [String] {
        guard let v = try? JSONParser.parse(raw) else { return [] }
        var out: [String] = []
        if let list = v.arrayValue {
            for e in list { if let s = e.stringValue, !s.isEmpty, !out.contains(s) { out.append(s) } }
        } else if let s = v.stringValue {
            for part in s.split(separator: ",") {
                let t = String(part.trimmingWhitespace())
                if !t.isEmpty && !out.contains(t) { out.append(t) }
            }
        }
        return out
    }

    // MARK: Objects

    /// The object at `range` without the keys `allowed` lacks or `refused` has; nil when none goes.
    mutating func shapeObject(_ range: Range<Int>, allowed: [String]?, refused: Set<String>, what: String) -> [UInt8]? {
        guard allowed != nil || !refused.isEmpty else { return nil }
        let buffer = sub(range)
        guard let object = Self.members(buffer) else { return nil }
        var edit = JSONEdit()
        var keys: [String] = []
        for m in object.list {
            let k = key(m, in: buffer)
            keys.append(k)
            if let allowed, !allowed.contains(k) || refused.contains(k) {
                edit.remove(k)
                note("\(what) \(k)")
            } else if allowed == nil, refused.contains(k) {
                edit.remove(k)
                note("\(what) \(k)")
            }
        }
        guard !edit.isEmpty else { return nil }
        let scan = JSONObjectScan(
            members: object.list.enumerated().map { .init(key: keys[$0.offset], keyRange: $0.element.keyRange, valueRange: $0.element.valueRange, kind: $0.element.kind) },
            openBrace: object.open, closeBrace: object.close)
        var out: [UInt8] = []
        edit.apply(to: buffer, scan: scan, into: &out)
        return out
    }

    /// The string value of `name` in the object at `buffer`, when it has one.
    func stringMember(_ name: String, _ list: [JSONMemberSpan], in buffer: UnsafeRawBufferPointer) -> String? {
        for m in list where m.kind == .string && key(m, in: buffer) == name {
            return JSONObjectScanner.decodeString(buffer, at: m.valueRange)
        }
        return nil
    }

    // MARK: Tools

    mutating func shapeTools(_ range: Range<Int>) -> [UInt8]? {
        let typesFiltered = profile.toolTypes != nil
        let keysFiltered = profile.toolKeys != nil || !learned.toolKeys.isEmpty
        guard typesFiltered || keysFiltered, let elements = try? JSONObjectScanner.arrayElements(bytes, in: range) else { return nil }
        var pieces: [[UInt8]?] = []  // nil: the element as it is
        var changed = false
        var kept: [Int] = []
        for (i, e) in elements.enumerated() {
            let buffer = sub(e)
            guard let object = Self.members(buffer) else {
                kept.append(i)
                pieces.append(nil)
                continue
            }
            let type = stringMember("type", object.list, in: buffer)
            if let type, type != "custom" {
                if let types = profile.toolTypes, !types.contains(type) {
                    let name = stringMember("name", object.list, in: buffer) ?? "?"
                    note("tool \(name) (type \(type))")
                    changed = true
                    continue
                }
                // A typed (server or Anthropic-defined) tool has keys of its own: only learned refusals apply.
                let raw = shapeObject(e, allowed: nil, refused: learned.toolKeys, what: "tool key")
                if raw != nil { changed = true }
                kept.append(i)
                pieces.append(raw)
                continue
            }
            let raw = shapeObject(e, allowed: profile.toolKeys, refused: learned.toolKeys, what: "tool key")
            if raw != nil { changed = true }
            kept.append(i)
            pieces.append(raw)
        }
        guard changed else { return nil }
        var out: [UInt8] = [0x5B]
        out.reserveCapacity(range.count)
        for (n, i) in kept.enumerated() {
            if n > 0 { out.append(0x2C) }
            if let piece = pieces[n] { out.append(contentsOf: piece) } else { out.append(contentsOf: sub(elements[i])) }
        }
        out.append(0x5D)
        return out
    }

    // MARK: Messages

    private struct Message {
        var range: Range<Int>
        var role: String?
        /// The `content` member's value range (absolute), when it is an array.
        var content: Range<Int>?
        /// The message with refused keys removed, or nil when it keeps them all.
        var edited: [UInt8]?
        /// Blocks to add at the end of the content, or after its leading tool results.
        var append: [UInt8] = []
        var insert: [UInt8] = []
    }

    mutating func shapeMessages(_ range: Range<Int>) -> [UInt8]? {
        let fold = profile.systemMessages == .fold || learned.foldSystem
        let keysFiltered = profile.messageKeys != nil || !learned.messageKeys.isEmpty
        guard fold || keysFiltered, let elements = try? JSONObjectScanner.arrayElements(bytes, in: range) else { return nil }
        var messages: [Message] = []
        messages.reserveCapacity(elements.count)
        var changed = false
        for e in elements {
            let buffer = sub(e)
            var message = Message(range: e)
            if let object = Self.members(buffer) {
                for m in object.list {
                    let k = key(m, in: buffer)
                    if k == "role", m.kind == .string { message.role = JSONObjectScanner.decodeString(buffer, at: m.valueRange) }
                    if k == "content", m.kind == .array { message.content = (e.lowerBound + m.valueRange.lowerBound)..<(e.lowerBound + m.valueRange.upperBound) }
                }
                if keysFiltered {
                    message.edited = shapeObject(e, allowed: profile.messageKeys, refused: learned.messageKeys, what: "message key")
                    if message.edited != nil { changed = true }
                }
            }
            messages.append(message)
        }
        var systemIndices: [Int] = []
        if fold {
            for (i, m) in messages.enumerated() where m.role == "system" { systemIndices.append(i) }
        }
        var dropped = Set<Int>()
        for i in systemIndices {
            guard let content = messages[i].content else {
                // A system message whose content is not a list of blocks: sent as a user message.
                messages[i].edited = Self.asUserMessage(textBlocks: Self.textBlock(sub(Self.contentValue(bytes, messages[i].range) ?? (0..<0))))
                changed = true
                note("role system (sent as a user message)")
                continue
            }
            let blocks = Self.arrayInner(sub(content))
            changed = true
            dropped.insert(i)
            note("role system (folded into the user turn)")
            if blocks.isEmpty { continue }
            // The nearest earlier message that stays (earlier system messages were folded already).
            var previous = i - 1
            while previous >= 0, dropped.contains(previous) { previous -= 1 }
            if previous >= 0, messages[previous].role == "user", messages[previous].content != nil {
                Self.join(&messages[previous].append, blocks)
            } else if i + 1 < messages.count, messages[i + 1].role == "user", messages[i + 1].content != nil {
                Self.join(&messages[i + 1].insert, blocks)
            } else {
                dropped.remove(i)
                var inner: [UInt8] = []
                Self.join(&inner, blocks)
                messages[i].edited = Self.asUserMessage(textBlocks: inner)
            }
        }
        guard changed else { return nil }
        var out: [UInt8] = [0x5B]
        out.reserveCapacity(range.count + 64)
        var first = true
        for (i, m) in messages.enumerated() where !dropped.contains(i) {
            if !first { out.append(0x2C) }
            first = false
            if m.append.isEmpty && m.insert.isEmpty {
                if let edited = m.edited { out.append(contentsOf: edited) } else { out.append(contentsOf: sub(m.range)) }
                continue
            }
            // Rebuild around the content array: the message's bytes before it, the merged array, the rest.
            let source: UnsafeRawBufferPointer
            let contentRange: Range<Int>
            if let edited = m.edited {
                // Rare (a user message that lost a key and gains system text): re-find content in the edited copy.
                let r: Range<Int>? = edited.withUnsafeBytes { Self.contentValue($0, 0..<$0.count) }
                guard let r else {
                    out.append(contentsOf: edited)
                    continue
                }
                var merged: [UInt8] = []
                edited.withUnsafeBytes { e in
                    merged.append(contentsOf: UnsafeRawBufferPointer(rebasing: e[0..<r.lowerBound]))
                    Self.mergeContent(UnsafeRawBufferPointer(rebasing: e[r]), insert: m.insert, append: m.append, into: &merged)
                    merged.append(contentsOf: UnsafeRawBufferPointer(rebasing: e[r.upperBound...]))
                }
                out.append(contentsOf: merged)
                continue
            }
            source = bytes
            contentRange = m.content!
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: source[m.range.lowerBound..<contentRange.lowerBound]))
            Self.mergeContent(sub(contentRange), insert: m.insert, append: m.append, into: &out)
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: source[contentRange.upperBound..<m.range.upperBound]))
        }
        out.append(0x5D)
        return out
    }

    /// The `content` value's range in the object at `range` of `buffer`.
    static func contentValue(_ buffer: UnsafeRawBufferPointer, _ range: Range<Int>) -> Range<Int>? {
        let object = UnsafeRawBufferPointer(rebasing: buffer[range])
        guard let list = members(object) else { return nil }
        for m in list.list where m.keyIs("content", in: object) {
            return (range.lowerBound + m.valueRange.lowerBound)..<(range.lowerBound + m.valueRange.upperBound)
        }
        return nil
    }

    /// The bytes between an array's brackets, trimmed (`a,b` of `[ a,b ]`).
    static func arrayInner(_ array: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var lo = 1
        var hi = array.count - 1
        while lo < hi, isWhitespace(array[lo]) { lo += 1 }
        while hi > lo, isWhitespace(array[hi - 1]) { hi -= 1 }
        return UnsafeRawBufferPointer(rebasing: array[lo..<max(lo, hi)])
    }

    static func join(_ list: inout [UInt8], _ blocks: UnsafeRawBufferPointer) {
        if !list.isEmpty { list.append(0x2C) }
        list.append(contentsOf: blocks)
    }

    static func join(_ list: inout [UInt8], _ blocks: [UInt8]) {
        blocks.withUnsafeBytes { join(&list, $0) }
    }

    /// A string (or any value) as the one text block `{"type":"text","text":<value>}`.
    static func textBlock(_ value: UnsafeRawBufferPointer) -> [UInt8] {
        var out = Array(#"{"type":"text","text":"#.utf8)
        if value.count > 0, value[0] == 0x22 { out.append(contentsOf: value) } else { out.append(contentsOf: #""""#.utf8) }
        out.append(0x7D)
        return out
    }

    static func asUserMessage(textBlocks: [UInt8]) -> [UInt8] {
        var out = Array(#"{"role":"user","content":["#.utf8)
        out.append(contentsOf: textBlocks)
        out.append(contentsOf: "]}".utf8)
        return out
    }

    /// The content array with `insert` placed after its leading `tool_result` blocks and `append` at the end.
    static func mergeContent(_ array: UnsafeRawBufferPointer, insert: [UInt8], append: [UInt8], into out: inout [UInt8]) {
        let inner = arrayInner(array)
        guard let elements = try? JSONObjectScanner.arrayElements(array, in: 0..<array.count) else {
            out.append(contentsOf: array)
            return
        }
        var split = 0
        while split < elements.count, isToolResult(UnsafeRawBufferPointer(rebasing: array[elements[split]])) { split += 1 }
        out.append(0x5B)
        var first = true
        func put(_ b: UnsafeRawBufferPointer) {
            if b.isEmpty { return }
            if !first { out.append(0x2C) }
            first = false
            out.append(contentsOf: b)
        }
        if insert.isEmpty {
            put(inner)
        } else {
            for e in elements[0..<split] { put(UnsafeRawBufferPointer(rebasing: array[e])) }
            insert.withUnsafeBytes { put($0) }
            for e in elements[split...] { put(UnsafeRawBufferPointer(rebasing: array[e])) }
        }
        append.withUnsafeBytes { put($0) }
        out.append(0x5D)
    }

    static func isToolResult(_ block: UnsafeRawBufferPointer) -> Bool {
        guard let list = members(block) else { return false }
        for m in list.list where m.kind == .string && m.keyIs("type", in: block) {
            return JSONObjectScanner.decodeString(block, at: m.valueRange) == "tool_result"
        }
        return false
    }

    @inline(__always) static func isWhitespace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 }
}
