// Providers micro-benchmark, built outside SwiftPM (see run.sh) and measured with callgrind:
// `pbench <op> <iterations>` runs one operation `iterations` times. run.sh runs each op with 0 and N
// iterations and reports (Ir(N) - Ir(0)) / N, the instructions per operation.

let openAIBody = Array(#"{"model":"gpt-5","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello in five words."}],"max_tokens":64,"temperature":0.2}"#.utf8)

let openAIReply = Array(#"""
{"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion","created":1741569952,"model":"gpt-5-2025-08-07","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there, how are you?","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_50cad350e4","extra":"padding to make this body about six hundred and eighty bytes long, as a typical reply is............."}
"""#.utf8)

let openAIChunk = Array(#"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741569952,"model":"gpt-5","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}"#.utf8) + [0x0A, 0x0A]

let anthropicBody = Array(#"{"model":"claude-sonnet-4-5","max_tokens":64,"system":"You are terse.","messages":[{"role":"user","content":"Say hello in five words."}],"temperature":0.2,"stream":true}"#.utf8)

let anthropicDelta = Array(#"event: content_block_delta\#ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}\#n\#n"#.utf8)
let anthropicStart = Array(#"event: message_start\#ndata: {"type":"message_start","message":{"id":"msg_bdrk_01","type":"message","role":"assistant","model":"claude-3-7-sonnet-20250219","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":30,"output_tokens":1}}}\#n\#n"#.utf8)

let anthropicReply = Array(#"""
{"id":"msg_bdrk_01XyZabcdEFGhijkLMNop","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Hello there! It is nice to meet you. How can I help you today? I can answer questions, write and review code, summarise documents, or just chat about whatever is on your mind."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":19,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":42,"service_tier":"standard"},"extra":"padding to make this body about six hundred bytes long.............."}
"""#.utf8)

let options = TranslationOptions(upstreamPath: "/v1/chat/completions", renameMaxTokens: true)
let bedrockOptions = TranslationOptions(upstreamPath: "/model/{model}/{action}")

@inline(never) func sink<T>(_ x: T) { withExtendedLifetime(x) {} }

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
        default:
            print("unknown op \(op)")
        }
        sink(out)
    }
}
