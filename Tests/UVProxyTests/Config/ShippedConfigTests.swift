import Providers
import XCTest

@testable import UVProxy

/// The two files under config/ are documentation users copy: they must load, with and without env.
final class ShippedConfigTests: XCTestCase {
    let gatewayPath = ConfigFixtures.packageRoot.appendingPathComponent("config/ai-gateway.yaml").path
    let demoPath = ConfigFixtures.packageRoot.appendingPathComponent("config/demo.yaml").path

    func testAIGatewayWithEnvironmentUnset() throws {
        let config = try ConfigLoader.load(path: gatewayPath, environment: [:])
        XCTAssertEqual(config.listen, HostPort(host: "127.0.0.1", port: 3001))
        XCTAssertEqual(config.inboundKeys, [])
        let gw = try XCTUnwrap(config.upstreams["ai-gateway"])
        XCTAssertEqual(gw.url, UpstreamURL(scheme: "https", host: "ai-gateway.us-east-1.staging.atl-paas.net",
                                           port: 443, basePath: ""))
        XCTAssertNil(gw.caFile)
        XCTAssertFalse(gw.insecureSkipVerify)
        XCTAssertTrue(gw.headers.isEmpty, "unset header variables drop the headers")
        let auth = try XCTUnwrap(gw.auth)
        XCTAssertEqual(auth.header, "Authorization")
        XCTAssertEqual(auth.prefix, "slauth ")
        XCTAssertEqual(auth.source, .command(.shell("atlas slauth token -g atlassian-all --aud ai-gateway -e staging")))
        XCTAssertNil(auth.token)
        XCTAssertEqual(auth.commandTimeout, 20_000)
        XCTAssertEqual(auth.refreshSkew, 30_000)
        XCTAssertEqual(auth.ttl, 300_000)
        XCTAssertEqual(gw.timeouts, UpstreamTimeouts(connect: 10_000, tlsHandshake: 10_000, firstByte: 600_000,
                                                     idle: 300_000, total: 0))
        XCTAssertTrue(config.warnings.contains(
            "upstreams.ai-gateway.headers.X-Atlassian-CloudId: value is empty, header not sent"))
        XCTAssertTrue(config.warnings.contains(
            "upstreams.ai-gateway.headers.X-Atlassian-UseCaseId: value is empty, header not sent"))

        XCTAssertEqual(config.routes.map(\.path), [
            "/openai/v1/chat/completions", "/openai/v1/responses", "/bedrock/claude/v1/messages",
            "/provider/bedrock/format/openai/v1/chat/completions", "/provider/bedrock/format/openai/v1/responses",
            "/provider/openai/format/anthropic/v1/messages",
        ])
        XCTAssertEqual(config.routes[4].ingress, .openAIResponses)
        XCTAssertEqual(config.routes[4].modelAliases, config.routes[2].modelAliases)
        XCTAssertEqual(config.routes[5].egress, .openAIChat)
        XCTAssertEqual(config.routes[5].modelAliases["claude-opus-5-5"], "gpt-5")
        let chat = config.routes[0]
        XCTAssertEqual(chat.ingress, .openAIChat)
        XCTAssertEqual(chat.egress, .openAIChat)
        XCTAssertEqual(chat.upstreamPath, "/v1/openai/v1/chat/completions")
        XCTAssertEqual(chat.methods, ["POST"])
        XCTAssertTrue(chat.renameMaxTokens)
        XCTAssertNil(chat.cors)
        XCTAssertEqual(chat.modelsPath, "/openai/v1/models")
        XCTAssertEqual(config.models(for: chat).map(\.id), ["gpt-5", "gpt-5-mini", "gpt-4.1"])

        let responses = config.routes[1]
        XCTAssertEqual(responses.ingress, .passthrough)
        XCTAssertEqual(responses.egress, .passthrough)
        XCTAssertEqual(responses.upstreamPath, "/v1/openai/v1/responses")
        XCTAssertEqual(responses.methods, RouteConfig.allMethods)

        let claude = config.routes[2]
        XCTAssertEqual(claude.ingress, .anthropicMessages)
        XCTAssertEqual(claude.egress, .bedrockAnthropic)
        XCTAssertEqual(claude.upstreamPath, "/v1/bedrock/model/{model}/{action}")
        XCTAssertEqual(claude.modelAliases["claude-sonnet-4-5"], "us.anthropic.claude-sonnet-4-5-20250929-v1:0")
        XCTAssertEqual(claude.cors, CORSConfig())
        XCTAssertEqual(claude.modelsPath, "/bedrock/claude/v1/models")
        XCTAssertEqual(claude.keepAliveInterval, 15_000)

        let translate = config.routes[3]
        XCTAssertEqual(translate.ingress, .openAIChat)
        XCTAssertEqual(translate.egress, .bedrockAnthropic)
        XCTAssertEqual(translate.upstreamPath, "/v1/bedrock/model/{model}/{action}")
        XCTAssertEqual(translate.modelAliases, claude.modelAliases, "the YAML alias shares the table")
        XCTAssertEqual(translate.defaultMaxTokens, 4096)
        XCTAssertNotNil(translate.cors)
        XCTAssertEqual(translate.modelsPath, "/provider/bedrock/format/openai/v1/models")
        XCTAssertEqual(config.models(for: translate).map(\.id), config.models(for: claude).map(\.id))
        XCTAssertTrue(config.models(for: claude).allSatisfy { $0.id.hasPrefix("claude") })
        XCTAssertEqual(config.models.first { $0.id == "claude-sonnet-4-5" }?.displayName, "Claude Sonnet 4.5")
    }

