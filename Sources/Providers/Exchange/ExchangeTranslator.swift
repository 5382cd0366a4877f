#if canImport(Glibc)
import Glibc
#endif
/// The contract between the proxy (UVProxy) and the API formats (Providers).
///
/// A translator is made per request by `Translators.make` and holds that request's stream state.
/// Everything here is bytes in, bytes out: no sockets, no libuv.

/// An API dialect spoken by a client (ingress) or an upstream (egress).
public enum Dialect: String, Sendable, CaseIterable {
    case openAIChat = "openai-chat"
    case openAIResponses = "openai-responses"
    case anthropicMessages = "anthropic-messages"
    case bedrockAnthropic = "bedrock-anthropic"
    /// Any method, any content type, bytes forwarded unchanged. Handled by the proxy, not by a translator.
    case passthrough
}

extension Dialect {
    /// The dialect a client on `path` most likely speaks, for a path no route names a dialect for
    /// (errors on unknown paths, pass-through routes): `/responses` is the Responses API; `/messages`,
    /// `/bedrock/` and `/anthropic/` Anthropic; anything else OpenAI Chat.
    public static func guess(path: String) -> Dialect {
        if path.hasSuffix("/responses") || path.contains("/responses/") { return .openAIResponses }
        if path.contains("/messages") || path.hasPrefix("/bedrock/") || path.hasPrefix("/anthropic/") { return .anthropicMessages }
        return .openAIChat
    }

    /// The model-list shape (`GET .../v1/models`) a client speaking this dialect reads: Anthropic's for
    /// Anthropic Messages clients, OpenAI's for every other.
    public var modelListDialect: Dialect { self == .anthropicMessages ? .anthropicMessages : .openAIChat }

    /// True when an upstream speaking this dialect is told the model in the request's path (Bedrock's
    /// `.../model/<id>/invoke`, read back with `BedrockModelID.model(inPath:into:)`), not in the body.
    public var carriesModelInPath: Bool { self == .bedrockAnthropic }

    /// OpenTelemetry's `gen_ai.provider.name` for an upstream speaking this dialect; nil for pass-through.
    public var genAIProviderName: String? {
        switch self {
        case .bedrockAnthropic: "aws.bedrock"
        case .openAIChat, .openAIResponses: "openai"
        case .anthropicMessages: "anthropic"
        case .passthrough: nil
        }
    }
}

/// Per-route options a translator needs.
public struct TranslationOptions: Sendable {
    /// For an OpenAI egress: the upstream path. For a Bedrock egress: a template with `{model}` and
    /// `{action}` (`invoke` or `invoke-with-response-stream`), e.g. `/v1/bedrock/model/{model}/{action}`.
    public var upstreamPath: String
    /// Rewrite a client's `max_tokens` into `max_completion_tokens` (OpenAI egress).
    public var renameMaxTokens: Bool
    /// `max_tokens` sent to Anthropic when an OpenAI client gave none.
    public var defaultMaxTokens: Int
    /// Client model name → upstream model id, consulted before the built-in Bedrock id rules.
    public var modelAliases: [String: String]
    /// For a Bedrock egress: what the upstream accepts (nil: the body goes as translated).
    public var profile: BedrockProfile?
    /// Rejections learned per upstream model, shared by every request and kept across reloads.
    public var healing: BedrockHealing?

    public init(
        upstreamPath: String, renameMaxTokens: Bool = false, defaultMaxTokens: Int = 4096,
        modelAliases: [String: String] = [:], profile: BedrockProfile? = nil, healing: BedrockHealing? = nil
    ) {
        self.upstreamPath = upstreamPath
        self.renameMaxTokens = renameMaxTokens
        self.defaultMaxTokens = defaultMaxTokens
        self.modelAliases = modelAliases
        self.profile = profile
        self.healing = healing
    }
}

/// What the translator sees of the client's request.
public struct ClientRequest: Sendable {
    public var body: [UInt8]
    /// Values of the client's `anthropic-beta` headers, already split on commas and trimmed.
    public var anthropicBeta: [String]

    public init(body: [UInt8], anthropicBeta: [String] = []) {
        self.body = body
        self.anthropicBeta = anthropicBeta
    }
}

