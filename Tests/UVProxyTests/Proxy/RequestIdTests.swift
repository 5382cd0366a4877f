import XCTest
@testable import UVProxy

/// Request ids are built by hand per request; they must equal the standard library's base-36 text.
final class RequestIdTests: XCTestCase {
    func testMatchesStandardBase36() {
        var values: [UInt64] = [0, 1, 9, 10, 35, 36, 37, 1295, 1296, 46_655, 46_656, UInt64(UInt32.max), UInt64.max, UInt64.max - 1]
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<2000 {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17
            values.append(x >> (x % 64))
        }
        for prefix in ["", "mp-1abc-0-", "mp-é-"] {
            for v in values {
                XCTAssertEqual(RequestIds.make(prefix: prefix, counter: v), prefix + String(v, radix: 36))
            }
        }
    }

    func testIdsAreAcceptedWhenEchoedBack() {
        XCTAssertTrue(RequestIds.isAcceptable(RequestIds.make(prefix: "mp-\(RequestIds.processPrefix)-0-", counter: 12345)))
    }

    /// Ids fit the 15 bytes a String keeps inline (no allocation per request) up to 36^5 requests.
    func testGeneratedIdsStayInline() {
        XCTAssertEqual(RequestIds.processPrefix.utf8.count, 4)
        XCTAssertTrue(RequestIds.processPrefix.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x7a).contains($0) })
        let prefix = "mp-\(RequestIds.processPrefix)-0-"
        for counter: UInt64 in [1, 35, 36, 1_295, 46_656, 60_466_175] {
            XCTAssertLessThanOrEqual(RequestIds.make(prefix: prefix, counter: counter).utf8.count, 15, "counter \(counter)")
        }
        XCTAssertEqual(RequestIds.make(prefix: prefix, counter: 60_466_176).utf8.count, 16)
    }
}
