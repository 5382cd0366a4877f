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
    public func withUpstreamModel(of request: inout UpstreamRequest, _ body: (UnsafeRawBufferPointer) -> Void) -> Bool {
        request.withModelSegment(template: options.upstreamPath, body)
    }
    public var namesUpstreamModel: Bool { true }
    private let now: @Sendable () -> Int
    private var model = ""
    private var includeUsage = false
    private var stream = SSEStreamTranslation<ChatChunkStream>(
        maxEventBytes: OpenAIToBedrockTranslator.maxEventBytes)

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
        stream.chunk(bytes, into: &out, start: startStream)
    }

    public func streamEnd(into out: inout [UInt8]) {
        stream.end(into: &out, start: startStream)
    }

    public func streamFail(_ error: APIError, into out: inout [UInt8]) {
        stream.fail(error, into: &out, start: startStream)
    }

    public func keepAlive(into out: inout [UInt8]) {
        ChunkBytes.append(": keep-alive\n\n", to: &out)
    }

    /// The stream state, made on the first stream call, so the stream's `created` is read once.
    private func startStream() -> ChatChunkStream {
        ChatChunkStream(model: model, includeUsage: includeUsage, created: now(), maxEventBytes: Self.maxEventBytes)
    }
}
