/// Makes the translator for a route's (ingress → egress) pair. `nil`: the pair is not supported (the
/// config check rejects such routes; `passthrough` routes need no translator).
public enum Translators {
    public static func make(ingress: Dialect, egress: Dialect, options: TranslationOptions) -> (any ExchangeTranslator)? {
        switch (ingress, egress) {
        case (.openAIChat, .openAIChat): return OpenAIPassthroughTranslator(options: options)
        case (.anthropicMessages, .bedrockAnthropic): return AnthropicToBedrockTranslator(options: options)
        case (.openAIChat, .bedrockAnthropic): return OpenAIToBedrockTranslator(options: options)
        case (.openAIResponses, .bedrockAnthropic): return ResponsesToBedrockTranslator(options: options)
        case (.anthropicMessages, .openAIChat): return AnthropicToOpenAITranslator(options: options)
        default: return nil
        }
    }
}
