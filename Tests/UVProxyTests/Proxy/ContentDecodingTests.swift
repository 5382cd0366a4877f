import CCompression
import Foundation
import XCTest
@testable import UVProxy

/// Request bodies with Content-Encoding: decoded whole, bounded by the limit, refused when unknown or
/// corrupt; and over loopback, a compressed Anthropic request reaches the strict mock decoded.
final class ContentDecodingTests: XCTestCase {
    static let body = Array((#"{"model":"claude-opus-4-6","max_tokens":5,"messages":[{"role":"user","content":""#
        + String(repeating: "compress me ", count: 8000) + #""}]}"#).utf8)

    static func zlib(_ input: [UInt8], windowBits: Int32) -> [UInt8] {
        var s = z_stream()
        deflateInit2_(&s, 6, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        defer { deflateEnd(&s) }
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&s, UInt(input.count))) + 64)
        var inCopy = input
        inCopy.withUnsafeMutableBufferPointer { i in
            out.withUnsafeMutableBufferPointer { o in
                s.next_in = i.baseAddress
                s.avail_in = UInt32(i.count)
                s.next_out = o.baseAddress
                s.avail_out = UInt32(o.count)
                _ = deflate(&s, Z_FINISH)
            }
        }
        return Array(out[0..<Int(s.total_out)])
    }

