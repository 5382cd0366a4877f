#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The common Anthropic Messages request mapped to Bedrock's body straight from its bytes, and on a
/// route with an upstream profile cut to it in the same pass: one validating scan of the body, one
/// copy into a buffer sized up front, no `String` keys, no `JSONEdit`, no member list per object.
/// Without a profile the body is written while it is scanned; with one, the scan notes where each
/// top-level member, message, tool and `thinking` member sits (the profile's decisions depend on the
/// model and the betas, which may come last), then `write` copies it, cut (`+Write`, `+Messages`,
/// `+Objects`; the decisions are `BedrockCut`'s).
///
/// Why a second path: the general translation (scan with decoded keys, an edit list, a second pass for
/// the messages) cost ~31,000 instructions for a small request, and the shaper after it re-scanned a
/// Claude Code request object by object (~3 M instructions and ~850 allocations for 120 KB). This path
/// takes only requests the general one accepts (with a client `anthropic-beta` header only when the
/// body has no `anthropic_beta` of its own: the list is then appended), and returns nil for anything
/// unusual (invalid JSON, escaped keys, a repeated `model`, `stream` or `messages`, a missing or
/// mistyped field, an escaped model name, a message that is not an object; with a profile also keys
/// that are not ASCII, repeated `role`/`content` keys in a message or `tools`/`thinking`/
/// `anthropic_beta` at the top level, escaped `role` or tool `type` values, a system message whose
/// content is neither text nor blocks): the caller then runs the general translation and
/// `BedrockRequestShaper`, which produce every error message and are the reference. The tests hold the
/// output to be byte-identical to theirs.
///
/// The bytes it writes follow `JSONEdit.apply` as the general path applies it twice (translation, then
/// the profile): a kept member takes the separator that followed the previous kept member (the first
/// one takes the first member's leading whitespace), `model`, `stream` and every `anthropic_version`
/// are dropped, and Bedrock's `anthropic_version` is appended before the whitespace that precedes `}`.
struct AnthropicToBedrockFastPath {
    /// One object member as the scan found it (offsets into the body).
    struct Member {
        /// The key's opening quote; its closing quote is at `keyEnd - 1`.
        var keyStart: Int
        var keyEnd: Int
        var valueStart: Int
        var valueEnd: Int
        var kind: JSONKind
        var tag: Tag
    }

    /// What a member's key names, as far as this path cares.
    enum Tag: UInt8 {
        case other
        // Top level.
        case model, stream, version, beta, messages, tools, thinking, maxTokens
        // In a message or a tool.
        case role, content, type, name
    }

    /// A message (or a tool): one element of `messages` (or `tools`).
    struct Element {
        var start: Int
        var end: Int
        /// Its members in `members`; -1 members: not an object.
        var firstMember: Int
        var memberCount: Int
        var role = Role.none
        /// Member indexes (into `members`) of the `content`, or of the first string `type` and `name`.
        var content = -1
        var type = -1
        var name = -1
        /// A key this path reads appears twice.
        var repeated = false
        /// Members the profile removes, one bit per member.
        var cut: UInt64 = 0
        var fold = Fold.none
    }

    /// A message's `role` (the last one): `escaped` is a string with a backslash escape, which only the
    /// general path decodes.
    enum Role: UInt8 { case none, user, system, other, escaped }

    /// What happens to a system message, and to the user message its text goes to.
    enum Fold: Equatable {
        case none
        /// A system message without blocks, or a tool the profile removes: dropped.
        case dropped
        /// A system message whose blocks go after the blocks of the user message before it.
        case appended(to: Int)
        /// A system message whose blocks go after the leading tool results of the user message after it.
        case inserted(into: Int)
        /// A system message sent as a user message of its own.
        case own
        /// A user message that takes system blocks (`appended`, `inserted` or both).
        case target(append: Bool, insert: Bool)
    }

    let bytes: UnsafeRawBufferPointer
    let p: UnsafePointer<UInt8>
    let n: Int
    var open = 0
    var close = 0
    var top: [Member] = []
    var members: [Member] = []
    var elements: [Element] = []
    /// `elements` indexes of the messages and of the tools.
    var messages = 0..<0
    var tools = 0..<0
    /// `members` indexes of `thinking`'s members (when read).
    var thinking = 0..<0
    /// Without a profile the body is written while it is scanned (`streams`), and nothing is noted
    /// but the top-level fields the request needs; with one, tools and `thinking` are read member by
    /// member too, and the body is written after the scan (`write`).
    let streams: Bool
    /// Messages whose `content` is a string (each becomes one text block).
    var stringContents = 0
    var systemMessages = 0
    var out: [UInt8] = []

