#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// OpenAI Responses API clients (Codex CLI, the OpenAI SDKs' `responses.create`/`stream`, openai-agents)
/// → Claude on Bedrock (ingress `openai-responses`, egress `bedrock-anthropic`).
///
/// Made per request. `upstreamRequest` maps the request (`ResponsesRequestFastPath` for the shapes agents
/// send, straight from the bytes; else `ResponsesRequestMapping`: input items,
/// `ResponsesToolMapping`: tools, `ReasoningBudget`: thinking) and keeps what the answer needs
/// (`ResponseContext`). Whole responses are mapped by `ResponsesOutputMapping`, streams by
/// `ResponsesEventStream` fed through an `SSELineSplitter`. Errors before a stream are OpenAI's error
/// body with the upstream's status; after it started, `response.failed`.
///
/// This proxy keeps no state: `store: true`, `previous_response_id` and the other stored-state features
/// are a 400, and reasoning travels in `encrypted_content` (`ReasoningBlockCodec`).
public final class ResponsesToBedrockTranslator: ExchangeTranslator {
    /// The longest upstream SSE line (one Anthropic event) accepted; more is an upstream fault.
    static let maxEventBytes = 4 << 20

    private let options: TranslationOptions

    public func upstreamModel(of request: UpstreamRequest) -> String? { request.modelSegment(template: options.upstreamPath) }
    private let now: @Sendable () -> Int
    private var context = ResponseContext.empty
    private var stream = SSEStreamTranslation<ResponsesEventStream>(
        maxEventBytes: ResponsesToBedrockTranslator.maxEventBytes)
    public private(set) var removedForUpstream: [String] = []
    /// The request was mapped by `ResponsesRequestFastPath` (the common agent shapes), not the tree mapping.
    public private(set) var tookFastPath = false

    /// - Parameter now: the clock for `created_at` (Unix seconds); tests inject a fixed one.
    public init(options: TranslationOptions, now: @escaping @Sendable () -> Int = { Int(time(nil)) }) {
        self.options = options
        self.now = now
    }

    public func upstreamRequest(for request: ClientRequest) throws(APIError) -> UpstreamRequest {
        let mapping: ResponsesRequestMapping
        let clientModel: Range<Int>?
        if let fast = ResponsesRequestFastPath.map(request.body, options: options, createdAt: now()) {
            mapping = fast.mapping
            clientModel = fast.model
            tookFastPath = true
        } else {
            mapping = try ResponsesRequestMapping(request.body, options: options, createdAt: now())
            clientModel = UpstreamRequest.modelValueRange(in: request.body)
            tookFastPath = false
        }
        context = mapping.context
        removedForUpstream = mapping.removed
        var upstream = UpstreamRequest(
            path: mapping.path, body: mapping.body, stream: mapping.stream,
            accept: mapping.stream ? "text/event-stream" : "application/json")
        upstream.clientModel = clientModel
        return upstream
    }

    public func clientResponse(status: Int, contentType: String?, body: [UInt8], retryAfter: String?) -> ClientResponse
    {
        if (200..<300).contains(status) { return ResponsesOutputMapping.response(body, context: context) }
        return ResponsesOutputMapping.upstreamError(status: status, body: body, retryAfter: retryAfter)
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

    /// The stream state, made on the first stream call.
    private func startStream() -> ResponsesEventStream {
        ResponsesEventStream(context: context, maxEventBytes: Self.maxEventBytes)
    }
}
