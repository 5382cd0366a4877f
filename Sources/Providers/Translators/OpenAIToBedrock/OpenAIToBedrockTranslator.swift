#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// OpenAI Chat Completions clients → Claude on Bedrock (ingress `openai-chat`, egress `bedrock-anthropic`).
///
/// Made per request. `upstreamRequest` maps the request (`ChatRequestFastPath` for plain text chats,
/// `ChatRequestMapping` for everything else and for every error) and remembers what the
/// response needs: the client's model name (echoed back), whether it streams and whether it asked for a
/// usage chunk. Responses are mapped by `ChatCompletionMapping`, streams by `ChatChunkStream` fed through
/// an `SSELineSplitter`.
public final class OpenAIToBedrockTranslator: ExchangeTranslator {
    /// The longest upstream SSE line (one Anthropic event) accepted; more is an upstream fault.
    static let maxEventBytes = 4 << 20

    private let options: TranslationOptions

    public func upstreamModel(of request: UpstreamRequest) -> String? { request.modelSegment(template: options.upstreamPath) }
    private let now: @Sendable () -> Int
    private var model = ""
    private var includeUsage = false
    private var splitter = SSELineSplitter(maxLineBytes: OpenAIToBedrockTranslator.maxEventBytes)
    /// Made on the first stream call, so the stream's `created` is read once.
    private var stream: ChatChunkStream?

    /// - Parameter now: the clock for `created` (Unix seconds); tests inject a fixed one.
    public init(options: TranslationOptions, now: @escaping @Sendable () -> Int = { Int(time(nil)) }) {
        self.options = options
        self.now = now
    }

    public func upstreamRequest(for request: ClientRequest) throws(APIError) -> UpstreamRequest {
        if let fast = ChatRequestFastPath.map(request.body, options: options) {
            model = fast.model
            includeUsage = fast.includeUsage
            var upstream = UpstreamRequest(path: fast.path, body: fast.body, stream: fast.stream)
            upstream.clientModel = fast.modelRange
            return upstream
        }
        let mapping = try ChatRequestMapping(request.body, options: options)
        model = mapping.model
        includeUsage = mapping.includeUsage
        var upstream = UpstreamRequest(path: mapping.path, body: mapping.body.bytes, stream: mapping.stream)
        upstream.clientModel = UpstreamRequest.modelValueRange(in: request.body)
        return upstream
    }

    public func clientResponse(status: Int, contentType: String?, body: [UInt8], retryAfter: String?) -> ClientResponse {
        if (200..<300).contains(status) {
            return ChatCompletionMapping.completion(body, model: model, created: now())
        }
        return ChatCompletionMapping.upstreamError(status: status, body: body, retryAfter: retryAfter)
    }

    public var streamContentType: String { "text/event-stream" }

    public func streamChunk(_ bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        var state = takeStream()
        defer { stream = state }
        splitter.feed(bytes, sink: &state, into: &out)
        if splitter.overflowed {
            state.fail(.upstreamProtocol("upstream sent an event larger than \(Self.maxEventBytes) bytes"), into: &out)
        }
    }

    public func streamEnd(into out: inout [UInt8]) {
        var state = takeStream()
        defer { stream = state }
        splitter.finish(sink: &state, into: &out)
        state.end(into: &out)
    }

    public func streamFail(_ error: APIError, into out: inout [UInt8]) {
        var state = takeStream()
        defer { stream = state }
        state.fail(error, into: &out)
    }

    public func keepAlive(into out: inout [UInt8]) {
        ChunkBytes.append(": keep-alive\n\n", to: &out)
    }

    /// Moves the stream state out of the stored property, so it is mutated as a local (no exclusivity
    /// checks per line, no copy-on-write of its buffers) and put back afterwards.
    private func takeStream() -> ChatChunkStream {
        if let state = stream.take() { return state }
        return ChatChunkStream(
            model: model, includeUsage: includeUsage, created: now(), maxEventBytes: Self.maxEventBytes)
    }
}
