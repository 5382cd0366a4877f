import XCTest

@testable import UVProxy

/// Every class of config error, each with its exact `key.path: message`.
final class ConfigErrorTests: XCTestCase {
    let up = ConfigFixtures.upstreams

    // MARK: Document shape

    func testSyntaxAndShape() {
        assertConfigError("", "(root): the config is empty")
        assertConfigError("- a\n- b", "(root): expected a mapping of settings, got a list")
        assertConfigError("listen: [1\n", "(yaml): line 2, column 1: did not find expected ',' or ']'")
        assertConfigError("workers: 1\nworkers: 2\n", "(yaml): line 1, column 1: duplicate key 'workers'")
        assertConfigError(up, "routes: required key is missing (at least one route)")
        assertConfigError(up + "\nroutes: []", "routes: at least one route is required")
        assertConfigError(up + "\nroutes: {}", "routes: expected a list, got a mapping")
    }

    func testUnknownKeys() {
        assertConfigError(ConfigFixtures.minimal(extra: "listne: 1"),
            "listne: unknown key (expected one of: listen, workers, limits, upstreams, routes, models, "
                + "inbound_keys, auth_keys, cors, log_level, access_log, profiles, metrics, tracing)")
        assertConfigError(ConfigFixtures.minimal(extra: "limits: { max_body: 1 }"),
            "limits.max_body: unknown key (expected one of: max_head_bytes, max_header_count, max_body_bytes, "
                + "max_connections, head_timeout, body_timeout, keep_alive_timeout, shutdown_grace)")
        assertConfigError(
            ConfigFixtures.minimal(route: "{ path: /a, upstream: up, ingress: openai-chat, upstream_path: /a, "
                + "stream: true }"),
            "routes[0].stream: unknown key (expected one of: path, methods, upstream, upstream_path, ingress, "
                + "egress, rename_max_tokens, default_max_tokens, model_aliases, set_headers, remove_headers, cors, "
                + "timeouts, keep_alive_interval, models_path, profile, retries, fallbacks, circuit)")
        let yaml = """
            upstreams:
              up: { url: "http://h", timeouts: { read: 1s } }
            routes:
              - { path: /a, upstream: up, ingress: openai-chat, upstream_path: /a }
            """
        assertConfigError(yaml,
            "upstreams.up.timeouts.read: unknown key (expected one of: connect, tls_handshake, first_byte, idle, total)")
        assertConfigError(ConfigFixtures.minimal(extra: "models: [{ id: a, owner: b }]"),
            "models[0].owner: unknown key (expected one of: id, owned_by, created, display_name, dialects)")
    }

    // MARK: Types and ranges

    func testWrongTypes() {
        assertConfigError(ConfigFixtures.minimal(extra: "workers: abc"), "workers: expected an integer, got 'abc'")
        assertConfigError(ConfigFixtures.minimal(extra: "workers: [1]"), "workers: expected an integer, got a list")
        assertConfigError(ConfigFixtures.minimal(extra: "access_log: yes"), "access_log: expected true or false, got 'yes'")
        assertConfigError(ConfigFixtures.minimal(extra: "listen: { host: a }"), "listen: expected a string, got a mapping")
        assertConfigError(ConfigFixtures.minimal(extra: "limits: 5"), "limits: expected a mapping, got '5'")
        assertConfigError(ConfigFixtures.minimal(extra: "limits: { head_timeout: soon }"),
            "limits.head_timeout: expected a duration like 250ms, 30s, 2m or a number of seconds, got 'soon'")
        assertConfigError(ConfigFixtures.minimal(extra: "limits: { max_body_bytes: 3 potatoes }"),
            "limits.max_body_bytes: expected a size like 65536, 64KiB or 32MiB, got '3 potatoes'")
        assertConfigError(ConfigFixtures.minimal(extra: "limits: { head_timeout: 0 }"),
            "limits.head_timeout: must be greater than 0")
        assertConfigError(ConfigFixtures.minimal(extra: "log_level: loud"),
            "log_level: expected one of debug, info, warning, error, got 'loud'")
        assertConfigError(ConfigFixtures.minimal(extra: "inbound_keys: key"), "inbound_keys: expected a list, got 'key'")
        assertConfigError(ConfigFixtures.minimal(extra: "models: [{ id: a, created: yesterday }]"),
            "models[0].created: expected an integer, got 'yesterday'")
    }

