import XCTest

@testable import UVProxy

/// Shared helpers: a minimal valid config and an exact error assertion.
enum ConfigFixtures {
    /// The smallest valid config; tests append or replace pieces of it.
    static let upstreams = """
        upstreams:
          up: { url: "http://127.0.0.1:9" }
        """

    static func minimal(route: String = "{ path: /v1/chat, upstream: up, ingress: openai-chat, upstream_path: /chat }",
                        extra: String = "") -> String {
        """
        \(upstreams)
        routes:
          - \(route)
        \(extra)
        """
    }

    /// The package root, found from this file's path (Tests/UVProxyTests/Config/...).
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }
}

extension XCTestCase {
    func parse(_ yaml: String, env: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line)
        -> ProxyConfig?
    {
        do {
            return try ConfigLoader.parse(yaml: yaml, environment: env)
        } catch {
            XCTFail("unexpected error: \(error)", file: file, line: line)
            return nil
        }
    }

    /// Asserts that loading fails with exactly `path: message`.
    func assertConfigError(
        _ yaml: String, env: [String: String] = [:], _ expected: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        do {
            let config = try ConfigLoader.parse(yaml: yaml, environment: env)
            XCTFail("expected error '\(expected)', loaded \(config.routes.count) routes", file: file, line: line)
        } catch {
            XCTAssertEqual(error.description, expected, file: file, line: line)
        }
    }
}
