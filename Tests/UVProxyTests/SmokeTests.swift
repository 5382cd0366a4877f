import XCTest
@testable import UVProxy
final class SmokeTests: XCTestCase { func testVersion() { XCTAssertFalse(MiniProxyVersion.string.isEmpty) } }