    func testWorkersOutOfRange() {
        assertConfigError(ConfigFixtures.minimal(extra: "workers: 0"), "workers: 0 is out of range 1...64")
        assertConfigError(ConfigFixtures.minimal(extra: "workers: 65"), "workers: 65 is out of range 1...64")
        assertConfigError(ConfigFixtures.minimal(extra: "workers: ${W}"), env: ["W": "100"],
            "workers: 100 is out of range 1...64")
        XCTAssertEqual(parse(ConfigFixtures.minimal(extra: "workers: 64"))?.workers, 64)
        // `auto`: one per CPU the process may use, never outside 1...64.
        let cpus = ConfigLoader.autoWorkers
        XCTAssertTrue((1...64).contains(cpus))
        XCTAssertEqual(parse(ConfigFixtures.minimal(extra: "workers: auto"))?.workers, cpus)
        XCTAssertEqual(parse(ConfigFixtures.minimal(extra: "workers: ${W:-auto}"))?.workers, cpus)
        assertConfigError(ConfigFixtures.minimal(extra: "workers: Auto"), "workers: expected an integer, got 'Auto'")
        XCTAssertEqual(parse(ConfigFixtures.minimal(extra: "workers: \"${W:-3}\""))?.workers, 3)
    }

    func testLimitsOutOfRange() {
        assertConfigError(ConfigFixtures.minimal(extra: "limits: { max_head_bytes: 100 }"),
            "limits.max_head_bytes: 100 bytes is out of range 1024...16777216")
        assertConfigError(ConfigFixtures.minimal(extra: "limits: { max_header_count: 0 }"),
            "limits.max_header_count: 0 is out of range 1...10000")
    }

    func testBadListen() {
        assertConfigError(ConfigFixtures.minimal(extra: "listen: example.com:80"),
            "listen: host must be an IP address or localhost in 'example.com:80' (expected HOST:PORT, e.g. "
                + "127.0.0.1:3001 or [::1]:3001)")
        assertConfigError(ConfigFixtures.minimal(extra: "listen: 127.0.0.1:99999"),
            "listen: invalid port in '127.0.0.1:99999' (expected HOST:PORT, e.g. 127.0.0.1:3001 or [::1]:3001)")
    }

    // MARK: Environment

    func testUnsetVariableNamesTheKeyPath() {
        let yaml = """
            upstreams:
              up:
                url: "http://h"
                headers: { X-Cloud: "${CLOUD_ID}" }
            routes:
              - { path: /a, upstream: up, ingress: openai-chat, upstream_path: /a }
            """
        assertConfigError(yaml,
            "upstreams.up.headers.X-Cloud: environment variable CLOUD_ID is not set (write ${CLOUD_ID:-} to make it optional)")
        assertConfigError(ConfigFixtures.minimal(extra: "inbound_keys: [a, \"${K}\"]"),
            "inbound_keys[1]: environment variable K is not set (write ${K:-} to make it optional)")
        assertConfigError(ConfigFixtures.minimal(extra: "listen: ${L:x}"),
            "listen: unsupported expansion '${L:x}' (only ${NAME} and ${NAME:-default})")
        assertConfigError(ConfigFixtures.minimal(extra: "listen: ${1L}"),
            "listen: invalid environment variable name '1L' in '${1L}'")
        assertConfigError(ConfigFixtures.minimal(extra: "listen: ${L"),
            "listen: unterminated '${' (write '$$' for a literal '$')")
    }

    // MARK: Upstreams