    static func zstd(_ input: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: ZSTD_compressBound(input.count))
        let n = input.withUnsafeBytes { i in out.withUnsafeMutableBytes { o in ZSTD_compress(o.baseAddress, o.count, i.baseAddress, i.count, 3) } }
        return Array(out[0..<n])
    }

    /// `{"model":"claude-opus-4-6",...,"content":"hello brotli hello brotli hello brotli"}]}`, brotli quality 5.
    static let brotliSample: [UInt8] = [27,121,0,0,4,2,183,150,42,187,12,237,61,85,113,113,131,19,129,172,168,48,164,12,38,27,60,134,229,240,60,86,78,121,191,244,99,150,119,56,164,93,188,103,185,26,167,125,85,154,50,144,244,241,21,162,246,138,163,139,249,186,230,47,142,251,66,65,56,172,23,6,201,47,28,28,58,114,38,146,101,220,186,90,56,252,254,15]

    func testEachCodingRoundTrips() throws {
        let limit = 1 << 20
        XCTAssertEqual(try ContentDecoding.decode(Self.zlib(Self.body, windowBits: 31), codings: [.gzip], limit: limit), Self.body)
        XCTAssertEqual(try ContentDecoding.decode(Self.zlib(Self.body, windowBits: 15), codings: [.deflate], limit: limit), Self.body)
        XCTAssertEqual(try ContentDecoding.decode(Self.zlib(Self.body, windowBits: -15), codings: [.deflate], limit: limit), Self.body,
                       "raw deflate is accepted too")
        XCTAssertEqual(try ContentDecoding.decode(Self.zstd(Self.body), codings: [.zstd], limit: limit), Self.body)
        let br = try ContentDecoding.decode(Self.brotliSample, codings: [.br], limit: limit)
        XCTAssertTrue(String(decoding: br, as: UTF8.self).hasSuffix(#"hello brotli hello brotli hello brotli"}]}"#))
        // Applied in order gzip then zstd: undone zstd first.
        let stacked = Self.zstd(Self.zlib(Self.body, windowBits: 31))
        XCTAssertEqual(try ContentDecoding.decode(stacked, codings: try ContentDecoding.codings("gzip, zstd"), limit: limit), Self.body)
        XCTAssertEqual(try ContentDecoding.codings("identity"), [])
        XCTAssertEqual(try ContentDecoding.codings(" ZSTD "), [.zstd])
    }

    func testLimitsUnknownAndCorrupt() throws {
        // A bomb: 64 MiB of zeros in a few KB of zstd; stops at the limit.
        let zeros = [UInt8](repeating: 0, count: 64 << 20)
        let bomb = Self.zstd(zeros)
        XCTAssertLessThan(bomb.count, 64 << 10)
        XCTAssertThrowsError(try ContentDecoding.decode(bomb, codings: [.zstd], limit: 1 << 20)) {
            XCTAssertEqual($0 as? ContentDecoding.Failure, .tooLarge(limit: 1 << 20))
        }
        let gzipBomb = Self.zlib(zeros, windowBits: 31)
        XCTAssertThrowsError(try ContentDecoding.decode(gzipBomb, codings: [.gzip], limit: 1 << 20)) {
            XCTAssertEqual($0 as? ContentDecoding.Failure, .tooLarge(limit: 1 << 20))
        }
        // Exactly at the limit is fine.
        XCTAssertEqual(try ContentDecoding.decode(Self.zstd(Self.body), codings: [.zstd], limit: Self.body.count).count, Self.body.count)
        XCTAssertThrowsError(try ContentDecoding.decode(Self.zstd(Self.body), codings: [.zstd], limit: Self.body.count - 1))
        XCTAssertThrowsError(try ContentDecoding.codings("gzip, compress")) {
            XCTAssertEqual($0 as? ContentDecoding.Failure, .unsupported("compress"))
        }
        for (coding, data) in [(ContentDecoding.Coding.gzip, Self.zlib(Self.body, windowBits: 31)), (.zstd, Self.zstd(Self.body)),
                               (.br, Self.brotliSample), (.deflate, Self.zlib(Self.body, windowBits: 15))] {
            let truncated = Array(data.prefix(data.count / 2))
            XCTAssertThrowsError(try ContentDecoding.decode(truncated, codings: [coding], limit: 1 << 20), "\(coding) truncated") {
                guard case .corrupt = $0 as? ContentDecoding.Failure else { return XCTFail("\($0)") }
            }
            XCTAssertThrowsError(try ContentDecoding.decode(Array("not compressed at all".utf8), codings: [coding], limit: 1 << 20), "\(coding)")
        }
    }

    func testSeveralGzipMembersAndTrailingData() throws {
        let a = Array(#"{"a":"#.utf8), b = Array("1}".utf8)
        let two = Self.zlib(a, windowBits: 31) + Self.zlib(b, windowBits: 31)
        XCTAssertEqual(try ContentDecoding.decode(two, codings: [.gzip], limit: 1 << 20), a + b, "RFC 1952: members concatenate")
        XCTAssertThrowsError(try ContentDecoding.decode(Self.zlib(a, windowBits: 15) + [1, 2, 3], codings: [.deflate], limit: 1 << 20))
        XCTAssertThrowsError(try ContentDecoding.decode(Self.zlib(a, windowBits: 31) + [0x1f], codings: [.gzip], limit: 1 << 20))
        XCTAssertEqual(try ContentDecoding.decode(Self.zstd(a) + Self.zstd(b), codings: [.zstd], limit: 1 << 20), a + b, "zstd frames concatenate")
        XCTAssertThrowsError(try ContentDecoding.decode(Self.zstd(a) + [9, 9, 9], codings: [.zstd], limit: 1 << 20))
    }

    func testCompressedRequestsOverLoopback() throws {
        let stack = try TestStack(yaml: TestStack.basicConfig + "\nlimits: { max_body_bytes: 1048576 }")
        defer { stack.stop() }
        let c = try stack.client()
        func post(_ body: [UInt8], encoding: String) throws -> RawHTTPClient.Response {
            var head = "POST /bedrock/claude/v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            head += "Content-Encoding: \(encoding)\r\nContent-Length: \(body.count)\r\n\r\n"
            c.send(Array(head.utf8) + body)
            return try XCTUnwrap(c.readResponse())
        }
        XCTAssertEqual(try post(Self.zstd(Self.body), encoding: "zstd").status, 200)
        XCTAssertEqual(try post(Self.zlib(Self.body, windowBits: 31), encoding: "gzip").status, 200)
        XCTAssertEqual(try post(Self.brotliSample, encoding: "br").status, 200)
        let bomb = try post(Self.zstd([UInt8](repeating: 0x20, count: 8 << 20)), encoding: "zstd")
        XCTAssertEqual(bomb.status, 413)
        XCTAssertTrue(bomb.text.contains("once decoded"), bomb.text)
        let c2 = try stack.client()
        c2.send(Array("POST /bedrock/claude/v1/messages HTTP/1.1\r\nHost: x\r\nContent-Encoding: compress\r\nContent-Length: 2\r\n\r\n{}".utf8))
        let unknown = try XCTUnwrap(c2.readResponse())
        XCTAssertEqual(unknown.status, 415)
        XCTAssertEqual(unknown.json?["type"] as? String, "error", "in the route's (Anthropic) dialect")
    }
}
