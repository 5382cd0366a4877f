import Providers

/// One entry of the models list served by the routes' models endpoints (YAML `models:`).
package struct ModelConfig: Sendable, Equatable {
    /// `id`: what clients put in `model`.
    package var id: String
    /// `owned_by` (OpenAI list shape). Default `system`.
    package var ownedBy: String
    /// `created`: Unix seconds (OpenAI list shape; Anthropic's `created_at` is rendered from it). Default 0.
    package var created: Int
    /// `display_name` (Anthropic list shape); nil means "use the id".
    package var displayName: String?
    /// `dialects`: the **egress** dialects of the routes whose models endpoint lists this model, e.g.
    /// `[openai-chat]` for a GPT model, `[bedrock-anthropic]` for Claude (listed both by the Claude
    /// route and by the OpenAI→Bedrock translation route). nil lists it everywhere.
    /// Use `ProxyConfig.models(for:)` to apply it.
    package var dialects: [Dialect]?

    package init(id: String, ownedBy: String = "system", created: Int = 0, displayName: String? = nil,
                dialects: [Dialect]? = nil) {
        self.id = id
        self.ownedBy = ownedBy
        self.created = created
        self.displayName = displayName
        self.dialects = dialects
    }
}