/// The request the proxy sends upstream (the proxy adds Host, credentials and configured headers).
public struct UpstreamRequest: Sendable {
    public var path: String
    /// The body sent upstream. When the translator left it in pieces (`withBodyParts`), reading it joins
    /// them (a copy); setting it replaces them.
    public var body: [UInt8] {
        get { split.map { $0.joined(storage) } ?? storage }
        set {
            storage = newValue
            split = nil
        }
    }
    /// The body's bytes, or with `split` the bytes written between the spans of the client's body.
    private var storage: [UInt8]
    /// The body in pieces, or nil. One reference: the request is copied a few times per exchange.
    private var split: Split?

    /// A span of the body in pieces: bytes of the client's body (`fromSource`) or of the written ones.
    public struct Piece: Sendable, Equatable {
        public var fromSource: Bool
        public var range: Range<Int>
        public init(fromSource: Bool, range: Range<Int>) {
            self.fromSource = fromSource
            self.range = range
        }
    }

    /// The client's body that the pieces point into (shared, not copied) and the pieces in order.
    private final class Split: Sendable {
        let source: [UInt8]
        let pieces: [Piece]
        let count: Int

        init(source: [UInt8], pieces: [Piece]) {
            self.source = source
            self.pieces = pieces
            count = pieces.reduce(0) { $0 + $1.range.count }
        }

        func joined(_ written: [UInt8]) -> [UInt8] {
            var out: [UInt8] = []
            out.reserveCapacity(count)
            for piece in pieces { out += (piece.fromSource ? source : written)[piece.range] }
            return out
        }
    }

    /// The body's byte count, without joining pieces.
    public var bodyCount: Int { split?.count ?? storage.count }

    /// The body as `pieces` over `written` and the client's body `source` (e.g. long spans a translation
    /// keeps as they are): the proxy writes them as they lie, without copying them into one buffer.
    /// Nothing changes when a piece lies outside its buffer.
    public mutating func setBody(pieces: [Piece], written: [UInt8], source: [UInt8]) {
        for piece in pieces where piece.range.upperBound > (piece.fromSource ? source.count : written.count) { return }
        storage = written
        split = pieces.isEmpty ? nil : Split(source: source, pieces: pieces)
    }

    /// Calls `f` with the body's parts in order (one part when it is not in pieces); valid during the
    /// call. No allocation (the list is on the stack).
    public func withBodyParts(_ f: (UnsafeBufferPointer<UnsafeRawBufferPointer>) -> Void) {
        storage.withUnsafeBytes { written in
            guard let split else {
                withUnsafePointer(to: written) { f(UnsafeBufferPointer(start: $0, count: 1)) }
                return
            }
            split.source.withUnsafeBytes { client in
                withUnsafeTemporaryAllocation(of: UnsafeRawBufferPointer.self, capacity: split.pieces.count) { parts in
                    for (i, piece) in split.pieces.enumerated() {
                        parts.initializeElement(
                            at: i, to: UnsafeRawBufferPointer(rebasing: (piece.fromSource ? client : written)[piece.range]))
                    }
                    f(UnsafeBufferPointer(parts))
                }
            }
        }
    }

    /// The client asked for a stream.
    public var stream: Bool
    public var contentType: String
    public var accept: String
    /// The client's model name ended in `[1m]` (1M-token context), which left the id.
    public var longContext = false
    /// Where the client's `model` value is in the body the translator read: the JSON string as written,
    /// quotes included (the proxy labels its metrics with it). nil when the translator did not note it.
    public var clientModel: Range<Int>?

    public init(
        path: String, body: [UInt8], stream: Bool, contentType: String = "application/json",
        accept: String = "application/json"
    ) {
        self.path = path
        self.storage = body
        self.stream = stream
        self.contentType = contentType
        self.accept = accept
    }
}

/// A complete response for the client.
public struct ClientResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]
    /// Extra headers to pass to the client, e.g. `Retry-After` kept from an upstream 429.
    public var headers: [(name: String, value: String)]

    public init(status: Int, contentType: String, body: [UInt8], headers: [(name: String, value: String)] = []) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.headers = headers
    }
}

/// A retry after the upstream refused part of a request (`ExchangeTranslator.learnFromRejection`).
public struct RejectionRetry: Sendable, Equatable {
    /// What is now removed for this model, the first time it is learned (log it once); nil when an
    /// earlier request learned it while this one was in flight.
    public var learned: String?
    /// The upstream model it applies to.
    public var model: String

