/// libFuzzer target: the byte-level request fast paths (Anthropic→Bedrock, OpenAI→Bedrock, Anthropic→OpenAI)
/// against the general mappings they shortcut.
/// Whenever a fast path answers, the general mapping must accept the same body (and `anthropic-beta`
/// values) and produce the same upstream path, body bytes and stream flags. Control byte 0 picks the
/// header values; the payload is the client body, read by both translators.
@testable import Providers

private let anthropicOptions = TranslationOptions(
    upstreamPath: "/v1/bedrock/model/{model}/{action}", modelAliases: ["alias": "anthropic.claude-x-v1:0"])
private let openAIOptions = TranslationOptions(
    upstreamPath: "/model/{model}/{action}", defaultMaxTokens: 4096, modelAliases: ["alias": "anthropic.claude-x-v1:0"])
private let chatOptions = TranslationOptions(
    upstreamPath: "/v1/chat/completions", modelAliases: ["alias": "gpt-5", "sonnet": "gpt-5-mini"])
private let betas: [[String]] = [[], ["claude-code-20250219"], ["a", "a", "", "b"], [""], ["q\"\\\u{1}é"]]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    let body = Array(input.payload)
    let beta = betas[size > 0 ? Int(data[0] & 0x7F) % betas.count : 0]

    if let fast = body.withUnsafeBytes({ AnthropicToBedrockFastPath.translate($0, options: anthropicOptions, beta: beta) }) {
        do throws(APIError) {
            let general = try AnthropicToBedrockTranslator(options: anthropicOptions)
                .generalUpstreamRequest(for: ClientRequest(body: body, anthropicBeta: beta))
            if general.body != fast.body || general.path != fast.path || general.stream != fast.stream
                || general.accept != fast.accept
            {
                fuzzFail("Anthropic fast path differs (beta \(beta)):\n  fast    \(String(decoding: fast.body, as: UTF8.self)) \(fast.path)\n  general \(String(decoding: general.body, as: UTF8.self)) \(general.path)")
            }
        } catch {
            fuzzFail("Anthropic fast path answered a request the general path refuses: \(error.message)")
        }
    }

    if let fast = ChatRequestFastPath.map(body, options: openAIOptions) {
        do throws(APIError) {
            let general = try ChatRequestMapping(body, options: openAIOptions)
            let generalBody = general.body.bytes
            if generalBody != fast.body || general.path != fast.path || general.model != fast.model
                || general.stream != fast.stream || general.includeUsage != fast.includeUsage
            {
                fuzzFail("OpenAI fast path differs:\n  fast    \(String(decoding: fast.body, as: UTF8.self)) \(fast.path)\n  general \(String(decoding: generalBody, as: UTF8.self)) \(general.path)")
            }
        } catch {
            fuzzFail("OpenAI fast path answered a request the mapping refuses: \(error.message)")
        }
    }
    let adjustments = size > 0 && data[0] & 0x80 != 0
        ? UpstreamAdjustments(dropped: ["temperature", "reasoning_effort"], maxTokensCap: 1000) : UpstreamAdjustments()
    if let fast = MessagesRequestFastPath.translate(body, options: chatOptions, adjustments: adjustments) {
        do throws(APIError) {
            let general = try MessagesRequestMapping(body, options: chatOptions, adjustments: adjustments)
            let generalBody = general.body.bytes
            if generalBody != fast.request.body || general.stream != fast.request.stream
                || general.removed.list != fast.removed || SentHints(body: general.body) != fast.sent
                || general.upstreamModel != fast.upstreamModel || general.model != fast.model
            {
                fuzzFail("Anthropic→OpenAI fast path differs:\n  fast    \(String(decoding: fast.request.body, as: UTF8.self)) \(fast.removed)\n  general \(String(decoding: generalBody, as: UTF8.self)) \(general.removed.list)")
            }
        } catch {
            fuzzFail("Anthropic→OpenAI fast path answered a request the mapping refuses: \(error.message)")
        }
    }
    return 0
}
