import Providers
import XCTest

@testable import UVProxy

/// Defaults, merges and resolution rules: what an omitted key means.
final class ConfigDefaultsTests: XCTestCase {
    func testTopLevelDefaults() throws {
        let c = try XCTUnwrap(parse(ConfigFixtures.minimal()))
        XCTAssertEqual(c.listen, HostPort(host: "127.0.0.1", port: 3001))
        XCTAssertEqual(c.workers, 1)
        XCTAssertEqual(c.logLevel, "info")
        XCTAssertTrue(c.accessLog)
        XCTAssertEqual(c.inboundKeys, [])
        XCTAssertNil(c.cors)
        XCTAssertEqual(c.models, [])
        XCTAssertEqual(c.warnings, [])
        XCTAssertEqual(c.limits, ServerLimits())
        XCTAssertEqual(c.limits.maxHeadBytes, 65536)
        XCTAssertEqual(c.limits.maxHeaderCount, 100)
        XCTAssertEqual(c.limits.maxBodyBytes, 33_554_432)
        XCTAssertEqual(c.limits.maxConnections, 10000)
        XCTAssertEqual(c.limits.headTimeout, 30_000)
        XCTAssertEqual(c.limits.bodyTimeout, 60_000)
        XCTAssertEqual(c.limits.keepAliveTimeout, 75_000)
        XCTAssertEqual(c.limits.shutdownGrace, 30_000)

        let up = try XCTUnwrap(c.upstreams["up"])
        XCTAssertEqual(up.name, "up")
        XCTAssertNil(up.auth)
        XCTAssertNil(up.caFile)
        XCTAssertFalse(up.insecureSkipVerify)
        XCTAssertEqual(up.maxIdleConnections, 64)
        XCTAssertEqual(up.timeouts, UpstreamTimeouts(connect: 10_000, tlsHandshake: 10_000, firstByte: 600_000,
                                                     idle: 300_000, total: 0))

        let r = c.routes[0]
        XCTAssertEqual(r.path, "/v1/chat")
        XCTAssertFalse(r.isPrefix)
        XCTAssertEqual(r.methods, ["POST"])
        XCTAssertEqual(r.egress, .openAIChat, "egress defaults to ingress")
        XCTAssertFalse(r.renameMaxTokens)
        XCTAssertEqual(r.defaultMaxTokens, 4096)
        XCTAssertEqual(r.modelAliases, [:])
        XCTAssertTrue(r.setHeaders.isEmpty)
        XCTAssertEqual(r.removeHeaders, [])
        XCTAssertNil(r.cors)
        XCTAssertNil(r.timeouts)
        XCTAssertEqual(r.keepAliveInterval, 15_000)
        XCTAssertNil(r.modelsPath)
        XCTAssertEqual(c.timeouts(for: r), up.timeouts)
    }

