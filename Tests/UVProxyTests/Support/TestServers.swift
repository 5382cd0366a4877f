import Foundation
@testable import UVProxy
@testable import MockGateway

/// A mock upstream and a proxy on ephemeral loopback ports, stopped at the end of a test.
final class TestStack {
    let mock: MockServer
    let proxy: ProxyServer
    var proxyPort: Int { proxy.port }

    /// `yaml` may use `MOCK_URL` for the mock's base URL.
    init(yaml: String, mockTLS: (cert: String, key: String)? = nil, mockHost: String = "127.0.0.1",
         environment: [String: String] = [:], mockRules: MockBedrockRules = MockBedrockRules()) throws {
        mock = try MockServer(host: mockHost, port: 0, tlsCertificate: mockTLS?.cert, tlsKey: mockTLS?.key, rules: mockRules)
        mock.start()
        let scheme = mockTLS == nil ? "http" : "https"
        let text = yaml.replacingOccurrences(of: "MOCK_URL", with: "\(scheme)://\(mockHost):\(mock.port)")
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        let config = try ConfigLoader.parse(yaml: text, environment: env)
        proxy = try ProxyServer(config: config, listen: HostPort(host: "127.0.0.1", port: 0))
        try proxy.start()
    }

    func client() throws -> RawHTTPClient { try RawHTTPClient(port: proxyPort) }

    func stop() {
        proxy.stop(graceMs: 1000)
        proxy.wait()
        mock.stop()
    }

    static let basicConfig = """
    listen: 127.0.0.1:0
    access_log: false
    upstreams:
      mock:
        url: MOCK_URL
        headers: { X-Atlassian-CloudId: cloud-1 }
    routes:
      - { path: /openai/v1/chat/completions, upstream: mock, ingress: openai-chat, egress: openai-chat,
          upstream_path: /v1/openai/v1/chat/completions, rename_max_tokens: true }
      - { path: /openai/v1/responses, upstream: mock, ingress: passthrough, egress: passthrough,
          upstream_path: /v1/openai/v1/responses }
      - { path: /google/*, upstream: mock, ingress: passthrough, egress: passthrough, upstream_path: /v1/google/ }
      - { path: /bedrock/claude/v1/messages, upstream: mock, ingress: anthropic-messages, egress: bedrock-anthropic }
      - { path: /provider/bedrock/format/openai/v1/chat/completions, upstream: mock, ingress: openai-chat,
          egress: bedrock-anthropic }
    models:
      - { id: gpt-5, owned_by: openai }
    """
}

/// A proxy on an ephemeral loopback port from a YAML config, started; the caller stops it.
func startProxy(_ yaml: String) throws -> ProxyServer {
    let proxy = try ProxyServer(config: try ConfigLoader.parse(yaml: yaml, environment: [:]),
                                listen: HostPort(host: "127.0.0.1", port: 0))
    try proxy.start()
    return proxy
}
