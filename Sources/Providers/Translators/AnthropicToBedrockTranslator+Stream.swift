/// The stream half: upstream SSE (data-only or with `event:` lines) → standard Anthropic SSE.
extension AnthropicToBedrockTranslator {
    public var streamContentType: String { "text/event-stream" }

    public func streamChunk(_ bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        guard !finished else { return }
        do throws(SSEDecoderError) {
            try decoder.feed(bytes) { event in handle(event, into: &out) }
        } catch {
            fail(APIError.badGateway("upstream stream event too large: \(error.message)"), into: &out)
        }
    }

    public func streamEnd(into out: inout [UInt8]) {
        guard !finished else { return }
        decoder.finish { event in handle(event, into: &out) }
        guard !finished else { return }
        if !sawMessageStop {
            fail(APIError.badGateway("upstream stream ended before message_stop"), into: &out)
        }
        finished = true
    }

    public func streamFail(_ error: APIError, into out: inout [UInt8]) {
        fail(error, into: &out)
    }

    public func keepAlive(into out: inout [UInt8]) {
        out.append(contentsOf: "event: ping\ndata: {\"type\": \"ping\"}\n\n".utf8)
    }

    private func fail(_ error: APIError, into out: inout [UInt8]) {
        guard !finished else { return }
        finished = true
        error.writeAnthropicStreamError(into: &out)
    }

    /// One upstream event → one client event. The upstream's `event:` name is ignored: the JSON `type` is
    /// the truth (AI-Gateway sends none).
    private func handle(_ event: SSEEvent, into out: inout [UInt8]) {
        guard !finished else { return }
        event.data.withUnsafeBytes { data in
            // One validating scan that notes only the two members this needs: no key strings, no list.
            var fields = StreamEventFields(bytes: data)
            guard (try? JSONObjectScanner.scanMembers(data, into: &fields)) != nil else {
                return fail(APIError.badGateway("upstream sent an invalid stream event"), into: &out)
            }
            guard let type = fields.type, type.kind == .string, type.valueRange.count > 2 else {
                // A Bedrock exception (`{"message":...}`) or something else without a type.
                let parsed = UpstreamErrorBody.parse(status: 502, body: event.data)
                let message = parsed.message == "upstream returned HTTP 502"
                    ? "upstream sent a stream event without a type" : parsed.message
                return fail(APIError(status: 500, type: "api_error", message: message), into: &out)
            }
            let name = UnsafeRawBufferPointer(
                rebasing: data[(type.valueRange.lowerBound + 1)..<(type.valueRange.upperBound - 1)])
            // Event names are plain identifiers; an escaped one cannot be written safely on an event: line.
            for c in name where c == 0x5C {
                return fail(APIError.badGateway("upstream sent an invalid stream event type"), into: &out)
            }
            if fields.hasMetrics, let scan = try? JSONObjectScanner.scan(data) {
                var edit = JSONEdit()
                edit.remove(Self.metricsKey)
                var stripped: [UInt8] = []
                edit.apply(to: data, scan: scan, into: &stripped)
                stripped.withUnsafeBytes { SSEEncoder.event(name: name, data: $0, into: &out) }
            } else {
                SSEEncoder.event(name: name, data: data, into: &out)
            }
            if Self.equals(name, "message_stop") {
                sawMessageStop = true
            } else if Self.equals(name, "error") {
                finished = true
            }
        }
    }

    private static func equals(_ bytes: UnsafeRawBufferPointer, _ s: StaticString) -> Bool {
        guard bytes.count == s.utf8CodeUnitCount else { return false }
        let p = s.utf8Start
        for i in 0..<bytes.count where bytes[i] != p[i] { return false }
        return true
    }
}

/// The members of an upstream stream event that the translation reads: the first `type`, and whether
/// Bedrock's metrics member is present (then, and only then, the event is scanned again to edit it).
private struct StreamEventFields: JSONMemberVisitor {
    let bytes: UnsafeRawBufferPointer
    var type: JSONMemberSpan?
    var hasMetrics = false

    mutating func member(_ m: JSONMemberSpan) {
        if type == nil, m.keyIs("type", in: bytes) {
            type = m
        } else if m.keyIs("amazon-bedrock-invocationMetrics", in: bytes) {
            hasMetrics = true
        }
    }
}
