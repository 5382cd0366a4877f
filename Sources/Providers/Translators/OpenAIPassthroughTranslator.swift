/// openai-chat → openai-chat (AI-Gateway's OpenAI route). The request is checked and edited in place
/// (byte-exact except the renamed field); responses and streams pass through unchanged.
public final class OpenAIPassthroughTranslator: ExchangeTranslator {
    public let options: TranslationOptions

    /// Trailing line ends of the bytes sent so far (capped at 2; CRLF counts once). Two means the client
    /// is on an event boundary.
    private var trailingLineEnds = 2
    /// The last byte sent was CR (a following LF belongs to it).
    private var lastWasCR = false
    private var ended = false

    public init(options: TranslationOptions) {
        self.options = options
    }

    public func upstreamRequest(for request: ClientRequest) throws(APIError) -> UpstreamRequest {
        let body = request.body
        let result: Result<UpstreamRequest, APIError> = body.withUnsafeBytes { buffer in
            do throws(APIError) { return .success(try translate(buffer, original: body)) } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// What the request check needs from the top-level members, collected during the one validating
    /// scan (no key strings, no member list).
    private struct Fields: JSONMemberVisitor {
        let bytes: UnsafeRawBufferPointer
        var model: JSONKind?
        var modelRange: Range<Int>?
        var messages: JSONKind?
        var stream = false
        /// The key span of the first `max_tokens`, and how many there are (a document may repeat keys).
        var maxTokensKey: Range<Int>?
        var maxTokensCount = 0
        var hasMaxCompletionTokens = false

        mutating func member(_ m: JSONMemberSpan) {
            // `keyIs` compares lengths first, so a key this translator does not read costs a few compares.
            if m.keyIs("model", in: bytes) {
                if model == nil {
                    model = m.kind
                    modelRange = m.valueRange
                }
            } else if m.keyIs("messages", in: bytes) {
                if messages == nil { messages = m.kind }
            } else if m.keyIs("stream", in: bytes) {
                stream = m.kind == .bool && bytes[m.valueRange.lowerBound] == UInt8(ascii: "t")
            } else if m.keyIs("max_tokens", in: bytes) {
                if maxTokensKey == nil { maxTokensKey = m.keyRange }
                maxTokensCount += 1
            } else if m.keyIs("max_completion_tokens", in: bytes) {
                hasMaxCompletionTokens = true
            }
        }
    }

    private func translate(_ buffer: UnsafeRawBufferPointer, original: [UInt8]) throws(APIError) -> UpstreamRequest {
        var fields = Fields(bytes: buffer)
        do throws(JSONError) {
            _ = try JSONObjectScanner.scanMembers(buffer, into: &fields)
        } catch {
            throw .invalidRequest("request body is not valid JSON: \(error.message) at byte \(error.offset)")
        }
        guard let model = fields.model else {
            throw .invalidRequest("`model` is required", code: "missing_required_parameter")
        }
        guard model == .string else { throw .invalidRequest("`model` must be a string") }
        guard let messages = fields.messages else {
            throw .invalidRequest("`messages` is required", code: "missing_required_parameter")
        }
        guard messages == .array else { throw .invalidRequest("`messages` must be an array") }

        var body = original
        if options.renameMaxTokens, let key = fields.maxTokensKey {
            if !fields.hasMaxCompletionTokens && fields.maxTokensCount == 1 {
                body = Self.replacing(buffer, key, with: Self.maxCompletionTokensKey)
            } else {
                // Repeated keys, or both spellings (the older one is dropped): rare, so the general edit.
                body = Self.generalEdit(buffer, removeMaxTokens: fields.hasMaxCompletionTokens)
            }
        }
        let stream = fields.stream
        var request = UpstreamRequest(
            path: options.upstreamPath, body: body, stream: stream,
            accept: stream ? "text/event-stream" : "application/json")
        request.clientModel = fields.modelRange
        return request
    }

    static let maxCompletionTokensKey: StaticString = "\"max_completion_tokens\""

    /// `bytes` with `range` replaced by `replacement`: one allocation, three copies. (Not the generic
    /// `init(unsafeUninitializedCapacity:)`, which looks up the storage type's metadata at run time.)
    static func replacing(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, with replacement: StaticString) -> [UInt8] {
        let r = UnsafeRawBufferPointer(start: replacement.utf8Start, count: replacement.utf8CodeUnitCount)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count - range.count + r.count)
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[..<range.lowerBound]))
        out.append(contentsOf: r)
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[range.upperBound...]))
        return out
    }

    private static func generalEdit(_ buffer: UnsafeRawBufferPointer, removeMaxTokens: Bool) -> [UInt8] {
        // The document was validated above, so this scan cannot fail.
        guard let scan = try? JSONObjectScanner.scan(buffer) else { return Array(buffer) }
        var edit = JSONEdit()
        if removeMaxTokens {
            edit.remove("max_tokens")
        } else {
            edit.rename("max_tokens", to: "max_completion_tokens")
        }
        var body: [UInt8] = []
        edit.apply(to: buffer, scan: scan, into: &body)
        return body
    }

    /// The upstream's body is passed on as is (the array is shared, not copied), whatever the status:
    /// both sides speak OpenAI, so an OpenAI error body is already in the client's dialect.
    public func clientResponse(status: Int, contentType: String?, body: [UInt8], retryAfter: String?) -> ClientResponse {
        var headers: [(name: String, value: String)] = []
        if let retryAfter { headers.append(("Retry-After", retryAfter)) }
        return ClientResponse(
            status: status, contentType: contentType ?? "application/json", body: body, headers: headers)
    }

    public var streamContentType: String { "text/event-stream" }

    /// `clientResponse` keeps the body and the content type for every status.
    public var passesSuccessBodyThrough: Bool { true }

    /// Appends the bytes unchanged and updates the boundary state from the chunk's trailing line ends,
    /// which costs O(trailing CR/LF run), not O(chunk).
    public func streamChunk(_ bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        guard !ended, bytes.count > 0 else { return }
        out.append(contentsOf: bytes)
        noteSent(bytes)
    }

    /// The bytes go to the client as they are (until the stream ended: then `streamChunk` drops them).
    public func passStreamChunk(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard !ended else { return false }
        noteSent(bytes)
        return true
    }

    private func noteSent(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        var runStart = bytes.count
        while runStart > 0, bytes[runStart - 1] == 0x0A || bytes[runStart - 1] == 0x0D { runStart -= 1 }
        if runStart > 0 {
            trailingLineEnds = 0
            lastWasCR = false
        }
        for i in runStart..<bytes.count {
            let c = bytes[i]
            if c == 0x0A && lastWasCR {
                lastWasCR = false
            } else {
                trailingLineEnds = min(trailingLineEnds + 1, 2)
                lastWasCR = c == 0x0D
            }
        }
    }

    /// True when the bytes sent so far end on an event boundary.
    public var isAtEventBoundary: Bool { trailingLineEnds >= 2 }

    /// The upstream's own `data: [DONE]` has already been passed through; nothing is added.
    public func streamEnd(into out: inout [UInt8]) {
        ended = true
    }

    public func streamFail(_ error: APIError, into out: inout [UInt8]) {
        guard !ended else { return }
        ended = true
        if !isAtEventBoundary { out.append(contentsOf: [0x0A, 0x0A]) }
        error.writeOpenAIStreamError(into: &out)
        trailingLineEnds = 2
        lastWasCR = false
    }

    public func keepAlive(into out: inout [UInt8]) {
        SSEEncoder.comment("keep-alive", into: &out)
    }
}
