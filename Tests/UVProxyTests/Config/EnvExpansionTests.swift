import XCTest

@testable import UVProxy

final class EnvExpansionTests: XCTestCase {
    let env = ["A": "alpha", "EMPTY": "", "URL": "https://h:1/x", "NL": "a\nb: c"]

    func expand(_ s: String) throws -> String { try EnvExpansion.expand(s, environment: env, path: "k") }

    func testForms() throws {
        XCTAssertEqual(try expand("plain"), "plain")
        XCTAssertEqual(try expand("${A}"), "alpha")
        XCTAssertEqual(try expand("x-${A}-y-${A}"), "x-alpha-y-alpha")
        XCTAssertEqual(try expand("${EMPTY}"), "", "set but empty is the empty string")
        XCTAssertEqual(try expand("${MISSING:-fallback}"), "fallback")
        XCTAssertEqual(try expand("${EMPTY:-fallback}"), "fallback", ":- also covers empty")
        XCTAssertEqual(try expand("${A:-fallback}"), "alpha")
        XCTAssertEqual(try expand("${MISSING:-}"), "")
        XCTAssertEqual(try expand("${MISSING:-https://h:2/p}"), "https://h:2/p", "defaults may hold ':' and '/'")
        XCTAssertEqual(try expand("${MISSING:-a b -c --d}"), "a b -c --d")
        XCTAssertEqual(try expand("${MISSING:-${A}"), "${A", "a default is literal text up to the first '}'")
    }

    func testDollarEscapes() throws {
        XCTAssertEqual(try expand("$$"), "$")
        XCTAssertEqual(try expand("$${A}"), "${A}", "$$ makes a literal ${")
        XCTAssertEqual(try expand("$$$${A}"), "$${A}")
        XCTAssertEqual(try expand("$$${A}"), "$alpha")
        XCTAssertEqual(try expand("cost $5"), "cost $5", "a lone $ is literal")
        XCTAssertEqual(try expand("$A"), "$A", "only the braced form expands")
        XCTAssertEqual(try expand("end$"), "end$")
        XCTAssertEqual(try expand("${A}$"), "alpha$")
    }

    func testValuesAreNotRescanned() throws {
        let e = ["X": "${A}", "A": "no"]
        XCTAssertEqual(try EnvExpansion.expand("${X}", environment: e, path: "k"), "${A}")
        XCTAssertEqual(try EnvExpansion.expand("$${X}", environment: e, path: "k"), "${X}")
    }

    func testErrors() {
        func message(_ s: String) -> String? {
            do {
                _ = try expand(s)
                return nil
            } catch {
                return "\(error)"
            }
        }
        XCTAssertEqual(message("${MISSING}"), "k: environment variable MISSING is not set (write ${MISSING:-} to make it optional)")
        XCTAssertEqual(message("${A"), "k: unterminated '${' (write '$$' for a literal '$')")
        XCTAssertEqual(message("${}"), "k: invalid environment variable name '' in '${}'")
        XCTAssertEqual(message("${A-B}"), "k: invalid environment variable name 'A-B' in '${A-B}'")
        XCTAssertEqual(message("${A:=x}"), "k: unsupported expansion '${A:=x}' (only ${NAME} and ${NAME:-default})")
        XCTAssertEqual(message("${A:}"), "k: unsupported expansion '${A:}' (only ${NAME} and ${NAME:-default})")
    }

    func testVariableNames() {
        for good in ["A", "_", "a_1", "AI_GATEWAY_URL", "_x9"] { XCTAssertTrue(EnvExpansion.isVariableName(good), good) }
        for bad in ["", "1A", "A-B", "A.B", "Ä", "A B"] { XCTAssertFalse(EnvExpansion.isVariableName(bad), bad) }
    }

    /// Expansion happens after YAML parsing: a value can never add keys or break the structure.
    func testExpansionCannotInjectStructure() throws {
        let yaml = """
            upstreams:
              up:
                url: "http://h"
                headers: { X-A: "${NL}" }
            routes:
              - { path: /a, upstream: up, ingress: openai-chat, upstream_path: /a }
            """
        assertConfigError(yaml, env: env, "upstreams.up.headers.X-A: header values must not contain CR or LF")
        let model = ConfigFixtures.minimal(extra: "models: [{ id: \"${NL}\" }]")
        XCTAssertEqual(parse(model, env: env)?.models.map(\.id), ["a\nb: c"])
    }

    /// Keys are never expanded, only values.
    func testKeysAreLiteral() throws {
        let yaml = """
            upstreams:
              up: { url: "http://h", headers: { "X-${A}": v } }
            routes:
              - { path: /a, upstream: up, ingress: openai-chat, upstream_path: /a }
            """
        assertConfigError(yaml, env: env, "upstreams.up.headers.X-${A}: 'X-${A}' is not a valid header name (RFC 9110 token)")
    }

    func testTypedValuesFromEnvironment() throws {
        let yaml = ConfigFixtures.minimal(extra: """
            workers: ${W:-2}
            access_log: ${LOG:-false}
            limits: { head_timeout: "${HT:-5s}", max_body_bytes: "${MB:-1MiB}" }
            """)
        let defaults = try XCTUnwrap(parse(yaml))
        XCTAssertEqual(defaults.workers, 2)
        XCTAssertFalse(defaults.accessLog)
        XCTAssertEqual(defaults.limits.headTimeout, 5000)
        XCTAssertEqual(defaults.limits.maxBodyBytes, 1 << 20)
        let set = try XCTUnwrap(parse(yaml, env: ["W": "4", "LOG": "true", "HT": "250ms", "MB": "2048"]))
        XCTAssertEqual(set.workers, 4)
        XCTAssertTrue(set.accessLog)
        XCTAssertEqual(set.limits.headTimeout, 250)
        XCTAssertEqual(set.limits.maxBodyBytes, 2048)
    }
}