    func testAIGatewayWithEnvironmentSet() throws {
        let env = [
            "AI_GATEWAY_URL": "https://ai-gateway.us-east-1.prod.atl-paas.net/",
            "AI_GATEWAY_CA_FILE": "/etc/ssl/corp.pem",
            "AI_GATEWAY_TOKEN_COMMAND": "cat /run/secrets/token",
            "ATLASSIAN_CLOUD_ID": "cloud-123",
            "AI_GATEWAY_USE_CASE_ID": "use-case-9",
            "MINI_PROXY_LISTEN": "0.0.0.0:8080",
            "MINI_PROXY_API_KEY": "sk-inbound-test",
        ]
        let config = try ConfigLoader.load(path: gatewayPath, environment: env)
        XCTAssertEqual(config.listen, HostPort(host: "0.0.0.0", port: 8080))
        XCTAssertEqual(config.inboundKeys, ["sk-inbound-test"])
        XCTAssertFalse(config.warnings.contains { $0.hasPrefix("listen:") }, "keys are set: no public warning")
        let gw = try XCTUnwrap(config.upstreams["ai-gateway"])
        XCTAssertEqual(gw.url.host, "ai-gateway.us-east-1.prod.atl-paas.net")
        XCTAssertEqual(gw.url.basePath, "")
        XCTAssertEqual(gw.caFile, "/etc/ssl/corp.pem")
        XCTAssertEqual(gw.headers.map(\.name), ["X-Atlassian-CloudId", "X-Atlassian-UseCaseId"])
        XCTAssertEqual(gw.headers.map(\.value), ["cloud-123", "use-case-9"])
        XCTAssertEqual(gw.auth?.source, .command(.shell("cat /run/secrets/token")))
        XCTAssertEqual(config.warnings, [])
    }

    func testAIGatewayPublicListenWithoutKeysWarns() throws {
        let config = try ConfigLoader.load(path: gatewayPath, environment: ["MINI_PROXY_LISTEN": "0.0.0.0:3001"])
        XCTAssertTrue(config.warnings.contains {
            $0.hasPrefix("listen: 0.0.0.0:3001 is reachable from other machines and inbound_keys is empty")
        })
    }