    func testEverySetting() throws {
        let yaml = """
            listen: "[::1]:9000"
            workers: 4
            log_level: WARN
            access_log: false
            auth_keys: [k1, "${K2:-}", k3]
            limits:
              max_head_bytes: 8KiB
              max_header_count: 50
              max_body_bytes: 1MB
              max_connections: 100
              head_timeout: 5s
              body_timeout: 1m
              keep_alive_timeout: 2.5
              shutdown_grace: 0
            upstreams:
              gw:
                url: https://gw.example.com:8443/api/
                ca_file: /etc/ca.pem
                headers: { X-One: "1", X-Two: two }
                auth: { header: X-Token, prefix: "", env: GW_TOKEN, command_timeout: 3s, ttl: 1m, refresh_skew: 0 }
                timeouts: { connect: 1s, tls_handshake: 2s, first_byte: 3s, idle: 4s, total: 5s }
                max_idle_connections: 0
            routes:
              - path: /g/*
                upstream: gw
                ingress: passthrough
                upstream_path: /v1/google
                methods: [get, post]
                set_headers: { X-Route: r }
                remove_headers: [X-Debug, Cookie2]
                timeouts: { first_byte: 30s }
                keep_alive_interval: 0
            models:
              - { id: m1 }
            """
        let c = try XCTUnwrap(parse(yaml, env: ["GW_TOKEN": "tok"]))
        XCTAssertEqual(c.listen, HostPort(host: "::1", port: 9000))
        XCTAssertEqual(c.workers, 4)
        XCTAssertEqual(c.logLevel, "warning")
        XCTAssertFalse(c.accessLog)
        XCTAssertEqual(c.inboundKeys, ["k1", "k3"], "empty expansions are dropped")
        XCTAssertEqual(c.limits.maxHeadBytes, 8192)
        XCTAssertEqual(c.limits.maxHeaderCount, 50)
        XCTAssertEqual(c.limits.maxBodyBytes, 1_000_000)
        XCTAssertEqual(c.limits.maxConnections, 100)
        XCTAssertEqual(c.limits.headTimeout, 5000)
        XCTAssertEqual(c.limits.bodyTimeout, 60_000)
        XCTAssertEqual(c.limits.keepAliveTimeout, 2500)
        XCTAssertEqual(c.limits.shutdownGrace, 0)

        let gw = try XCTUnwrap(c.upstreams["gw"])
        XCTAssertEqual(gw.url, UpstreamURL(scheme: "https", host: "gw.example.com", port: 8443, basePath: "/api"))
        XCTAssertEqual(gw.caFile, "/etc/ca.pem")
        XCTAssertEqual(gw.headers.map(\.name), ["X-One", "X-Two"])
        XCTAssertEqual(gw.headers.map(\.value), ["1", "two"])
        let auth = try XCTUnwrap(gw.auth)
        XCTAssertEqual(auth.header, "X-Token")
        XCTAssertEqual(auth.prefix, "")
        XCTAssertEqual(auth.source, .env("GW_TOKEN"))
        XCTAssertEqual(auth.token, "tok")
        XCTAssertEqual(auth.commandTimeout, 3000)
        XCTAssertEqual(auth.ttl, 60_000)
        XCTAssertEqual(auth.refreshSkew, 0)
        XCTAssertEqual(gw.timeouts, UpstreamTimeouts(connect: 1000, tlsHandshake: 2000, firstByte: 3000, idle: 4000,
                                                     total: 5000))
        XCTAssertEqual(gw.maxIdleConnections, 0)

        let r = c.routes[0]
        XCTAssertTrue(r.isPrefix)
        XCTAssertEqual(r.path, "/g/")
        XCTAssertEqual(r.upstreamPath, "/v1/google/")
        XCTAssertEqual(r.upstreamPath(forRequestPath: "/g/models/x:generate"), "/v1/google/models/x:generate")
        XCTAssertTrue(r.matches(path: "/g/a"))
        XCTAssertFalse(r.matches(path: "/g"))
        XCTAssertEqual(r.methods, ["GET", "POST"])
        XCTAssertEqual(r.setHeaders.map(\.name), ["X-Route"])
        XCTAssertEqual(r.removeHeaders, ["x-debug", "cookie2"])
        XCTAssertEqual(r.timeouts, UpstreamTimeouts(connect: 1000, tlsHandshake: 2000, firstByte: 30_000, idle: 4000,
                                                    total: 5000), "a partial route override merges over the upstream's")
        XCTAssertEqual(c.timeouts(for: r).firstByte, 30_000)
        XCTAssertEqual(r.keepAliveInterval, 0)
        XCTAssertEqual(c.models, [ModelConfig(id: "m1", ownedBy: "system", created: 0)])
        XCTAssertEqual(c.warnings, [])
    }

    func testCommandForms() throws {
        func source(_ command: String) throws -> AuthConfig.Source? {
            let yaml = """
                upstreams:
                  up: { url: "https://h", auth: { command: \(command) } }
                routes:
                  - { path: /a, upstream: up, ingress: openai-chat, upstream_path: /a }
                """
            return parse(yaml, env: ["CMD": "get-token --fast"])?.upstreams["up"]?.auth?.source
        }
        XCTAssertEqual(try source("[atlas, slauth, token, -g, atlassian-all]"),
                       .command(.argv(["atlas", "slauth", "token", "-g", "atlassian-all"])))
        XCTAssertEqual(try source("\"atlas slauth token | tr -d '\\\\n'\""), .command(.shell("atlas slauth token | tr -d '\\n'")))
        XCTAssertEqual(try source("\"${CMD}\""), .command(.shell("get-token --fast")))
        let auth = try XCTUnwrap(parse("""
            upstreams:
              up: { url: "https://h", auth: { value: "${T}" } }
            routes:
              - { path: /a, upstream: up, ingress: openai-chat, upstream_path: /a }
            """, env: ["T": "secret"])?.upstreams["up"]?.auth)
        XCTAssertEqual(auth.source, .staticValue("secret"))
        XCTAssertEqual(auth.token, "secret")
        XCTAssertEqual(auth.header, "Authorization")
        XCTAssertEqual(auth.prefix, "Bearer ")
        XCTAssertEqual(auth.commandTimeout, 10_000)
        XCTAssertEqual(auth.ttl, 300_000)
        XCTAssertEqual(auth.refreshSkew, 30_000)
    }

