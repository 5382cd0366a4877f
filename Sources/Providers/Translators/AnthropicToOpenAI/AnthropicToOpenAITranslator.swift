/// Anthropic Messages clients (Claude Code, the anthropic SDK) → OpenAI Chat Completions (ingress
/// `anthropic-messages`, egress `openai-chat`), e.g. GPT models behind AI-Gateway.
///
/// Made per request. `upstreamRequest` maps the request (`MessagesRequestFastPath` in one scan of the
/// bytes for the shapes agents send, else `MessagesRequestMapping`) to the route's
/// `upstreamPath` and remembers the client's model name (echoed back); responses are mapped by
/// `ChatCompletionMessageMapping`, streams by `MessageEventStream` fed through an `SSELineSplitter`.
/// Errors reach the client in Anthropic's shape, before the stream (status kept) and in it (`error`
/// events). A 400 that refuses an optional hint this translation added is retried once without it
/// (`OpenAIRejection`).
public final class AnthropicToOpenAITranslator: ExchangeTranslator {
    /// The longest upstream SSE line (one chunk) accepted, and the most bytes of interleaved tool calls
    /// held back; more is an upstream fault.
    static let maxEventBytes = 4 << 20

    public let options: TranslationOptions
    private var model = ""
    private var upstreamModel = ""
    private var adjustments = UpstreamAdjustments()
    private(set) var sent = SentHints(maxCompletionTokens: 0)
    /// The last request took `MessagesRequestFastPath` (one scan of the bytes), not the tree mapping.
    private(set) var tookFastPath = false
    public private(set) var removedForUpstream: [String] = []
    public func upstreamModel(of request: UpstreamRequest) -> String? { upstreamModel.isEmpty ? nil : upstreamModel }
    private var stream = SSEStreamTranslation<MessageEventStream>(
        maxEventBytes: AnthropicToOpenAITranslator.maxEventBytes)

    public init(options: TranslationOptions) {
        self.options = options
    }

    // MARK: Request

    public func upstreamRequest(for request: ClientRequest) throws(APIError) -> UpstreamRequest {
        if let fast = MessagesRequestFastPath.translate(request.body, options: options, adjustments: adjustments) {
            model = fast.model
            upstreamModel = fast.upstreamModel
            sent = fast.sent
            removedForUpstream = fast.removed
            tookFastPath = true
            return fast.request
        }
        tookFastPath = false
        return try generalUpstreamRequest(for: request)
    }

    /// The request through `MessagesRequestMapping` (a `JSON` tree): the reference the fast path is
    /// tested against, and the path for what it declines (every error comes from here).
    func generalUpstreamRequest(for request: ClientRequest) throws(APIError) -> UpstreamRequest {
        let mapping = try MessagesRequestMapping(request.body, options: options, adjustments: adjustments)
        model = mapping.model
        upstreamModel = mapping.upstreamModel
        sent = SentHints(body: mapping.body)
        removedForUpstream = mapping.removed.list
        // Written into room for about the client's bytes: a 10 MB body would otherwise grow by doubling
        // from empty (about 20 reallocations, each copying what was written so far).
        var body: [UInt8] = []
        body.reserveCapacity(request.body.count + 512)
        mapping.body.write(to: &body)
        var upstream = UpstreamRequest(
            path: options.upstreamPath, body: body, stream: mapping.stream,
            accept: mapping.stream ? "text/event-stream" : "application/json")
        upstream.clientModel = UpstreamRequest.modelValueRange(in: request.body)
        return upstream
    }

    /// A 400 naming a hint the model does not take: the same request once more without it. The change is
    /// for this request only (so `learned` is nil: nothing is remembered for the model), and it shows in
    /// `removedForUpstream`.
    public func learnFromRejection(status: Int, body: [UInt8]) -> RejectionRetry? {
        guard let next = OpenAIRejection.adjust(adjustments, status: status, body: body, sent: sent) else {
            return nil
        }
        adjustments = next
        return RejectionRetry(learned: nil, model: upstreamModel)
    }

    // MARK: Response

    public func clientResponse(status: Int, contentType: String?, body: [UInt8], retryAfter: String?) -> ClientResponse
    {
        if (200..<300).contains(status) {
            return ChatCompletionMessageMapping.message(body, model: model)
        }
        return ChatCompletionMessageMapping.upstreamError(status: status, body: body, retryAfter: retryAfter)
    }

    // MARK: Stream

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

    /// Anthropic's own keep-alive: a `ping` event.
    public func keepAlive(into out: inout [UInt8]) {
        AnthropicEventBytes.ping(into: &out)
    }

    /// The stream state, made on the first stream call.
    private func startStream() -> MessageEventStream {
        MessageEventStream(model: model, maxEventBytes: Self.maxEventBytes)
    }
}
