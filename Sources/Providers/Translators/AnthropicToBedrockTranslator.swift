/// anthropic-messages → bedrock-anthropic (AI-Gateway's Claude route, or Bedrock's invoke API).
///
/// Request: `model` leaves the body for the path, `stream` picks the action and leaves the body,
/// `anthropic_version` is set, string message contents become one text block, the client's
/// `anthropic-beta` header joins `anthropic_beta`; every other byte passes through.
/// Response and stream: Anthropic's own shapes, minus Bedrock's `amazon-bedrock-invocationMetrics`; the
/// client always gets standard Anthropic SSE (`event: <type>` taken from the JSON's `type`).
public final class AnthropicToBedrockTranslator: ExchangeTranslator {
    public static let bedrockVersion = "bedrock-2023-05-31"
    static let metricsKey = "amazon-bedrock-invocationMetrics"

    public let options: TranslationOptions

    public func upstreamModel(of request: UpstreamRequest) -> String? { request.modelSegment(template: options.upstreamPath) }
    public func withUpstreamModel(of request: inout UpstreamRequest, _ body: (UnsafeRawBufferPointer) -> Void) -> Bool {
        request.withModelSegment(template: options.upstreamPath, body)
    }
    public var namesUpstreamModel: Bool { true }
    var decoder: SSEDecoder
    /// An error event was sent (or the stream ended): later upstream bytes are dropped.
    var finished = false
    var sawMessageStop = false
    /// The decoder is past its byte-order-mark check (it was fed four bytes or more at once), so whole
    /// events can be read in place while it is idle (`streamChunk`).
    var decoderPastStart = false
    /// The last bytes fed to the decoder ended in CR: it may skip a leading LF, so it reads the next chunk.
    var decoderAfterCR = false

    public init(options: TranslationOptions, maxEventBytes: Int = 4 << 20) {
        self.options = options
        self.decoder = SSEDecoder(maxEventBytes: maxEventBytes)
    }

    // MARK: Request

    public func upstreamRequest(for request: ClientRequest) throws(APIError) -> UpstreamRequest {
        let body = request.body
        if let profile = options.profile,
            let fast = body.withUnsafeBytes({
                AnthropicToBedrockFastPath.translate(
                    $0, options: options, beta: request.anthropicBeta, profile: profile, source: body)
            })
        {
            // Translated and cut in one pass, as `shape` would have cut it.
            upstreamModel = fast.upstreamModel
            shapedWith = fast.learned
            if fast.applied { removed = fast.removed }
            sentBetas = fast.sentBetas
            return fast.request
        }
        var translated: UpstreamRequest
        if let fast = body.withUnsafeBytes({
            AnthropicToBedrockFastPath.translate($0, options: options, beta: request.anthropicBeta)
        }) {
            translated = fast
        } else {
            translated = try generalUpstreamRequest(for: request)
        }
        if let profile = options.profile { shape(&translated, profile: profile, clientBetas: request.anthropicBeta) }
        return translated
    }

    // MARK: Profile and healing

    /// The upstream model the last request went to (its path without the action), the betas it sent.
    var upstreamModel = ""
    var sentBetas: [String] = []
    /// What had been learned for the model when the last request was shaped.
    var shapedWith: LearnedRejections?
    /// What the profile removed from the last request (`removedForUpstream`, made `String`s when read).
    private var removed = BedrockNotes()
    public var removedForUpstream: [String] { removed.strings }

    /// Cuts the translated body down to the profile and what the upstream refused for this model.
    func shape(_ request: inout UpstreamRequest, profile: BedrockProfile, clientBetas: [String]) {
        upstreamModel = Self.modelKey(request.path)
        let learned = options.healing?.rejections(for: upstreamModel)
        shapedWith = learned
        var add: [String] = []
        if request.longContext, let beta = profile.longContextBeta { add.append(beta) }
        guard !profile.isPassThrough || learned != nil || !add.isEmpty else {
            // Unshaped: the betas sent are the client's (what an `invalid beta flag` can take away).
            sentBetas = clientBetas
            return
        }
        let result = request.body.withUnsafeBytes {
            BedrockRequestShaper.shape($0, profile: profile, learned: learned, addBetas: add)
        }
        if let body = result.body { request.body = body }
        removed = BedrockNotes(result.removed)
        sentBetas = result.sentBetas
    }