    func testRouteMethodAndPathDefaults() throws {
        let yaml = """
            \(ConfigFixtures.upstreams)
            routes:
              - { path: /p, upstream: up, ingress: passthrough, upstream_path: /q }
              - { path: /m, upstream: up, ingress: anthropic-messages, egress: bedrock-anthropic }
              - { path: /t, upstream: up, ingress: openai-chat, egress: bedrock-anthropic, methods: POST }
              - { path: /x/*, upstream: up, ingress: passthrough, upstream_path: /y/* }
              - { path: /*, upstream: up, ingress: passthrough, upstream_path: / }
            """
        let c = try XCTUnwrap(parse(yaml))
        XCTAssertEqual(c.routes[0].methods, RouteConfig.allMethods)
        XCTAssertEqual(c.routes[0].egress, .passthrough)
        XCTAssertEqual(c.routes[1].methods, ["POST"])
        XCTAssertEqual(c.routes[1].upstreamPath, "/v1/bedrock/model/{model}/{action}")
        XCTAssertEqual(c.routes[1].translationOptions.upstreamPath, "/v1/bedrock/model/{model}/{action}")
        XCTAssertEqual(c.routes[2].methods, ["POST"], "a single method may be a string")
        XCTAssertEqual(c.routes[3].path, "/x/")
        XCTAssertEqual(c.routes[3].upstreamPath, "/y/")
        XCTAssertEqual(c.routes[4].path, "/")
        XCTAssertEqual(c.routes[4].upstreamPath(forRequestPath: "/a/b"), "/a/b")
        XCTAssertEqual(c.warnings, [])
    }

    func testCORSResolution() throws {
        let yaml = """
            \(ConfigFixtures.upstreams)
            cors: { allow_origin: "https://app.example.com", max_age: 10m }
            routes:
              - { path: /inherit, upstream: up, ingress: openai-chat, upstream_path: /a }
              - { path: /off, upstream: up, ingress: openai-chat, upstream_path: /a, cors: false }
              - { path: /on, upstream: up, ingress: openai-chat, upstream_path: /a, cors: true }
              - { path: /own, upstream: up, ingress: openai-chat, upstream_path: /a,
                  cors: { allow_methods: [POST, OPTIONS], allow_headers: "*", allow_credentials: true } }
            """
        let c = try XCTUnwrap(parse(yaml))
        var global = CORSConfig()
        global.allowOrigin = "https://app.example.com"
        global.maxAge = 600
        XCTAssertEqual(c.cors, global)
        XCTAssertEqual(c.routes[0].cors, global)
        XCTAssertNil(c.routes[1].cors, "cors: false turns it off on the route")
        XCTAssertEqual(c.routes[2].cors, global, "cors: true means the global settings")
        let own = try XCTUnwrap(c.routes[3].cors)
        XCTAssertEqual(own.allowOrigin, "https://app.example.com", "a route mapping overrides keys of the global one")
        XCTAssertEqual(own.allowMethods, "POST, OPTIONS")
        XCTAssertEqual(own.allowHeaders, "*")
        XCTAssertTrue(own.allowCredentials)
        XCTAssertEqual(own.maxAge, 600)

        let noGlobal = try XCTUnwrap(parse(ConfigFixtures.minimal(
            route: "{ path: /a, upstream: up, ingress: openai-chat, upstream_path: /a, cors: true }")))
        XCTAssertEqual(noGlobal.routes[0].cors, CORSConfig())
        XCTAssertEqual(CORSConfig().allowOrigin, "*")
        XCTAssertEqual(CORSConfig().allowMethods, "GET, POST, OPTIONS")
        XCTAssertTrue(CORSConfig().allowHeaders.contains("authorization"))
        XCTAssertTrue(CORSConfig().allowHeaders.contains("anthropic-version"))
        XCTAssertEqual(CORSConfig().maxAge, 86400)
    }