    func testBadURLs() {
        func yaml(_ url: String) -> String {
            """
            upstreams:
              up: { url: "\(url)" }
            routes:
              - { path: /a, upstream: up, ingress: openai-chat, upstream_path: /a }
            """
        }
        assertConfigError(yaml("ftp://h"), "upstreams.up.url: unsupported scheme 'ftp' (use http or https) in url 'ftp://h'")
        assertConfigError(yaml("h:80"),
            "upstreams.up.url: not an absolute URL (expected http://HOST[:PORT][/PATH] or https://...) in url 'h:80'")
        assertConfigError(yaml("https://"), "upstreams.up.url: missing host in url 'https://'")
        assertConfigError(yaml("https:///x"), "upstreams.up.url: missing host in url 'https:///x'")
        assertConfigError(yaml("https://h/x?a=1"), "upstreams.up.url: a query ('?') is not allowed in url 'https://h/x?a=1'")
        assertConfigError(yaml("https://h/#f"), "upstreams.up.url: a fragment ('#') is not allowed in url 'https://h/#f'")
        assertConfigError(yaml("https://u:p@h"),
            "upstreams.up.url: user info is not allowed (configure auth instead) in url 'https://u:p@h'")
        assertConfigError(yaml("https://h:0"), "upstreams.up.url: invalid port '0' in url 'https://h:0'")
        assertConfigError(yaml("https://h:"), "upstreams.up.url: invalid port '' in url 'https://h:'")
        assertConfigError(yaml("https://h x"), "upstreams.up.url: invalid host 'h x' in url 'https://h x'")
        assertConfigError(yaml("https://[::g]/"), "upstreams.up.url: invalid IPv6 address in url 'https://[::g]/'")
        assertConfigError("upstreams:\n  up: {}\nroutes: [{ path: /a, upstream: up, ingress: openai-chat, upstream_path: /a }]",
            "upstreams.up.url: required key is missing")
    }

    func testBadHeaders() {
        func yaml(_ headers: String) -> String {
            """
            upstreams:
              up: { url: "http://h", headers: \(headers) }
            routes:
              - { path: /a, upstream: up, ingress: openai-chat, upstream_path: /a }
            """
        }
        assertConfigError(yaml("{ \"Bad Name\": x }"),
            "upstreams.up.headers.Bad Name: 'Bad Name' is not a valid header name (RFC 9110 token)")
        assertConfigError(yaml("{ \"X-A:\": x }"),
            "upstreams.up.headers.X-A:: 'X-A:' is not a valid header name (RFC 9110 token)")
        assertConfigError(yaml("{ X-A: \"a\\r\\nX-Evil: 1\" }"),
            "upstreams.up.headers.X-A: header values must not contain CR or LF")
        assertConfigError(yaml("{ X-A: \"a\\nb\" }"), "upstreams.up.headers.X-A: header values must not contain CR or LF")
        assertConfigError(yaml("{ X-A: \"a\\0b\" }"), "upstreams.up.headers.X-A: header values must not contain NUL")
        assertConfigError(yaml("{ X-A: \"a\\x07b\" }"),
            "upstreams.up.headers.X-A: header values must not contain control characters")
        assertConfigError(yaml("{ X-A: \"${V}\" }"), env: ["V": "ok\r\nX-Evil: 1"],
            "upstreams.up.headers.X-A: header values must not contain CR or LF")
        assertConfigError(yaml("{ Content-Length: 5 }"),
            "upstreams.up.headers.Content-Length: Content-Length is managed by the proxy and cannot be configured")
        assertConfigError(yaml("{ host: other }"),
            "upstreams.up.headers.host: host is managed by the proxy and cannot be configured")
        assertConfigError(yaml("{ X-A: 1, x-a: 2 }"),
            "upstreams.up.headers.x-a: header is listed twice (names are case-insensitive)")
        assertConfigError(yaml("[a]"), "upstreams.up.headers: expected a mapping, got a list")
    }

