import XCTest
@testable import Providers
final class SmokeTests: XCTestCase { func testVersion() { XCTAssertFalse(ProvidersVersion.string.isEmpty) } }
