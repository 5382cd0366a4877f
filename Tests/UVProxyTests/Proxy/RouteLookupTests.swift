import XCTest
@testable import UVProxy

/// Routes are looked up on the request's path bytes (no String, no hash): exact paths first, then the
/// longest matching prefix; routes sharing a path come back together, in config order.
final class RouteLookupTests: XCTestCase {
    private func runtime() throws -> ProxyRuntime {
        try ProxyRuntime(config: ConfigLoader.parse(yaml: """
        upstreams:
          up: { url: "http://127.0.0.1:9" }
        routes:
          - { path: /v1/chat/completions, upstream: up, ingress: openai-chat, upstream_path: /a, methods: [POST] }
          - { path: /v1/chat/completions, upstream: up, ingress: passthrough, upstream_path: /b, methods: [GET] }
          - { path: /raw/*, upstream: up, ingress: passthrough, upstream_path: /r }
          - { path: /raw/deeper/*, upstream: up, ingress: passthrough, upstream_path: /d }
          - { path: /raw/exact, upstream: up, ingress: passthrough, upstream_path: /e }
          - { path: /m/*, upstream: up, ingress: passthrough, upstream_path: /g, methods: [GET] }
          - { path: /m/*, upstream: up, ingress: passthrough, upstream_path: /p, methods: [POST] }
        """, environment: [:]))
    }

    private func paths(_ r: ProxyRuntime, _ path: String) -> [String] {
        r.candidates(path: path).map { r.routes[$0].config.path + ($0 < 2 ? "#\($0)" : "") }
    }

    func testExactPrefixLongestPrefixAndNone() throws {
        let r = try runtime()
        XCTAssertEqual(paths(r, "/v1/chat/completions"), ["/v1/chat/completions#0", "/v1/chat/completions#1"])
        XCTAssertEqual(r.candidates(path: "/raw/exact").map { r.routes[$0].config.upstreamPath }, ["/e"], "exact beats a prefix")
        XCTAssertEqual(r.candidates(path: "/raw/x").map { r.routes[$0].config.upstreamPath }, ["/r/"])
        XCTAssertEqual(r.candidates(path: "/raw/deeper/x").map { r.routes[$0].config.upstreamPath }, ["/d/"], "longest prefix wins")
        XCTAssertEqual(r.candidates(path: "/m/x").map { r.routes[$0].config.upstreamPath }, ["/g/", "/p/"],
                       "one prefix, two methods: both routes, in file order")
        for miss in ["", "/", "/v1/chat/completion", "/v1/chat/completions/", "/V1/chat/completions", "/ra", "/v1/chat/completionsX"] {
            XCTAssertEqual(r.candidates(path: miss), [], miss)
        }
    }

    /// The router alone, on paths as bytes: indices as given, shared entries in the order given.
    func testRouterOnItsOwn() {
        let router = Router([(path: "/a/", isPrefix: true, index: 7), (path: "/a/b", isPrefix: false, index: 3),
                             (path: "/a/", isPrefix: true, index: 1), (path: "/a/b/", isPrefix: true, index: 5)])
        func lookup(_ path: String) -> [Int] {
            var p = path
            return p.withUTF8 { router.candidates(path: UnsafeRawBufferPointer($0)) }
        }
        XCTAssertEqual(lookup("/a/b"), [3])
        XCTAssertEqual(lookup("/a/b/c"), [5])
        XCTAssertEqual(lookup("/a/x"), [7, 1])
        XCTAssertEqual(lookup("/a/"), [7, 1])
        XCTAssertEqual(lookup("/a"), [])
        XCTAssertEqual(Router([]).candidates(path: UnsafeRawBufferPointer(start: nil, count: 0)), [])
    }

    /// The byte lookup agrees with String comparison on every prefix of the configured paths.
    func testEveryPrefixOfEveryPath() throws {
        let r = try runtime()
        for route in r.routes {
            let path = Array(route.config.path.utf8)
            for n in 0...path.count + 1 {
                let probe = String(decoding: path.prefix(n), as: UTF8.self) + (n > path.count ? "z" : "")
                let expected = r.routes.indices.filter { !r.routes[$0].config.isPrefix && r.routes[$0].config.path == probe }
                let got = r.candidates(path: probe)
                if !expected.isEmpty { XCTAssertEqual(got, expected, probe); continue }
                // Every prefix route whose path is the longest matching one, in file order.
                let matching = r.routes.filter { $0.config.isPrefix && probe.hasPrefix($0.config.path) }
                let longest = matching.map(\.config.path.count).max()
                XCTAssertEqual(got, matching.filter { $0.config.path.count == longest }.map(\.index), probe)
            }
        }
    }
}