    /// What the top level holds, as the general path checks it.
    var model: Member?
    var stream: Member?
    var counts = (model: 0, stream: 0, messages: 0, beta: 0, tools: 0, thinking: 0)
    var maxTokens: JSONKind?
    var messagesKind: JSONKind?
    /// The client sent `anthropic-beta`: a body `anthropic_beta` to merge with is left to the general path.
    var hasBeta = false

    // While streaming: where the translated body stands (as `JSONEdit.apply` writes it).
    private var firstKeyStart = -1
    private var previousKept = false
    private var previousValueEnd = 0
    /// The separator after the last kept member (from its value to the next member's key).
    private var separator = 0..<0
    private var emitted = 0
    /// In the messages array: the first byte not written yet.
    private var at = 0
    /// Body bytes waiting to be copied in one piece (`copy`).
    var pending = 0..<0
    /// With a profile and the client's body at hand: spans of at least `pieceMinimum` bytes are not
    /// copied but noted in `pieces` (with the written bytes between them), and the proxy writes the body
    /// from where it lies (`UpstreamRequest.setBody(pieces:)`). A Claude Code request is ~12 such spans.
    var makesPieces = false
    var pieces: [UpstreamRequest.Piece] = []
    /// Where in `out` the written bytes since the last span begin.
    var writtenStart = 0
    static let pieceMinimum = 512
    /// Far below the kernel's 1,024 iovecs per write.
    static let pieceLimit = 256

    private init(bytes: UnsafeRawBufferPointer, p: UnsafePointer<UInt8>, streams: Bool) {
        self.bytes = bytes
        self.p = p
        self.n = bytes.count
        self.streams = streams
    }

    /// The translated request, or nil when the general path must run.
    static func translate(_ bytes: UnsafeRawBufferPointer, options: TranslationOptions, beta: [String] = [])
        -> UpstreamRequest?
    {
        guard let base = bytes.baseAddress else { return nil }
        var w = AnthropicToBedrockFastPath(bytes: bytes, p: base.assumingMemoryBound(to: UInt8.self), streams: true)
        guard w.scanned(beta: beta), let head = Self.head(bytes, model: w.model, stream: w.stream, options) else {
            return nil
        }
        w.finishStream(beta: beta)
        return head.request(body: w.out)
    }

    /// What the fast path did for a request on a route with a profile.
    struct Shaped {
        var request: UpstreamRequest
        /// The model's key for `BedrockHealing` (the path without its action) and what had been learned
        /// for it when the request was cut.
        var upstreamModel: String
        var learned: LearnedRejections?
        /// The profile applied (as `AnthropicToBedrockTranslator.shape`: not when it filters nothing,
        /// nothing was learned and no beta is added), with what it removed.
        var applied: Bool
        var removed: BedrockNotes
        /// The betas sent: the profile's cut, or the client's when the profile did not apply.
        var sentBetas: [String]
    }

    /// The translated request cut to `profile` and what `healing` learned for its model, or nil when
    /// the general path and `BedrockRequestShaper` must run.
    /// `source`: the client's body that `bytes` are, when the caller has it: long kept spans are then
    /// not copied (`makesPieces`).
    static func translate(
        _ bytes: UnsafeRawBufferPointer, options: TranslationOptions, beta: [String], profile: BedrockProfile,
        source: [UInt8]? = nil
    ) -> Shaped? {
        guard let base = bytes.baseAddress else { return nil }
        var w = AnthropicToBedrockFastPath(bytes: bytes, p: base.assumingMemoryBound(to: UInt8.self), streams: false)
        w.makesPieces = source?.count == bytes.count
        guard w.scanned(beta: beta), let head = Self.head(bytes, model: w.model, stream: w.stream, options) else {
            return nil
        }
        let upstreamModel = AnthropicToBedrockTranslator.modelKey(head.path)
        let learned = options.healing?.rejections(for: upstreamModel)
        let longContextBeta = head.longContext ? profile.longContextBeta : nil
        let applies = !profile.isPassThrough || learned != nil || longContextBeta != nil
        var cut: BedrockCut? = applies ? BedrockCut(profile: profile, learned: learned) : nil
        guard w.write(beta: beta, cut: &cut, longContextBeta: longContextBeta), cut?.failed != true else { return nil }
        var request = head.request(body: w.out)
        if !w.pieces.isEmpty, let source {
            if w.out.count > w.writtenStart {
                w.pieces.append(UpstreamRequest.Piece(fromSource: false, range: w.writtenStart..<w.out.count))
            }
            request.setBody(pieces: w.pieces, written: w.out, source: source)
        }
        return Shaped(
            request: request, upstreamModel: upstreamModel, learned: learned, applied: applies,
            removed: cut?.removed ?? BedrockNotes(), sentBetas: cut?.betas ?? beta)
    }