    public init(learned: String?, model: String) {
        self.learned = learned
        self.model = model
    }
}

/// One request's translation, both directions. Made per request; holds stream state.
public protocol ExchangeTranslator: AnyObject {
    /// The client's request body → the upstream request. Bad input throws an `APIError` (status 400...),
    /// which the proxy renders in the ingress dialect.
    func upstreamRequest(for request: ClientRequest) throws(APIError) -> UpstreamRequest

    /// A complete upstream response (any status; non-streamed, or an error body) → the client's response.
    /// `upstreamHeaders` lets the translator keep e.g. `Retry-After`.
    func clientResponse(status: Int, contentType: String?, body: [UInt8], retryAfter: String?) -> ClientResponse

    /// Content-Type of the streamed response sent to the client.
    var streamContentType: String { get }

    /// True if, for every 2xx status, `clientResponse` returns the upstream's body unchanged, the
    /// upstream's Content-Type (`application/json` when it sent none) and no extra header. The proxy
    /// then answers such a response straight from its read buffer, without building one.
    var passesSuccessBodyThrough: Bool { get }

    /// Bytes of a 2xx upstream stream, exactly as read (split anywhere). Appends client bytes to `out`
    /// as soon as whole events exist; never waits for more than the current event.
    func streamChunk(_ bytes: UnsafeRawBufferPointer, into out: inout [UInt8])

    /// For translators that pass a 2xx stream on unchanged: true when the client gets `bytes` exactly
    /// as they are, now noted as `streamChunk` would have (the proxy then writes them straight from
    /// its read buffer, with no copy into `out`); false when the proxy must call `streamChunk`.
    func passStreamChunk(_ bytes: UnsafeRawBufferPointer) -> Bool

    /// The upstream stream ended cleanly. Appends whatever the client still needs (e.g. `data: [DONE]`).
    func streamEnd(into out: inout [UInt8])

    /// The upstream failed after the stream started. Appends an error event in the client's dialect
    /// and a clean end of stream (on an event boundary).
    func streamFail(_ error: APIError, into out: inout [UInt8])

    /// Appends a keep-alive that clients ignore (an SSE comment, or an Anthropic `ping` event), sent while
    /// waiting for a slow first token. Only called on an event boundary.
    func keepAlive(into out: inout [UInt8])

    /// The upstream refused the last `upstreamRequest` (a complete error response, nothing of it sent
    /// to the client). When the refusal names something the translator can leave out (a beta, a field,
    /// a key, a role), it remembers that and returns a `Retry`; the proxy then calls `upstreamRequest`
    /// again and sends the result once. nil: no retry (the client gets the error).
    func learnFromRejection(status: Int, body: [UInt8]) -> RejectionRetry?

    /// What the last `upstreamRequest` removed from the client's request to fit the upstream (short
    /// phrases such as `beta x`, `field y`; never values).
    var removedForUpstream: [String] { get }

    /// The model id `request` (made by this translator's last `upstreamRequest`) asks the upstream
    /// for, for logs and traces; nil when it is the client's `model` unchanged. Read once per request.
    func upstreamModel(of request: UpstreamRequest) -> String?

    /// Calls `body` with the bytes of `upstreamModel(of:)` (for the access log: translators that read
    /// it from the path make no String); false, without calling it, when that is nil. `inout` only so
    /// that the proxy lends the request it keeps in place (passed by value, it was copied, strings retained).
    func withUpstreamModel(of request: inout UpstreamRequest, _ body: (UnsafeRawBufferPointer) -> Void) -> Bool

    /// `upstreamModel(of:)` names the model of every request this translator makes (a Bedrock path
    /// does): the answer's own `model` need not be read for logs and traces.
    var namesUpstreamModel: Bool { get }
}

extension ExchangeTranslator {
    public var passesSuccessBodyThrough: Bool { false }
    public func passStreamChunk(_ bytes: UnsafeRawBufferPointer) -> Bool { false }
    public func learnFromRejection(status: Int, body: [UInt8]) -> RejectionRetry? { nil }
    public var removedForUpstream: [String] { [] }
    public func upstreamModel(of request: UpstreamRequest) -> String? { nil }
    public var namesUpstreamModel: Bool { false }
    public func withUpstreamModel(of request: inout UpstreamRequest, _ body: (UnsafeRawBufferPointer) -> Void) -> Bool {
        guard var model = upstreamModel(of: request) else { return false }
        model.withUTF8 { body(UnsafeRawBufferPointer($0)) }
        return true
    }
}