    func testBadAuth() {
        func yaml(_ auth: String) -> String {
            """
            upstreams:
              up:
                url: "https://h"
                auth: \(auth)
            routes:
              - { path: /a, upstream: up, ingress: openai-chat, upstream_path: /a }
            """
        }
        assertConfigError(yaml("{ header: X-Key }"), "upstreams.up.auth: one of value, env or command is required")
        assertConfigError(yaml("{ value: a, env: B }"),
            "upstreams.up.auth: value, env and command are exclusive (found value and env)")
        assertConfigError(yaml("{ env: TOKEN }"), "upstreams.up.auth.env: environment variable TOKEN is not set")
        assertConfigError(yaml("{ env: \"A-B\" }"), "upstreams.up.auth.env: 'A-B' is not a variable name")
        assertConfigError(yaml("{ env: TOKEN }"), env: ["TOKEN": "a\nb"],
            "upstreams.up.auth.env: TOKEN: header values must not contain CR or LF")
        assertConfigError(yaml("{ value: \"\" }"), "upstreams.up.auth.value: the credential is empty")
        assertConfigError(yaml("{ command: [] }"), "upstreams.up.auth.command: the command is empty")
        assertConfigError(yaml("{ command: \"  \" }"), "upstreams.up.auth.command: the command is empty")
        assertConfigError(yaml("{ command: { a: b } }"),
            "upstreams.up.auth.command: expected a command line (string) or an argv list, got a mapping")
        assertConfigError(yaml("{ command: [atlas, [x]] }"), "upstreams.up.auth.command[1]: expected a string, got a list")
        assertConfigError(yaml("{ value: a, header: \"X Key\" }"),
            "upstreams.up.auth.header: 'X Key' is not a valid header name (RFC 9110 token)")
        assertConfigError(yaml("{ value: a, prefix: \"a\\r\" }"), "upstreams.up.auth.prefix: header values must not contain CR or LF")
        assertConfigError(yaml("{ value: a, command_timeout: 0 }"), "upstreams.up.auth.command_timeout: must be greater than 0")
        assertConfigError(yaml("{ value: a, ttl: forever }"),
            "upstreams.up.auth.ttl: expected a duration like 250ms, 30s, 2m or a number of seconds, got 'forever'")
        let both = """
            upstreams:
              up: { url: "https://h", headers: { authorization: x }, auth: { value: y } }
            routes:
              - { path: /a, upstream: up, ingress: openai-chat, upstream_path: /a }
            """
        assertConfigError(both, "upstreams.up.headers.authorization: also set by auth; configure it in one place")
    }

    func testBadUpstreamName() {
        assertConfigError("upstreams:\n  \"a b\": { url: \"http://h\" }\nroutes: [{ path: /a, upstream: a, ingress: passthrough, upstream_path: /a }]",
            "upstreams.a b: upstream names use letters, digits, '-', '_' and '.'")
    }

    // MARK: Routes

    func testDanglingUpstream() {
        let yaml = """
            \(up)
            routes:
              - { path: /a, upstream: up, ingress: openai-chat, upstream_path: /a }
              - { path: /b, upstream: up, ingress: openai-chat, upstream_path: /b }
              - { path: /c, upstream: gateway, ingress: openai-chat, upstream_path: /c }
            """
        assertConfigError(yaml, "routes[2].upstream: no upstream named 'gateway'")
    }

    func testRouteRequiredKeys() {
        assertConfigError(ConfigFixtures.minimal(route: "{ upstream: up, ingress: openai-chat }"),
            "routes[0].path: required key is missing")
        assertConfigError(ConfigFixtures.minimal(route: "{ path: /a, upstream: up }"), "routes[0].ingress: required key is missing")
        assertConfigError(ConfigFixtures.minimal(route: "{ path: /a, ingress: passthrough }"),
            "routes[0].upstream: required key is missing")
        assertConfigError(ConfigFixtures.minimal(route: "{ path: /a, upstream: up, ingress: openai-chat }"),
            "routes[0].upstream_path: required for openai-chat egress")
        assertConfigError(ConfigFixtures.minimal(route: "{ path: /a, upstream: up, ingress: passthrough }"),
            "routes[0].upstream_path: required for passthrough egress")
        assertConfigError(ConfigFixtures.minimal(route: "a string"), "routes[0]: expected a mapping, got 'a string'")
    }