    // MARK: Head

    /// What the top level says about the request: where it goes and how.
    struct Head {
        var path: String
        var stream: Bool
        var longContext: Bool
        var model: Range<Int>

        func request(body: [UInt8]) -> UpstreamRequest {
            var request = UpstreamRequest(
                path: path, body: body, stream: stream, accept: stream ? "text/event-stream" : "application/json")
            request.longContext = longContext
            request.clientModel = model
            return request
        }
    }

    /// The body scanned and its fields checked as the general path checks them; nil when they are not
    /// the common shapes.
    private mutating func scanned(beta: [String]) -> Bool {
        hasBeta = !beta.isEmpty
        if streams {
            // The header's list is appended (`finishStream`); string contents grow by a block each.
            var extra = 128 + n / 16
            for b in beta { extra += b.utf8.count * 6 + 3 }
            out.reserveCapacity(n + extra)
        }
        guard scan() else { return false }
        let c = counts
        guard c.model == 1, c.messages == 1, c.stream <= 1, let model, model.kind == .string,
            model.valueEnd - model.valueStart > 2, messagesKind == .array, maxTokens == .number
        else { return false }
        // The client's header and a body list to merge with: the general path.
        if hasBeta && c.beta > 0 { return false }
        // A profile replaces these by key: a repeated one is the general path's.
        if !streams && (c.tools > 1 || c.thinking > 1 || c.beta > 1) { return false }
        if let stream, stream.kind != .bool && stream.kind != .null { return false }
        return true
    }

    /// The upstream path, stream and long-context flag; nil for an escaped model name.
    private static func head(
        _ bytes: UnsafeRawBufferPointer, model: Member?, stream s: Member?, _ options: TranslationOptions
    ) -> Head? {
        guard let model else { return nil }
        let p = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var name = UnsafeRawBufferPointer(rebasing: bytes[(model.valueStart + 1)..<(model.valueEnd - 1)])
        for c in name where c == 0x5C { return nil }
        // `claude-opus-4-6[1m]`: Claude Code's 1M-context choice leaves the id (the profile adds the beta).
        let longContext = Self.hasLongContextSuffix(name)
        if longContext { name = UnsafeRawBufferPointer(rebasing: name[0..<(name.count - 4)]) }
        var stream = false
        if let s, s.kind == .bool { stream = p[s.valueStart] == UInt8(ascii: "t") }
        let path = BedrockModelID.path(
            template: options.upstreamPath, modelBytes: name, aliases: options.modelAliases, stream: stream)
        return Head(path: path, stream: stream, longContext: longContext, model: model.valueStart..<model.valueEnd)
    }

    /// True for a name of more than four bytes ending in `[1m]` (any case of `m`), as the general path checks.
    static func hasLongContextSuffix(_ name: UnsafeRawBufferPointer) -> Bool {
        let n = name.count
        return n > 4 && name[n - 4] == 0x5B && name[n - 3] == 0x31 && (name[n - 2] | 0x20) == 0x6D
            && name[n - 1] == 0x5D
    }

    // MARK: Scan

