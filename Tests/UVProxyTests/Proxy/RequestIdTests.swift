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

    /// A generated id goes into headers as bytes: the same bytes as its String, for every counter.
    func testGeneratedIdBytesMatchItsString() {
        let prefix = "mp-\(RequestIds.processPrefix)-0-"
        var x: UInt64 = 0x2545_F491_4F6C_DD1D
        var counters: [UInt64] = [0, 1, 35, 36, 1_295, 1_296, UInt64(UInt32.max), UInt64.max]
        for _ in 0..<2000 {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17
            counters.append(x >> (x % 64))
        }
        for counter in counters {
            let id = RequestID.generated(prefix: Array(prefix.utf8), counter: counter)
            XCTAssertEqual(id.string, prefix + String(counter, radix: 36))
            var digits: [UInt8] = [0x21]
            RequestIds.appendDigits(counter, into: &digits)
            XCTAssertEqual(digits, [0x21] + Array(String(counter, radix: 36).utf8))
            var header: [UInt8] = []
            id.appendHeader(into: &header)
            XCTAssertEqual(String(decoding: header, as: UTF8.self), "X-Request-Id: \(id.string)\r\n")
        }
        var header: [UInt8] = []
        RequestID.client("abc-123").appendHeader(into: &header)
        XCTAssertEqual(String(decoding: header, as: UTF8.self), "X-Request-Id: abc-123\r\n")
        XCTAssertEqual(RequestID.client("abc-123").string, "abc-123")
    }
}