    public func learnFromRejection(status: Int, body: [UInt8]) -> RejectionRetry? {
        // `profile: none` sends the body as translated and takes the upstream's answer as it is.
        guard let profile = options.profile, !profile.isPassThrough, let healing = options.healing,
            let rejection = BedrockRejection.parse(status: status, body: body)
        else { return nil }
        let learned = healing.learn(rejection, model: upstreamModel, sentBetas: sentBetas, profile: profile)
        // Retry when this request was shaped with less than is known now (another request may have
        // learned the same thing a moment earlier).
        guard learned != nil || healing.rejections(for: upstreamModel) != shapedWith else { return nil }
        return RejectionRetry(learned: learned, model: upstreamModel)
    }

    /// `/v1/bedrock/model/<id>/invoke` → `/v1/bedrock/model/<id>`: one key per upstream model.
    static func modelKey(_ path: String) -> String {
        let u = path.utf8
        guard let slash = u.lastIndex(of: UInt8(ascii: "/")) else { return path }
        return String(path[..<slash])
    }

    /// The general translation: every request, every error message (the fast path's reference).
    func generalUpstreamRequest(for request: ClientRequest) throws(APIError) -> UpstreamRequest {
        let body = request.body
        let result: Result<UpstreamRequest, APIError> = body.withUnsafeBytes { buffer in
            do throws(APIError) { return .success(try translate(buffer, beta: request.anthropicBeta)) } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    private func translate(_ buffer: UnsafeRawBufferPointer, beta: [String]) throws(APIError) -> UpstreamRequest {
        let scan: JSONObjectScan
        do throws(JSONError) {
            scan = try JSONObjectScanner.scan(buffer)
        } catch {
            throw .invalidRequest("request body is not valid JSON: \(error.message) at byte \(error.offset)")
        }
        guard let model = scan.first("model") else { throw .invalidRequest("model: Field required") }
        guard model.kind == .string, var modelName = JSONObjectScanner.decodeString(buffer, at: model.valueRange),
            !modelName.isEmpty
        else { throw .invalidRequest("model: must be a non-empty string") }
        let longContext = modelName.count > 4 && modelName.lowercased().hasSuffix("[1m]")
        if longContext { modelName.removeLast(4) }
        guard let messages = scan.first("messages") else { throw .invalidRequest("messages: Field required") }
        guard messages.kind == .array else { throw .invalidRequest("messages: must be an array") }
        guard let maxTokens = scan.first("max_tokens") else { throw .invalidRequest("max_tokens: Field required") }
        guard maxTokens.kind == .number else { throw .invalidRequest("max_tokens: must be an integer") }
        var stream = false
        if let s = scan.first("stream") {
            switch s.kind {
            case .bool: stream = buffer[s.valueRange.lowerBound] == UInt8(ascii: "t")
            case .null: stream = false
            default: throw .invalidRequest("stream: must be a boolean")
            }
        }

        var edit = JSONEdit()
        edit.remove("model")
        edit.remove("stream")
        // A client's anthropic_version (even repeated) is dropped and Bedrock's appended once.
        edit.remove("anthropic_version")
        var versionRaw: [UInt8] = []
        JSON.writeString(Self.bedrockVersion, to: &versionRaw)
        edit.append("anthropic_version", rawValue: versionRaw)
        if let newMessages = try Self.textBlockMessages(buffer, messages.valueRange) {
            edit.replace("messages", rawValue: newMessages)
        }
        if !beta.isEmpty {
            var merged: [String] = []
            if let existing = scan.first("anthropic_beta") {
                if let list = (try? JSONParser.parse(UnsafeRawBufferPointer(rebasing: buffer[existing.valueRange])))?
                    .arrayValue
                {
                    for v in list { if let s = v.stringValue, !merged.contains(s) { merged.append(s) } }
                } else if let s = JSONObjectScanner.decodeString(buffer, at: existing.valueRange) {
                    for part in s.split(separator: ",") {
                        let t = String(part.trimmingWhitespace())
                        if !t.isEmpty && !merged.contains(t) { merged.append(t) }
                    }
                }
            }
            for b in beta where !b.isEmpty && !merged.contains(b) { merged.append(b) }
            let raw = JSON.array(merged.map { .string($0) }).bytes
            if scan.contains("anthropic_beta") {
                edit.replace("anthropic_beta", rawValue: raw)
            } else {
                edit.append("anthropic_beta", rawValue: raw)
            }
        }
        var out: [UInt8] = []
        edit.apply(to: buffer, scan: scan, into: &out)
        let path = BedrockModelID.path(
            template: options.upstreamPath, model: modelName, aliases: options.modelAliases, stream: stream)
        var request = UpstreamRequest(
            path: path, body: out, stream: stream, accept: stream ? "text/event-stream" : "application/json")
        request.longContext = longContext
        request.clientModel = model.valueRange
        return request
    }

    /// The messages array with every string `content` turned into `[{"type":"text","text":...}]` (the
    /// string's bytes copied as written), or nil when no message needs it.
    static func textBlockMessages(_ buffer: UnsafeRawBufferPointer, _ range: Range<Int>) throws(APIError) -> [UInt8]? {
        let elements: [Range<Int>]
        do throws(JSONError) {
            elements = try JSONObjectScanner.arrayElements(buffer, in: range)
        } catch {
            throw .invalidRequest("messages: \(error.message) at byte \(error.offset)")
        }
        var replacements: [Range<Int>] = []
        for (index, element) in elements.enumerated() {
            guard buffer[element.lowerBound] == 0x7B else {
                throw .invalidRequest("messages.\(index): must be an object")
            }
            guard let scan = try? JSONObjectScanner.scan(buffer, in: element) else {
                throw .invalidRequest("messages.\(index): must be an object")
            }
            for m in scan.members where m.key == "content" && m.kind == .string { replacements.append(m.valueRange) }
        }
        guard !replacements.isEmpty else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(range.count + replacements.count * 32)
        var at = range.lowerBound
        for r in replacements {
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[at..<r.lowerBound]))
            out.append(contentsOf: #"[{"type":"text","text":"#.utf8)
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[r]))
            out.append(contentsOf: "}]".utf8)
            at = r.upperBound
        }
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[at..<range.upperBound]))
        return out
    }

    // MARK: Response

    public func clientResponse(status: Int, contentType: String?, body: [UInt8], retryAfter: String?) -> ClientResponse {
        guard (200..<300).contains(status) else {
            return UpstreamErrorBody.anthropicError(status: status, body: body, retryAfter: retryAfter)
                .response(for: .anthropicMessages)
        }
        let out = Self.strippingMetrics(body) ?? body
        return ClientResponse(status: status, contentType: "application/json", body: out)
    }

    /// `body` without a top-level `amazon-bedrock-invocationMetrics`, or nil when there is none (or the body
    /// is not a JSON object).
    static func strippingMetrics(_ body: [UInt8]) -> [UInt8]? {
        body.withUnsafeBytes { buffer -> [UInt8]? in
            guard let scan = try? JSONObjectScanner.scan(buffer), scan.contains(metricsKey) else { return nil }
            var edit = JSONEdit()
            edit.remove(metricsKey)
            var out: [UInt8] = []
            edit.apply(to: buffer, scan: scan, into: &out)
            return out
        }
    }
}

extension Substring {
    func trimmingWhitespace() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return s
    }
}