    /// Validates the body as one JSON object (the grammar of `JSONFastScan`) and notes its members,
    /// messages (and without `streams`, tools and `thinking`), or writes it. False when invalid or
    /// unusual.
    private mutating func scan() -> Bool {
        var i = JSONFastScan.whitespace(p, n, 0)
        guard i < n, p[i] == 0x7B else { return false }
        open = i
        if streams { copy(0, open + 1) } else { top.reserveCapacity(16) }
        i = JSONFastScan.whitespace(p, n, i + 1)
        guard i < n, p[i] != 0x7D else { return false }  // `{}` has no messages
        while true {
            guard i < n, p[i] == 0x22 else { return false }
            let keyStart = i
            guard let (keyEnd, valueStart) = JSONFastScan.plainKey(p, n, i) else { return false }
            let tag = Self.topTag(p, keyStart + 1, keyEnd - 1)
            let c = p[valueStart]
            var member = Member(
                keyStart: keyStart, keyEnd: keyEnd, valueStart: valueStart, valueEnd: 0, kind: JSONKind(firstByte: c),
                tag: tag)
            switch tag {
            case .model: counts.model += 1
            case .stream: counts.stream += 1
            case .messages:
                counts.messages += 1
                messagesKind = member.kind
            case .maxTokens: if maxTokens == nil { maxTokens = member.kind }
            case .beta:
                counts.beta += 1
                if hasBeta { return false }
            case .tools: counts.tools += 1
            case .thinking: counts.thinking += 1
            default: break
            }
            let writes = streams && startMember(member)
            switch tag {
            case .messages where c == 0x5B:
                let first = elements.count
                at = valueStart
                i = readElements(valueStart, messages: true)
                messages = first..<elements.count
                if writes && i > 0 { copy(at, i) }
            case .tools where c == 0x5B && !streams:
                let first = elements.count
                i = readElements(valueStart, messages: false)
                tools = first..<elements.count
            case .thinking where c == 0x7B && !streams:
                let first = members.count
                var ignored = Element(start: valueStart, end: 0, firstMember: first, memberCount: 0)
                i = readMembers(valueStart, valueDepth: 2, into: &ignored, messages: false)
                thinking = first..<members.count
            default:
                i = JSONFastScan.member(p, n, valueStart, depth: 1)
                if writes && i > 0 { copy(valueStart, i) }
            }
            guard i > 0 else { return false }  // invalid, or deeper than the fast scan goes
            member.valueEnd = i
            switch tag {
            case .model: model = member
            case .stream: stream = member
            default: break
            }
            if streams { previousValueEnd = i } else { top.append(member) }
            i = JSONFastScan.whitespace(p, n, i)
            guard i < n else { return false }
            let d = p[i]
            i += 1
            if d == 0x7D {
                close = i - 1
                break
            }
            guard d == 0x2C else { return false }
            i = JSONFastScan.whitespace(p, n, i)
        }
        return JSONFastScan.whitespace(p, n, i) == n
    }

    /// While streaming, before a member's value: the translation drops `model`, `stream` and every
    /// `anthropic_version`; a kept member is written up to its value (true).
    private mutating func startMember(_ m: Member) -> Bool {
        if firstKeyStart < 0 { firstKeyStart = m.keyStart }
        if previousKept { separator = previousValueEnd..<m.keyStart }
        previousKept = false
        if Self.translationDrops(m.tag) { return false }
        copy(emitted == 0 ? open + 1 : separator.lowerBound, emitted == 0 ? firstKeyStart : separator.upperBound)
        emitted += 1
        previousKept = true
        copy(m.keyStart, m.valueStart)
        return true
    }