    func testBadDialects() {
        assertConfigError(ConfigFixtures.minimal(route: "{ path: /a, upstream: up, ingress: gemini }"),
            "routes[0].ingress: unknown dialect 'gemini' (expected one of: openai-chat, openai-responses, anthropic-messages, "
                + "bedrock-anthropic, passthrough)")
        let pairs = "(supported: openai-chat → openai-chat, anthropic-messages → bedrock-anthropic, "
            + "openai-chat → bedrock-anthropic, openai-responses → bedrock-anthropic, anthropic-messages → openai-chat, "
            + "passthrough → passthrough)"
        assertConfigError(
            ConfigFixtures.minimal(route: "{ path: /a, upstream: up, ingress: openai-responses, egress: openai-chat }"),
            "routes[0].egress: unsupported dialect pair openai-responses → openai-chat \(pairs)")
        assertConfigError(ConfigFixtures.minimal(route: "{ path: /a, upstream: up, ingress: anthropic-messages }"),
            "routes[0].ingress: unsupported dialect pair anthropic-messages → anthropic-messages \(pairs)")
        assertConfigError(
            ConfigFixtures.minimal(route: "{ path: /a, upstream: up, ingress: passthrough, egress: openai-chat }"),
            "routes[0].egress: unsupported dialect pair passthrough → openai-chat \(pairs)")
        assertConfigError(
            ConfigFixtures.minimal(route: "{ path: /a, upstream: up, ingress: bedrock-anthropic, egress: bedrock-anthropic }"),
            "routes[0].egress: unsupported dialect pair bedrock-anthropic → bedrock-anthropic \(pairs)")
    }

    func testBadPaths() {
        func route(_ fields: String) -> String { ConfigFixtures.minimal(route: "{ upstream: up, \(fields) }") }
        assertConfigError(route("path: a, ingress: passthrough, upstream_path: /a"), "routes[0].path: 'a' must start with '/'")
        assertConfigError(route("path: /a?x=1, ingress: passthrough, upstream_path: /a"),
            "routes[0].path: '/a?x=1' must not contain a query ('?')")
        assertConfigError(route("path: \"/a b\", ingress: passthrough, upstream_path: /a"),
            "routes[0].path: '/a b' must not contain spaces or control characters")
        assertConfigError(route("path: /a*/b, ingress: passthrough, upstream_path: /a"),
            "routes[0].path: '*' is only allowed as a final '/*' (a prefix route)")
        assertConfigError(route("path: /a/*, ingress: openai-chat, upstream_path: /a"),
            "routes[0].path: prefix paths ('/*') are only for passthrough routes")
        assertConfigError(route("path: /a, ingress: passthrough, upstream_path: v1"),
            "routes[0].upstream_path: 'v1' must start with '/'")
        assertConfigError(route("path: /a, ingress: anthropic-messages, egress: bedrock-anthropic, upstream_path: \"/m/{model}\""),
            "routes[0].upstream_path: a bedrock-anthropic upstream_path needs {model} and {action}")
        assertConfigError(route("path: /a, ingress: openai-chat, upstream_path: \"/m/{model}\""),
            "routes[0].upstream_path: placeholders ({model}, {action}) are only for bedrock-anthropic egress")
        assertConfigError(route("path: /a, ingress: passthrough, upstream_path: /a, models_path: /m"),
            "routes[0].models_path: models endpoints exist for openai-chat, openai-responses and anthropic-messages ingress only")
    }

    func testBadMethodsAndRouteHeaders() {
        func route(_ fields: String) -> String {
            ConfigFixtures.minimal(route: "{ path: /a, upstream: up, ingress: passthrough, upstream_path: /a, \(fields) }")
        }
        assertConfigError(route("methods: [GET, \"BAD METHOD\"]"), "routes[0].methods[1]: 'BAD METHOD' is not an HTTP method")
        assertConfigError(route("methods: [get, GET]"), "routes[0].methods[1]: GET is listed twice")
        assertConfigError(route("methods: []"), "routes[0].methods: at least one method is required")
        assertConfigError(route("set_headers: { X-A: \"\\r\" }"), "routes[0].set_headers.X-A: header values must not contain CR or LF")
        assertConfigError(route("set_headers: { Transfer-Encoding: chunked }"),
            "routes[0].set_headers.Transfer-Encoding: Transfer-Encoding is managed by the proxy and cannot be configured")
        assertConfigError(route("remove_headers: [\"x y\"]"),
            "routes[0].remove_headers[0]: 'x y' is not a valid header name (RFC 9110 token)")
        assertConfigError(route("remove_headers: [connection]"),
            "routes[0].remove_headers[0]: connection is managed by the proxy and cannot be configured")
        assertConfigError(route("model_aliases: { a: \"\" }"), "routes[0].model_aliases.a: empty model id")
    }

