// Providers micro-benchmark, built outside SwiftPM (see run.sh) and measured with callgrind:
// `pbench <op> <iterations>` runs one operation `iterations` times. run.sh runs each op with 0 and N
// iterations and reports (Ir(N) - Ir(0)) / N, the instructions per operation.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let openAIBody = Array(#"{"model":"gpt-5","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello in five words."}],"max_tokens":64,"temperature":0.2}"#.utf8)

let openAIReply = Array(#"""
{"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion","created":1741569952,"model":"gpt-5-2025-08-07","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there, how are you?","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_50cad350e4","extra":"padding to make this body about six hundred and eighty bytes long, as a typical reply is............."}
"""#.utf8)

let openAIChunk = Array(#"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741569952,"model":"gpt-5","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}"#.utf8) + [0x0A, 0x0A]

let anthropicBody = Array(#"{"model":"claude-sonnet-4-5","max_tokens":64,"system":"You are terse.","messages":[{"role":"user","content":"Say hello in five words."}],"temperature":0.2,"stream":true}"#.utf8)

let anthropicDelta = Array(#"event: content_block_delta\#ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}\#n\#n"#.utf8)
let anthropicStart = Array(#"event: message_start\#ndata: {"type":"message_start","message":{"id":"msg_bdrk_01","type":"message","role":"assistant","model":"claude-3-7-sonnet-20250219","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":30,"output_tokens":1}}}\#n\#n"#.utf8)

let anthropicTextStart = Array(#"event: content_block_start\#ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\#n\#n"#.utf8)

let responsesBody = Array(#"{"model":"claude-sonnet-4-5","instructions":"You are terse.","input":[{"role":"user","content":"Say hello in five words."}],"max_output_tokens":64,"temperature":0.2,"store":false,"stream":true}"#.utf8)

let anthropicReply = Array(#"""
{"id":"msg_bdrk_01XyZabcdEFGhijkLMNop","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Hello there! It is nice to meet you. How can I help you today? I can answer questions, write and review code, summarise documents, or just chat about whatever is on your mind."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":19,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":42,"service_tier":"standard"},"extra":"padding to make this body about six hundred bytes long.............."}
"""#.utf8)

let options = TranslationOptions(upstreamPath: "/v1/chat/completions", renameMaxTokens: true)
let bedrockOptions = TranslationOptions(upstreamPath: "/model/{model}/{action}")

/// The Claude Code-sized request (`*.claude-code` ops): the body `bench/claude_code_request.py` writes, read
/// from the file named by PBENCH_CC_BODY, and the `anthropic-beta` header Claude Code sent with the capture it
/// is built from (PBENCH_CC_BETA overrides it, comma-separated).
func claudeCodeBody() -> [UInt8]? { bodyFile("PBENCH_CC_BODY") }

/// The bytes of the file named by the environment variable `name` (nil: unset, unreadable or empty).
func bodyFile(_ name: String) -> [UInt8]? {
    guard let path = getenv(name), let file = fopen(path, "rb") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = fread(&chunk, 1, chunk.count, file)
        if n <= 0 { break }
        bytes += chunk[0..<n]
    }
    return bytes.isEmpty ? nil : bytes
}

let claudeCodeBetas: [String] = {
    let header = getenv("PBENCH_CC_BETA").map { String(cString: $0) }
        ?? "claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27,per-turn-control-2026-07-01,mid-conversation-tool-changes-2026-07-01,thinking-token-count-2026-05-13,advanced-tool-use-2025-11-20,effort-2025-11-24"
    return header.split(separator: ",").map { String($0) }
}()

/// As the `/bedrock/claude` route has them: the built-in bedrock-claude profile and one healing store for
/// the route (nothing learned: the profile alone cuts the request).
let claudeOnBedrockOptions = TranslationOptions(
    upstreamPath: "/v1/bedrock/model/{model}/{action}", profile: .claudeOnBedrock, healing: BedrockHealing())
let bedrockRouteOptions = TranslationOptions(upstreamPath: "/v1/bedrock/model/{model}/{action}")
/// As the `/provider/openai/format/anthropic` route has them (the mock's AI-Gateway chat path).
let openAIRouteOptions = TranslationOptions(upstreamPath: "/v1/openai/v1/chat/completions")

// The new pairs' stream and whole-response inputs (issue "Any agent on any model"): what each upstream sends.
let responsesRequest = Array(#"{"model":"claude-sonnet-4-5","instructions":"You are terse.","input":[{"role":"user","content":[{"type":"input_text","text":"Say hello in five words."}]}],"max_output_tokens":64,"store":false,"stream":true}"#.utf8)
let anthropicToOpenAIRequest = Array(#"{"model":"gpt-5","max_tokens":64,"system":"You are terse.","messages":[{"role":"user","content":"Say hello in five words."}],"stream":true}"#.utf8)
let openAIFirstChunk = Array(#"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741569952,"model":"gpt-5","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#.utf8) + [0x0A, 0x0A]

@inline(never) func sink<T>(_ x: T) { withExtendedLifetime(x) {} }
/// `x`, hidden from the optimizer (so a pure op on a constant is not hoisted out of the loop).
@inline(never) @_optimize(none) func opaque<T>(_ x: T) -> T { x }

@main
enum Bench {
    static func main() {
        let args = CommandLine.arguments
        guard args.count == 3, let n = Int(args[2]) else {
            print("usage: pbench <op> <iterations>")
            return
        }
        let op = args[1]
        // Set-up outside the loop (the translator is made per request in the proxy, so it is inside
        // the loop for request ops; stream ops reuse one translator, as a stream does).
        var out: [UInt8] = []
        out.reserveCapacity(1 << 16)
        switch op {
        case "passthrough.request":
            for _ in 0..<n {
                let t = OpenAIPassthroughTranslator(options: options)
                sink(try? t.upstreamRequest(for: ClientRequest(body: openAIBody)))
            }
        case "passthrough.response":
            let t = OpenAIPassthroughTranslator(options: options)
            for _ in 0..<n {
                sink(t.clientResponse(status: 200, contentType: "application/json", body: openAIReply, retryAfter: nil))
            }
        case "passthrough.chunk":
            let t = OpenAIPassthroughTranslator(options: options)
            for _ in 0..<n {
                out.removeAll(keepingCapacity: true)
                openAIChunk.withUnsafeBytes { t.streamChunk($0, into: &out) }
            }
        case "usage.json":
            // What the access log and metrics read of a pass-through answer: its usage, stop reason, model.
            for _ in 0..<n {
                sink(opaque(openAIReply).withUnsafeBytes { AnswerReader.json($0, dialect: .openAIChat) })
            }
        case "usage.json.anthropic":
            // The same for an Anthropic answer (the Bedrock route's, ~600 bytes).
            for _ in 0..<n {
                sink(opaque(anthropicReply).withUnsafeBytes { AnswerReader.json($0, dialect: .anthropicMessages) })
            }
        case "usage.chunk":
            // One content chunk of a Chat stream through the stream watcher (no usage in it: the common case).
            var w = StreamWatcher(dialect: .openAIChat)
            for _ in 0..<n {
                openAIChunk.withUnsafeBytes { w.feed($0) }
            }
            sink(w.facts)
        case "anthropic.request":
            for _ in 0..<n {
                let t = AnthropicToBedrockTranslator(options: bedrockOptions)
                sink(try? t.upstreamRequest(for: ClientRequest(body: anthropicBody)))
            }
        case "anthropic.request.beta":
            // What Claude Code sends: an `anthropic-beta` header on every request.
            let beta = ["claude-code-20250219", "interleaved-thinking-2025-05-14", "fine-grained-tool-streaming-2025-05-14"]
            for _ in 0..<n {
                let t = AnthropicToBedrockTranslator(options: bedrockOptions)
                sink(try? t.upstreamRequest(for: ClientRequest(body: anthropicBody, anthropicBeta: beta)))
            }
        case "anthropic.request.claude-code", "anthropic.request.claude-code.noprofile", "passthrough.request.claude-code":
            // The ~120 KB Claude Code request: through the bedrock-claude profile and the translation (the
            // Anthropic route), the translation alone (profile: none), or the OpenAI pass-through check.
            guard let body = claudeCodeBody() else {
                print("set PBENCH_CC_BODY to a file written by bench/claude_code_request.py --out FILE")
                return
            }
            let request = ClientRequest(body: body, anthropicBeta: claudeCodeBetas)
            let make: () -> any ExchangeTranslator = switch op {
            case "anthropic.request.claude-code": { AnthropicToBedrockTranslator(options: claudeOnBedrockOptions) }
            case "anthropic.request.claude-code.noprofile": { AnthropicToBedrockTranslator(options: bedrockRouteOptions) }
            default: { OpenAIPassthroughTranslator(options: options) }
            }
            // Once outside the loop (in the 0-iteration run too, so it cancels out): the request must translate.
            do {
                let t = make()
                let up = try t.upstreamRequest(for: request)
                let removed = (t as? AnthropicToBedrockTranslator)?.removedForUpstream ?? []
                if n == 0 { print("\(op): \(body.count) -> \(up.body.count) bytes, \(up.path); removed: \(removed.joined(separator: "; "))") }
            } catch {
                print("\(op): \(error)")
                return
            }
            for _ in 0..<n {
                sink(try? make().upstreamRequest(for: request))
            }
        case "json.skip.claude-code", "json.skip.scalar.claude-code":
            // The validating skip of the whole Claude Code body (what every route's scan spends on it):
            // `JSONFastScan.value` (the block skip on x86-64) or the byte-at-a-time `scalarValue`.
            guard let body = claudeCodeBody() else {
                print("set PBENCH_CC_BODY to a file written by bench/claude_code_request.py --out FILE")
                return
            }
            let scalar = op == "json.skip.scalar.claude-code"
            func once() -> Int {
                opaque(body).withUnsafeBufferPointer { b in
                    guard let p = b.baseAddress else { return -1 }
                    return scalar
                        ? JSONFastScan.scalarValue(p, b.count, 0, depth: 0, maxDepth: JSONParser.maxDepth)
                        : JSONFastScan.value(p, b.count, 0, depth: 0, maxDepth: JSONParser.maxDepth)
                }
            }
            if n == 0 { print("\(op): \(body.count) bytes, value ends at \(once())") }
            for _ in 0..<n { sink(once()) }
        case "responses-bedrock.request.file", "anthropic-openai.request.file", "json.roundtrip.file",
            "json.parse.file":
            // A body from the file named by PBENCH_BODY (bench/huge_request.py: the Codex- and Claude Code-like
            // requests of 113 KB to 10 MB): the new pairs' request translation, and the floor it is compared
            // with: the same bytes parsed into a `JSON` tree and written back compact (the translators parse
            // the same way), or parsed alone.
            guard let body = bodyFile("PBENCH_BODY") else {
                print("set PBENCH_BODY to a file written by bench/huge_request.py --out FILE")
                return
            }
            let request = ClientRequest(body: body)
            func once() -> [UInt8]? {
                switch op {
                case "responses-bedrock.request.file":
                    return try? ResponsesToBedrockTranslator(options: bedrockRouteOptions, now: { 1 })
                        .upstreamRequest(for: request).body
                case "anthropic-openai.request.file":
                    return try? AnthropicToOpenAITranslator(options: openAIRouteOptions).upstreamRequest(for: request).body
                case "json.roundtrip.file":
                    guard let tree = try? JSONParser.parse(body) else { return nil }
                    var bytes: [UInt8] = []
                    tree.write(to: &bytes)
                    return bytes
                default:
                    guard let tree = try? JSONParser.parse(body) else { return nil }
                    sink(tree)
                    return []
                }
            }
            // Once outside the loop (in the 0-iteration run too, so it cancels out): the request must translate.
            guard let first = once() else {
                let t: any ExchangeTranslator = op.hasPrefix("responses")
                    ? ResponsesToBedrockTranslator(options: bedrockRouteOptions) : AnthropicToOpenAITranslator(options: openAIRouteOptions)
                do { _ = try t.upstreamRequest(for: request) } catch { print("\(op): \(error)") }
                return
            }
            if n == 0 {
                // Which path the request took (the one-scan fast path, or the tree mapping).
                var path = ""
                if op == "anthropic-openai.request.file" {
                    let t = AnthropicToOpenAITranslator(options: openAIRouteOptions)
                    _ = try? t.upstreamRequest(for: request)
                    path = t.tookFastPath ? " (fast path)" : " (tree mapping)"
                } else if op == "responses-bedrock.request.file" {
                    let t = ResponsesToBedrockTranslator(options: bedrockRouteOptions, now: { 1 })
                    _ = try? t.upstreamRequest(for: request)
                    path = t.tookFastPath ? " (fast path)" : " (tree mapping)"
                }
                print("\(op): \(body.count) -> \(first.count) bytes\(path)")
            }
            for _ in 0..<n { sink(once()) }
        case "responses-bedrock.event":
            // One Anthropic text delta → `response.output_text.delta`.
            let t = ResponsesToBedrockTranslator(options: bedrockRouteOptions, now: { 1 })
            _ = try? t.upstreamRequest(for: ClientRequest(body: responsesRequest))
            anthropicStart.withUnsafeBytes { t.streamChunk($0, into: &out) }
            for _ in 0..<n {
                out.removeAll(keepingCapacity: true)
                anthropicDelta.withUnsafeBytes { t.streamChunk($0, into: &out) }
            }
        case "responses-bedrock.response":
            let t = ResponsesToBedrockTranslator(options: bedrockRouteOptions, now: { 1 })
            _ = try? t.upstreamRequest(for: ClientRequest(body: responsesRequest))
            for _ in 0..<n {
                sink(t.clientResponse(status: 200, contentType: "application/json", body: anthropicReply, retryAfter: nil))
            }
        case "anthropic-openai.event":
            // One OpenAI content chunk → `content_block_delta`.
            let t = AnthropicToOpenAITranslator(options: openAIRouteOptions)
            _ = try? t.upstreamRequest(for: ClientRequest(body: anthropicToOpenAIRequest))
            openAIFirstChunk.withUnsafeBytes { t.streamChunk($0, into: &out) }
            openAIChunk.withUnsafeBytes { t.streamChunk($0, into: &out) }
            for _ in 0..<n {
                out.removeAll(keepingCapacity: true)
                openAIChunk.withUnsafeBytes { t.streamChunk($0, into: &out) }
            }
        case "anthropic-openai.response":
            let t = AnthropicToOpenAITranslator(options: openAIRouteOptions)
            _ = try? t.upstreamRequest(for: ClientRequest(body: anthropicToOpenAIRequest))
            for _ in 0..<n {
                sink(t.clientResponse(status: 200, contentType: "application/json", body: openAIReply, retryAfter: nil))
            }
        case "anthropic.event":
            let t = AnthropicToBedrockTranslator(options: bedrockOptions)
            anthropicStart.withUnsafeBytes { t.streamChunk($0, into: &out) }
            for _ in 0..<n {
                out.removeAll(keepingCapacity: true)
                anthropicDelta.withUnsafeBytes { t.streamChunk($0, into: &out) }
            }
        case "openai-bedrock.request":
            for _ in 0..<n {
                let t = OpenAIToBedrockTranslator(options: bedrockOptions, now: { 1 })
                sink(try? t.upstreamRequest(for: ClientRequest(body: openAIBody)))
            }
        case "openai-bedrock.response":
            let t = OpenAIToBedrockTranslator(options: bedrockOptions, now: { 1 })
            _ = try? t.upstreamRequest(for: ClientRequest(body: openAIBody))
            for _ in 0..<n {
                sink(t.clientResponse(status: 200, contentType: "application/json", body: anthropicReply, retryAfter: nil))
            }
        case "openai-bedrock.event":
            let t = OpenAIToBedrockTranslator(options: bedrockOptions, now: { 1 })
            _ = try? t.upstreamRequest(for: ClientRequest(body: openAIBody))
            anthropicStart.withUnsafeBytes { t.streamChunk($0, into: &out) }
            for _ in 0..<n {
                out.removeAll(keepingCapacity: true)
                anthropicDelta.withUnsafeBytes { t.streamChunk($0, into: &out) }
            }
        case "responses-bedrock.request":
            for _ in 0..<n {
                let t = ResponsesToBedrockTranslator(options: bedrockOptions, now: { 1 })
                sink(try? t.upstreamRequest(for: ClientRequest(body: responsesBody)))
            }
        case "responses-bedrock.event":
            let t = ResponsesToBedrockTranslator(options: bedrockOptions, now: { 1 })
            _ = try? t.upstreamRequest(for: ClientRequest(body: responsesBody))
            anthropicStart.withUnsafeBytes { t.streamChunk($0, into: &out) }
            anthropicTextStart.withUnsafeBytes { t.streamChunk($0, into: &out) }
            for _ in 0..<n {
                out.removeAll(keepingCapacity: true)
                anthropicDelta.withUnsafeBytes { t.streamChunk($0, into: &out) }
            }
        case "anthropic-openai.request":
            for _ in 0..<n {
                let t = AnthropicToOpenAITranslator(options: options)
                sink(try? t.upstreamRequest(for: ClientRequest(body: anthropicBody)))
            }
        case "anthropic-openai.event":
            let t = AnthropicToOpenAITranslator(options: options)
            _ = try? t.upstreamRequest(for: ClientRequest(body: anthropicBody))
            openAIChunk.withUnsafeBytes { t.streamChunk($0, into: &out) }
            for _ in 0..<n {
                out.removeAll(keepingCapacity: true)
                openAIChunk.withUnsafeBytes { t.streamChunk($0, into: &out) }
            }
        default:
            print("unknown op \(op)")
        }
        sink(out)
    }
}