    /// While streaming, after the last member: the tail, Bedrock's `anthropic_version` before the
    /// whitespace that precedes `}`, and the header's betas.
    private mutating func finishStream(beta: [String]) {
        var closeRunStart = close
        while closeRunStart > previousValueEnd, Self.isWhitespace(p[closeRunStart - 1]) { closeRunStart -= 1 }
        copy(previousValueEnd, closeRunStart)
        if emitted > 0 { byte(0x2C) }
        append(#""anthropic_version":"bedrock-2023-05-31""#)
        if !beta.isEmpty {
            // As the general path writes it: the header's values in order, empty ones and repeats dropped.
            append(#","anthropic_beta":["#)
            var first = true
            for (k, b) in beta.enumerated() where !b.isEmpty && !beta[..<k].contains(b) {
                if !first { byte(0x2C) }
                first = false
                JSON.writeString(b, to: &out)
            }
            byte(0x5D)
        }
        copy(closeRunStart, n)
        flush()
    }

    /// Reads the array whose `[` is at `start`: each element's span, and an object's members. The
    /// index after `]`, or -1. A message that is not an object is left to the general path.
    private mutating func readElements(_ start: Int, messages: Bool) -> Int {
        var i = JSONFastScan.whitespace(p, n, start + 1)
        guard i < n else { return -1 }
        if p[i] == 0x5D { return i + 1 }
        if !streams && elements.isEmpty { elements.reserveCapacity(16 + n / 1024) }
        while true {
            guard i < n else { return -1 }
            var e = Element(start: i, end: 0, firstMember: members.count, memberCount: -1)
            if p[i] == 0x7B {
                i = readMembers(i, valueDepth: 3, into: &e, messages: messages)
                e.memberCount = members.count - e.firstMember
            } else {
                if messages { return -1 }
                i = JSONFastScan.value(p, n, i, depth: 2, maxDepth: JSONParser.maxDepth)
            }
            guard i > 0 else { return -1 }
            e.end = i
            if !streams {
                if e.role == .system { systemMessages += 1 }
                elements.append(e)
            }
            i = JSONFastScan.whitespace(p, n, i)
            guard i < n else { return -1 }
            let d = p[i]
            if d == 0x5D { return i + 1 }
            guard d == 0x2C else { return -1 }
            i = JSONFastScan.whitespace(p, n, i + 1)
        }
    }

    /// Reads the object whose `{` is at `start` into `members`, noting in `e` what this path reads of a
    /// message or tool. The index after `}`, or -1 (also for an escaped key).
    private mutating func readMembers(_ start: Int, valueDepth: Int, into e: inout Element, messages: Bool) -> Int {
        var i = JSONFastScan.whitespace(p, n, start + 1)
        guard i < n else { return -1 }
        if p[i] == 0x7D { return i + 1 }
        if !streams && members.isEmpty { members.reserveCapacity(Swift.min(4096, 16 + n / 128)) }
        while true {
            guard i < n, p[i] == 0x22 else { return -1 }
            let keyStart = i
            guard let (keyEnd, valueStart) = JSONFastScan.plainKey(p, n, i) else { return -1 }
            i = JSONFastScan.member(p, n, valueStart, depth: valueDepth)
            guard i > 0 else { return -1 }
            let kind = JSONKind(firstByte: p[valueStart])
            let tag = Self.nestedTag(p, keyStart + 1, keyEnd - 1, messages: messages)
            if streams {
                // Every string `content` becomes one text block, its bytes as they are.
                if tag == .content && kind == .string {
                    copy(at, valueStart)
                    append(#"[{"type":"text","text":"#)
                    copy(valueStart, i)
                    append("}]")
                    at = i
                }
            } else {
                note(
                    Member(
                        keyStart: keyStart, keyEnd: keyEnd, valueStart: valueStart, valueEnd: i, kind: kind, tag: tag),
                    into: &e)
            }
            i = JSONFastScan.whitespace(p, n, i)
            guard i < n else { return -1 }
            let d = p[i]
            i += 1
            if d == 0x7D { return i }
            guard d == 0x2C else { return -1 }
            i = JSONFastScan.whitespace(p, n, i)
        }
    }

    /// Notes a message's or tool's member in `members`, and in `e` what this path reads of it.
    private mutating func note(_ m: Member, into e: inout Element) {
        let index = members.count
        let kind = m.kind
        switch m.tag {
        case .role:
            if e.role != .none { e.repeated = true }
            e.role = kind == .string ? Self.role(p, m.valueStart, m.valueEnd) : .other
        case .content:
            if e.content >= 0 { e.repeated = true }
            e.content = index
            if kind == .string { stringContents += 1 }
        case .type where kind == .string && e.type < 0: e.type = index
        case .name where kind == .string && e.name < 0: e.name = index
        default: break
        }
        members.append(m)
    }

    /// A `role` string value (quotes included).
    private static func role(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Role {
        for i in (start + 1)..<(end - 1) where p[i] == 0x5C { return .escaped }
        switch end - start {
        case 6: return equals(p, start + 1, "user") ? .user : .other
        case 8: return equals(p, start + 1, "system") ? .system : .other
        default: return .other
        }
    }

    // MARK: Keys

    // Static, as the helpers below: a method on this (large) struct would copy it at each call.
    private static func topTag(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Tag {
        switch end - start {
        case 5:
            if equals(p, start, "model") { return .model }
            return equals(p, start, "tools") ? .tools : .other
        case 6: return equals(p, start, "stream") ? .stream : .other
        case 8:
            if equals(p, start, "messages") { return .messages }
            return equals(p, start, "thinking") ? .thinking : .other
        case 10: return equals(p, start, "max_tokens") ? .maxTokens : .other
        case 14: return equals(p, start, "anthropic_beta") ? .beta : .other
        case 17: return equals(p, start, "anthropic_version") ? .version : .other
        default: return .other
        }
    }

    private static func nestedTag(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, messages: Bool) -> Tag {
        switch end - start {
        case 4:
            if messages { return equals(p, start, "role") ? .role : .other }
            if equals(p, start, "type") { return .type }
            return equals(p, start, "name") ? .name : .other
        case 7: return messages && equals(p, start, "content") ? .content : .other
        default: return .other
        }
    }

    @inline(__always) static func equals(_ p: UnsafePointer<UInt8>, _ at: Int, _ s: StaticString) -> Bool {
        memcmp(p + at, s.utf8Start, s.utf8CodeUnitCount) == 0
    }

    @inline(__always) static func isWhitespace(_ c: UInt8) -> Bool {
        c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09
    }
}