extension UpstreamRequest {
    /// The `{model}` segment of a path made from `template` (a Bedrock path such as
    /// `/v1/bedrock/model/{model}/{action}`), percent-decoded; nil when the path does not fit.
    public func modelSegment(template: String) -> String? {
        var model: String?
        withModelSegment(template: template) { model = String(decoding: $0, as: UTF8.self) }
        return model
    }

    /// Calls `body` with the bytes of `modelSegment(template:)`, decoded in place of a String (none
    /// is made, and at most one small buffer for a segment with `%` escapes); false when the path does
    /// not fit.
    @discardableResult
    public func withModelSegment(template: String, _ body: (UnsafeRawBufferPointer) -> Void) -> Bool {
        // Native strings' own bytes (no copy of either String, no retain per call: the access log
        // asks this of every Bedrock exchange); `withUTF8` on copies for any other.
        if let found = template.utf8.withContiguousStorageIfAvailable({ tb in
            path.utf8.withContiguousStorageIfAvailable { pb in
                Self.modelSegment(UnsafeRawBufferPointer(tb), UnsafeRawBufferPointer(pb), body)
            }
        }), let found {
            return found
        }
        var t = template
        var p = path
        return t.withUTF8 { tb in
            p.withUTF8 { pb in Self.modelSegment(UnsafeRawBufferPointer(tb), UnsafeRawBufferPointer(pb), body) }
        }
    }

    /// `withModelSegment` on the bytes of the template and of the path.
    private static func modelSegment(_ tb: UnsafeRawBufferPointer, _ pb: UnsafeRawBufferPointer,
                                     _ body: (UnsafeRawBufferPointer) -> Void) -> Bool {
        // The template's bytes before `{model}`.
        guard let mark = Self.modelMark(tb) else { return false }
        guard pb.count > mark, mark == 0 || memcmp(pb.baseAddress!, tb.baseAddress!, mark) == 0 else { return false }
        let base = UnsafeRawPointer(pb.baseAddress!)
        let end = memchr(base + mark, 0x2F, pb.count - mark).map { base.distance(to: UnsafeRawPointer($0)) } ?? pb.count
        guard end > mark else { return false }
        guard var pct = memchr(base + mark, 0x25, end - mark).map({ base.distance(to: UnsafeRawPointer($0)) }) else {
            body(UnsafeRawBufferPointer(start: base + mark, count: end - mark))
            return true
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: end - mark) { out in
            // Runs between escapes are copied whole.
            let o = UnsafeMutableRawPointer(out.baseAddress!)
            var n = 0
            var i = mark
            while true {
                o.advanced(by: n).copyMemory(from: base + i, byteCount: pct - i)
                n += pct - i
                i = pct
                guard i < end else { break }
                if end - i >= 3, let hi = Self.hex(pb[i + 1]), let lo = Self.hex(pb[i + 2]) {
                    o.storeBytes(of: hi << 4 | lo, toByteOffset: n, as: UInt8.self)
                    i += 3
                } else {
                    o.storeBytes(of: 0x25, toByteOffset: n, as: UInt8.self)
                    i += 1
                }
                n += 1
                pct = memchr(base + i, 0x25, end - i).map { base.distance(to: UnsafeRawPointer($0)) } ?? end
            }
            body(UnsafeRawBufferPointer(start: o, count: n))
        }
        return true
    }

    /// The offset of `{model}` in a path template.
    private static func modelMark(_ t: UnsafeRawBufferPointer) -> Int? {
        guard t.count >= 7, let base = t.baseAddress else { return nil }
        var i = 0
        while i <= t.count - 7, let q = memchr(base + i, 0x7B, t.count - 6 - i) {
            let at = base.distance(to: UnsafeRawPointer(q))
            if memcmp(base + at, "{model}", 7) == 0 { return at }
            i = at + 1
        }
        return nil
    }

    private static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x37
        case 0x61...0x66: return c - 0x57
        default: return nil
        }
    }
}