    func testDemoLoads() throws {
        let config = try ConfigLoader.load(path: demoPath, environment: [:])
        XCTAssertEqual(config.listen, HostPort(host: "127.0.0.1", port: 3001))
        let mock = try XCTUnwrap(config.upstreams["mock"])
        XCTAssertEqual(mock.url, UpstreamURL(scheme: "http", host: "127.0.0.1", port: 3002, basePath: ""))
        XCTAssertFalse(mock.url.isTLS)
        XCTAssertNil(mock.auth)
        XCTAssertEqual(mock.headers.map(\.name), ["X-Atlassian-CloudId", "X-Atlassian-UseCaseId"])
        XCTAssertEqual(mock.timeouts.connect, 2000)
        XCTAssertEqual(mock.timeouts.tlsHandshake, 10_000, "unset keys keep their defaults")
        XCTAssertEqual(config.routes.count, 6)
        XCTAssertEqual(config.routes.compactMap(\.modelsPath).count, 4)
        XCTAssertEqual(config.warnings, [])
        let moved = try ConfigLoader.load(path: demoPath, environment: ["MOCK_UPSTREAM_URL": "http://127.0.0.1:4000"])
        XCTAssertEqual(moved.upstreams["mock"]?.url.port, 4000)
    }

    func testDescribeMasksSecrets() throws {
        let env = ["ATLASSIAN_CLOUD_ID": "cloud-secret-1", "AI_GATEWAY_TOKEN_COMMAND": "echo tok-secret-2",
                   "MINI_PROXY_API_KEY": "sk-secret-3"]
        let text = ConfigLoader.describe(try ConfigLoader.load(path: gatewayPath, environment: env))
        for secret in ["cloud-secret-1", "tok-secret-2", "sk-secret-3"] {
            XCTAssertFalse(text.contains(secret), "describe leaked \(secret):\n\(text)")
        }
        XCTAssertTrue(text.contains("POST /openai/v1/chat/completions  openai-chat → openai-chat  ai-gateway "
            + "/v1/openai/v1/chat/completions  [rename_max_tokens]"), text)
        XCTAssertTrue(text.contains("ANY /openai/v1/responses  passthrough → passthrough"), text)
        XCTAssertTrue(text.contains("GET /bedrock/claude/v1/models  models list (anthropic-messages shape, 10 models)"),
                      text)
        XCTAssertTrue(text.contains("auth: Authorization: slauth <shell command echo …>"), text)
        XCTAssertTrue(text.contains("header: X-Atlassian-CloudId: ***"), text)
        XCTAssertTrue(text.contains("inbound keys: 1 configured"), text)
    }

    func testDescribeMasksStaticCredential() throws {
        let yaml = """
            upstreams:
              up: { url: "https://example.com", auth: { value: "${TOKEN}" } }
            routes:
              - { path: /x, upstream: up, ingress: openai-chat, upstream_path: /x }
            """
        let text = ConfigLoader.describe(try ConfigLoader.parse(yaml: yaml, environment: ["TOKEN": "tok-abc-123"]))
        XCTAssertFalse(text.contains("tok-abc-123"))
        XCTAssertTrue(text.contains("auth: Authorization: Bearer <***>"), text)
    }

    func testMissingFileIsAnError() {
        XCTAssertThrowsError(try ConfigLoader.load(path: "/nonexistent/mini-proxy.yaml", environment: [:])) { error in
            guard let error = error as? ConfigError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.path, "(file)")
            XCTAssertTrue(error.message.hasPrefix("cannot read /nonexistent/mini-proxy.yaml"), error.message)
        }
    }

    /// The example in config/README.md must stay a valid config.
    func testReadmeExampleLoads() throws {
        let readme = try String(
            contentsOf: ConfigFixtures.packageRoot.appendingPathComponent("config/README.md"), encoding: .utf8)
        let section = try XCTUnwrap(readme.range(of: "## A complete small example"))
        let start = try XCTUnwrap(readme.range(of: "```yaml\n", range: section.upperBound..<readme.endIndex))
        let end = try XCTUnwrap(readme.range(of: "\n```", range: start.upperBound..<readme.endIndex))
        let yaml = String(readme[start.upperBound..<end.lowerBound])
        let config = try ConfigLoader.parse(yaml: yaml, environment: ["OPENAI_API_KEY": "k1", "GEMINI_API_KEY": "k2"])
        XCTAssertEqual(config.routes.count, 2)
        XCTAssertEqual(config.upstreams["gemini"]?.auth?.token, "k2")
        XCTAssertEqual(config.routes[1].upstreamPath(forRequestPath: "/google/models/m"), "/v1beta/models/m")
        XCTAssertEqual(config.warnings, [])
    }
}
