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

    private func translate(_ buffer: UnsafeRawBufferPointer, original: [UInt8]) throws(APIError) -> UpstreamRequest {
        let scan: JSONObjectScan
        do throws(JSONError) {
            scan = try JSONObjectScanner.scan(buffer)
        } catch {
            throw .invalidRequest("request body is not valid JSON: \(error.message) at byte \(error.offset)")
        }
        var hasMaxTokens = false
        var hasMaxCompletionTokens = false
        var stream = false
        var model: JSONObjectScan.Member?
        var messages: JSONObjectScan.Member?
        for m in scan.members {
            switch m.key {
            case "model": model = model ?? m
            case "messages": messages = messages ?? m
            case "stream": stream = m.kind == .bool && buffer[m.valueRange.lowerBound] == UInt8(ascii: "t")
            case "max_tokens": hasMaxTokens = true
            case "max_completion_tokens": hasMaxCompletionTokens = true
            default: break
            }
        }
        guard let model else { throw .invalidRequest("`model` is required", code: "missing_required_parameter") }
        guard model.kind == .string else { throw .invalidRequest("`model` must be a string") }
        guard let messages else {
            throw .invalidRequest("`messages` is required", code: "missing_required_parameter")
        }
        guard messages.kind == .array else { throw .invalidRequest("`messages` must be an array") }

        var body = original
        if options.renameMaxTokens && hasMaxTokens {
            var edit = JSONEdit()
            if hasMaxCompletionTokens {
                edit.remove("max_tokens")
            } else {
                edit.rename("max_tokens", to: "max_completion_tokens")
            }
            body = []
            edit.apply(to: buffer, scan: scan, into: &body)
        }
        return UpstreamRequest(
            path: options.upstreamPath, body: body, stream: stream,
            accept: stream ? "text/event-stream" : "application/json")
    }

    public func clientResponse(status: Int, contentType: String?, body: [UInt8], retryAfter: String?) -> ClientResponse {
        var headers: [(name: String, value: String)] = []
        if let retryAfter { headers.append(("Retry-After", retryAfter)) }
        return ClientResponse(
            status: status, contentType: contentType ?? "application/json", body: body, headers: headers)
    }

    public var streamContentType: String { "text/event-stream" }

    /// Appends the bytes unchanged and updates the boundary state from the chunk's trailing line ends,
    /// which costs O(trailing CR/LF run), not O(chunk).
    public func streamChunk(_ bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        guard !ended, bytes.count > 0 else { return }
        out.append(contentsOf: bytes)
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
