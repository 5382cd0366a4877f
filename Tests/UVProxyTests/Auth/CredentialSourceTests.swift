import XCTest
@testable import UVProxy
import UVNet
import Providers

/// Static and environment credentials: the prefixed value (joined once, at start) on every call, and
/// the missing variable's error. Commands are tested through the proxy (`CredentialCommandTests`).
final class CredentialSourceTests: XCTestCase {
    private func values(_ source: CredentialSource, calls: Int) -> [Result<String, APIError>] {
        let loop = EventLoop()
        var got: [Result<String, APIError>] = []
        for _ in 0..<calls { source.value(on: loop) { got.append($0) } }
        return got
    }

    func testStaticValueIsPrefixedOnEveryCall() throws {
        let source = CredentialSource(config: AuthConfig(prefix: "slauth ", source: .staticValue("tok-1")))
        let got = values(source, calls: 3)
        XCTAssertEqual(got.count, 3)
        for r in got { XCTAssertEqual(try r.get(), "slauth tok-1") }
    }

    func testEnvValueIsPrefixedOnEveryCall() throws {
        let source = CredentialSource(config: AuthConfig(source: .env("GW_TOKEN"), token: "tok-2"))
        let got = values(source, calls: 2)
        XCTAssertEqual(got.count, 2)
        for r in got { XCTAssertEqual(try r.get(), "Bearer tok-2") }
    }

    func testUnsetOrEmptyEnvValueFailsNamingTheVariable() {
        for token in [nil, ""] as [String?] {
            let source = CredentialSource(config: AuthConfig(source: .env("GW_TOKEN"), token: token))
            let got = values(source, calls: 2)
            XCTAssertEqual(got.count, 2)
            for r in got {
                guard case .failure(let e) = r else { return XCTFail("a value for an unset variable: \(r)") }
                XCTAssertEqual(e.status, 502)
                XCTAssertTrue(e.message.contains("GW_TOKEN"), e.message)
            }
        }
    }

    func testCachedValueOfStaticAndEnvSources() {
        XCTAssertEqual(CredentialSource(config: AuthConfig(prefix: "slauth ", source: .staticValue("tok-1"))).cachedValue(rejected: nil),
                       "slauth tok-1")
        let env = CredentialSource(config: AuthConfig(source: .env("GW_TOKEN"), token: "tok-2"))
        XCTAssertEqual(env.cachedValue(rejected: nil), "Bearer tok-2")
        XCTAssertEqual(env.cachedValue(rejected: "Bearer tok-2"), "Bearer tok-2", "a fixed value cannot be refreshed")
        // An unset variable has no value at hand: value(on:) answers its error.
        XCTAssertNil(CredentialSource(config: AuthConfig(source: .env("GW_TOKEN"), token: nil)).cachedValue(rejected: nil))
    }

    /// The command's token is at hand only once a run stored it and until it expires; a rejected token
    /// is dropped (and the next value(on:) runs the command again), another token is not.
    func testCachedValueIsTheFreshCommandTokenOnly() throws {
        final class Clock: @unchecked Sendable { var now = 1_000.0 }
        let clock = Clock()
        let source = CredentialSource(config: AuthConfig(prefix: "slauth ", source: .command(.argv(["/bin/echo", "tok-3"])), ttl: 60_000),
                                      clock: { clock.now })
        let loop = EventLoop()
        func fetch(rejected: String? = nil) throws -> String {
            var got: Result<String, APIError>?
            source.value(on: loop, rejected: rejected) { got = $0 }
            while got == nil { loop.runOnce(); usleep(1_000) }
            return try XCTUnwrap(got).get()
        }
        XCTAssertNil(source.cachedValue(rejected: nil), "nothing before the first run")
        XCTAssertEqual(try fetch(), "slauth tok-3")
        XCTAssertEqual(source.runs, 1)
        XCTAssertEqual(source.cachedValue(rejected: nil), "slauth tok-3")
        XCTAssertEqual(source.cachedValue(rejected: "slauth other"), "slauth tok-3", "only the refused token is dropped")
        clock.now += 59
        XCTAssertEqual(source.cachedValue(rejected: nil), "slauth tok-3")
        clock.now += 2
        XCTAssertNil(source.cachedValue(rejected: nil), "expired after the TTL")
        XCTAssertEqual(try fetch(), "slauth tok-3")
        XCTAssertEqual(source.runs, 2)
        XCTAssertEqual(source.cachedValue(rejected: nil), "slauth tok-3")
        XCTAssertNil(source.cachedValue(rejected: "slauth tok-3"), "a refused token is not handed out again")
        XCTAssertNil(source.cachedValue(rejected: nil))
        XCTAssertEqual(try fetch(rejected: "slauth tok-3"), "slauth tok-3")
        XCTAssertEqual(source.runs, 3)
    }
}
