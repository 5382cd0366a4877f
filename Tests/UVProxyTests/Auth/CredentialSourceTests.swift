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
}