    func testModelsForRoute() throws {
        let yaml = """
            \(ConfigFixtures.upstreams)
            routes:
              - { path: /o, upstream: up, ingress: openai-chat, upstream_path: /o, models_path: /o/models }
              - { path: /c, upstream: up, ingress: anthropic-messages, egress: bedrock-anthropic, models_path: /c/models }
            models:
              - { id: gpt, dialects: [openai-chat] }
              - { id: claude, dialects: [bedrock-anthropic], display_name: Claude, owned_by: anthropic, created: 5 }
              - { id: both }
            """
        let c = try XCTUnwrap(parse(yaml))
        XCTAssertEqual(c.models(for: c.routes[0]).map(\.id), ["gpt", "both"])
        XCTAssertEqual(c.models(for: c.routes[1]).map(\.id), ["claude", "both"])
        XCTAssertEqual(c.models[1], ModelConfig(id: "claude", ownedBy: "anthropic", created: 5, displayName: "Claude",
                                                dialects: [.bedrockAnthropic]))
    }

    func testWarnings() throws {
        let yaml = """
            listen: 0.0.0.0:3001
            upstreams:
              up: { url: "https://h", insecure_skip_verify: true, headers: { X-Opt: "${OPT:-}" } }
              spare: { url: "http://s", ca_file: /ca.pem }
            routes:
              - { path: /api/*, upstream: up, ingress: passthrough, upstream_path: /api/* }
              - { path: /api/chat, upstream: up, ingress: openai-chat, upstream_path: /c, models_path: /api/models,
                  rename_max_tokens: true }
              - { path: /b, upstream: up, ingress: openai-chat, egress: bedrock-anthropic, rename_max_tokens: true }
            """
        let c = try XCTUnwrap(parse(yaml))
        XCTAssertEqual(c.warnings, [
            "upstreams.up.insecure_skip_verify: TLS verification is OFF (certificates and host names are not checked)",
            "upstreams.up.headers.X-Opt: value is empty, header not sent",
            "upstreams.spare.url: ca_file and insecure_skip_verify have no effect on an http:// upstream",
            "routes[2].rename_max_tokens: only applies to openai-chat egress; ignored",
            "listen: 0.0.0.0:3001 is reachable from other machines and inbound_keys is empty: anyone who can "
                + "connect uses the upstream credentials",
            "upstreams.spare: not used by any route",
            "models: empty, so the models endpoints list nothing",
        ])
        let keyed = try XCTUnwrap(parse(ConfigFixtures.minimal(extra: "listen: 0.0.0.0:1\ninbound_keys: [k]")))
        XCTAssertEqual(keyed.warnings, [])
    }

    func testInboundKeysHaveNamesForTheLog() throws {
        let c = try XCTUnwrap(parse(ConfigFixtures.minimal(extra: "inbound_keys: [k1, { name: team-a, key: k2 }, '', k3]")))
        XCTAssertEqual(c.inboundKeys, ["k1", "k2", "k3"])
        XCTAssertEqual(c.inboundKeyNames, ["key-1", "team-a", "key-4"])
        assertConfigError(ConfigFixtures.minimal(extra: "inbound_keys: [{ name: a, key: x }, { name: a, key: y }]"),
            "inbound_keys[1]: inbound key name 'a' is used twice")
        assertConfigError(ConfigFixtures.minimal(extra: "inbound_keys: [{ name: a }]"), "inbound_keys[0].key: required key is missing")
        assertConfigError(ConfigFixtures.minimal(extra: "inbound_keys: [{ name: 'a b', key: x }]"),
            "inbound_keys[0]: an inbound key's name must be 1 to 64 printable ASCII characters, no spaces or quotes")
        assertConfigError(ConfigFixtures.minimal(extra: "inbound_keys: [{ name: a, key: x, team: y }]"),
            "inbound_keys[0].team: unknown key (expected one of: name, key)")
    }

    func testNullValuesMeanDefault() throws {
        let c = try XCTUnwrap(parse(ConfigFixtures.minimal(extra: "workers:\nlimits: ~\ncors: null\nlog_level:")))
        XCTAssertEqual(c.workers, 1)
        XCTAssertEqual(c.limits, ServerLimits())
        XCTAssertNil(c.cors)
        XCTAssertEqual(c.logLevel, "info")
        assertConfigError(ConfigFixtures.minimal(route: "{ path: ~, upstream: up, ingress: passthrough, upstream_path: /a }"),
            "routes[0].path: required key is missing")
    }
}