    func testDuplicateRoutes() {
        let yaml = """
            \(up)
            routes:
              - { path: /a, upstream: up, ingress: openai-chat, upstream_path: /a }
              - { path: /b, upstream: up, ingress: passthrough, upstream_path: /b, methods: [GET] }
              - { path: /b, upstream: up, ingress: passthrough, upstream_path: /b, methods: [PUT, get] }
            """
        assertConfigError(yaml, "routes[2].path: GET /b is already routed by routes[1]")
        let disjoint = """
            \(up)
            routes:
              - { path: /b, upstream: up, ingress: passthrough, upstream_path: /b, methods: [GET] }
              - { path: /b, upstream: up, ingress: passthrough, upstream_path: /b, methods: [POST] }
            """
        XCTAssertEqual(parse(disjoint)?.routes.count, 2, "same path, different methods is fine")
        let prefixes = """
            \(up)
            routes:
              - { path: /g/*, upstream: up, ingress: passthrough, upstream_path: /x/* }
              - { path: /g/*, upstream: up, ingress: passthrough, upstream_path: /y/* }
            """
        assertConfigError(prefixes, "routes[1].path: GET /g/* is already routed by routes[0]")
        let models = """
            \(up)
            routes:
              - { path: /chat, upstream: up, ingress: openai-chat, upstream_path: /c, models_path: /models }
              - { path: /models, upstream: up, ingress: passthrough, upstream_path: /m }
            """
        assertConfigError(models, "routes[1].path: GET /models is already routed by routes[0]")
        let selfClash = """
            \(up)
            routes:
              - { path: /m, upstream: up, ingress: openai-chat, upstream_path: /c, methods: [GET], models_path: /m }
            """
        assertConfigError(selfClash, "routes[0].models_path: GET /m is already routed by routes[0].path")
        assertConfigError(ConfigFixtures.minimal(route: "{ path: /healthz, upstream: up, ingress: passthrough, upstream_path: /h }"),
            "routes[0].path: GET /healthz is the built-in health check")
    }

    // MARK: CORS, models, inbound keys

    func testBadCORS() {
        assertConfigError(ConfigFixtures.minimal(extra: "cors: maybe"), "cors: expected true or false, got 'maybe'")
        assertConfigError(ConfigFixtures.minimal(extra: "cors: { allow_origin: [a, b] }"),
            "cors.allow_origin: give one origin or '*', not a list")
        assertConfigError(ConfigFixtures.minimal(extra: "cors: { allow_credentials: true }"),
            "cors.allow_credentials: browsers refuse credentials with allow_origin '*'; name the origin")
        assertConfigError(ConfigFixtures.minimal(extra: "cors: { allow_headers: \"a\\nb\" }"),
            "cors.allow_headers: header values must not contain CR or LF")
        assertConfigError(ConfigFixtures.minimal(extra: "cors: { origin: x }"),
            "cors.origin: unknown key (expected one of: allow_origin, allow_methods, allow_headers, expose_headers, "
                + "max_age, allow_credentials)")
    }

    func testBadModels() {
        assertConfigError(ConfigFixtures.minimal(extra: "models: [{ owned_by: x }]"), "models[0].id: required key is missing")
        assertConfigError(ConfigFixtures.minimal(extra: "models: [{ id: a }, { id: a }]"), "models[1].id: model 'a' is listed twice")
        assertConfigError(ConfigFixtures.minimal(extra: "models: [{ id: a, dialects: [openai] }]"),
            "models[0].dialects[0]: unknown dialect 'openai' (expected one of: openai-chat, openai-responses, anthropic-messages, "
                + "bedrock-anthropic, passthrough)")
        assertConfigError(ConfigFixtures.minimal(extra: "models: [{ id: a, dialects: [passthrough] }]"),
            "models[0].dialects[0]: passthrough routes have no models endpoint")
    }

    func testBadInboundKeys() {
        assertConfigError(ConfigFixtures.minimal(extra: "inbound_keys: [a]\nauth_keys: [b]"),
            "auth_keys: auth_keys and inbound_keys are the same setting; use one")
        assertConfigError(ConfigFixtures.minimal(extra: "inbound_keys: [\"a b\"]"),
            "inbound_keys[0]: inbound keys must be printable ASCII without spaces")
    }
}
