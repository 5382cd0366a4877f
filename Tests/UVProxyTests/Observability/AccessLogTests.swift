import Foundation
import Glibc
import XCTest
@testable import UVProxy
@testable import UVNet
import Providers

final class AccessLogTests: XCTestCase {
    func tempPath() -> String {
        NSTemporaryDirectory() + "mp-access-\(UInt32.random(in: 0...UInt32.max)).log"
    }

    func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    func write(_ format: AccessLog.Format, _ build: (inout AccessLineWriter) -> Void) -> String {
        let storage = UnsafeMutablePointer<UInt8>.allocate(capacity: AccessLineWriter.maxLine)
        defer { storage.deallocate() }
        var w = AccessLineWriter(format: format, into: storage, capacity: AccessLineWriter.maxLine)
        Array("2026-12-06T20:15:32Z".utf8).withUnsafeBytes { w.time($0) }
        build(&w)
        w.end()
        return String(decoding: w.bytes, as: UTF8.self)
    }

    func sample(_ w: inout AccessLineWriter) {
        w.begin(requestId: .generated(prefix: Array("mp-ab-0-".utf8), counter: 36 * 36 + 5), method: "POST",
                path: "/bedrock/claude/v1/messages", status: 200, durationMs: 1234)
        w.upstream(Array("ai-gateway".utf8), status: 200)
        w.int("bytes", 617)
        w.string("note", "a \"quoted\"\nnote\u{1}")
        w.string("session", "dde586eb-46f2-4ccc-ae88-d6ee0b0a1e0b")
    }

    func testTextLineKeepsTheFormatToolsParse() {
        XCTAssertEqual(write(.text, sample),
                       "2026-12-06T20:15:32Z mp-ab-0-105 POST /bedrock/claude/v1/messages 200 1234ms upstream=ai-gateway/200 "
                       + "bytes=617 note=\"a  quoted  note\u{1}\" session=\"dde586eb-46f2-4ccc-ae88-d6ee0b0a1e0b\"\n")
        XCTAssertEqual(write(.text) { $0.begin(requestId: .client("abc"), method: "GET", path: "/", status: 404, durationMs: 0) },
                       "2026-12-06T20:15:32Z abc GET / 404 0ms\n")
    }

    func testJSONLineParses() throws {
        let line = write(.json, sample)
        XCTAssertTrue(line.hasSuffix("}\n"))
        let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(o["time"] as? String, "2026-12-06T20:15:32Z")
        XCTAssertEqual(o["request_id"] as? String, "mp-ab-0-105")
        XCTAssertEqual(o["method"] as? String, "POST")
        XCTAssertEqual(o["path"] as? String, "/bedrock/claude/v1/messages")
        XCTAssertEqual(o["status"] as? Int, 200)
        XCTAssertEqual(o["duration_ms"] as? Int, 1234)
        XCTAssertEqual(o["upstream"] as? String, "ai-gateway")
        XCTAssertEqual(o["upstream_status"] as? Int, 200)
        XCTAssertEqual(o["bytes"] as? Int, 617)
        XCTAssertEqual(o["note"] as? String, "a \"quoted\"\nnote\u{1}")
        let odd = write(.json) { $0.begin(requestId: .client(#"x"\y"#), method: "GET", path: #"/a"b\c"#, status: 499, durationMs: 7) }
        let p = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(odd.utf8)) as? [String: Any])
        XCTAssertEqual(p["request_id"] as? String, #"x"\y"#)
        XCTAssertEqual(p["path"] as? String, #"/a"b\c"#)
        XCTAssertEqual(write(.json) { $0.int("n", -42); $0.int("z", 0); $0.int("big", Int.max) },
                       #"{"time":"2026-12-06T20:15:32Z","n":-42,"z":0,"big":9223372036854775807}"# + "\n")
        // Every field is bounded: a 64 KiB path and note still make a line within maxLine.
        let huge = String(repeating: "\"", count: 64 * 1024)
        let long = write(.json) { $0.begin(requestId: .client("x"), method: "GET", path: "/" + huge, status: 200, durationMs: 1); $0.string("note", huge) }
        XCTAssertLessThan(long.utf8.count, AccessLineWriter.maxLine)
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(long.utf8)))
    }

    /// The prebuilt fields and a route's preformatted fields write the bytes the named writers write,
    /// in both formats, whatever the value holds (quotes, line breaks, backslashes, control bytes, a
    /// value longer than `maxString`, every length a small copy takes: 0 to 40 bytes).
    func testPrebuiltFieldsWriteWhatTheNamedWritersWrite() {
        let fields: [(AccessLineWriter.Field, StaticString)] = [
            (.bytes, "bytes"), (.ttfbMs, "ttfb_ms"), (.ttftMs, "ttft_ms"), (.inputTokens, "input_tokens"),
            (.outputTokens, "output_tokens"), (.cacheReadTokens, "cache_read_tokens"),
            (.cacheCreationTokens, "cache_creation_tokens"), (.reasoningTokens, "reasoning_tokens"),
            (.retries, "retries"), (.fallback, "fallback"),
        ]
        let strings: [(AccessLineWriter.Field, StaticString)] = [
            (.model, "model"), (.upstreamModel, "upstream_model"), (.stop, "stop"), (.key, "key"), (.note, "note"),
        ]
        var values = ["", "\"", "a\nb\rc\"d\\e\u{1}f\u{7f}", String(repeating: "x", count: 400), "claude-sonnet-4-5-20250929"]
        for n in 0...40 { values.append(String((0..<n).map { i in Character(UnicodeScalar(UInt8(0x41 + i % 26))) })) }
        for format in [AccessLog.Format.text, .json] {
            for (field, name) in fields {
                for v in [0, 7, 12, 99, 1234, 1 << 40, Int.max] {
                    XCTAssertEqual(write(format) { $0.int(field, v) }, write(format) { $0.int(name, v) }, "\(name) \(v)")
                }
            }
            for (field, name) in strings {
                for v in values {
                    XCTAssertEqual(write(format) { $0.string(field, v) }, write(format) { $0.string(name, v) }, "\(name) \(v)")
                }
            }
            for upstream in ["ai-gateway", "a\"b", "x"] {
                for route in ["/openai/v1/chat/completions", "/google/*", "/a\"b\\c"] {
                    let f = RouteLogFields(upstream: Array(upstream.utf8), route: Array(route.utf8))
                    let prebuilt = write(format) { $0.upstream(f, status: 502); $0.int(.bytes, 9); $0.route(f) }
                    let named = write(format) {
                        $0.upstream(Array(upstream.utf8), status: 502)
                        $0.int("bytes", 9)
                        $0.string("route", route)
                    }
                    XCTAssertEqual(prebuilt, named)
                }
            }
        }
        XCTAssertEqual(write(.text) { $0.int(.inputTokens, 12); $0.string(.stop, "end_turn") },
                       "2026-12-06T20:15:32Z input_tokens=12 stop=\"end_turn\"\n")
        XCTAssertEqual(write(.json) { $0.int(.inputTokens, 12); $0.string(.stop, "end_turn") },
                       #"{"time":"2026-12-06T20:15:32Z","input_tokens":12,"stop":"end_turn"}"# + "\n")
    }

    /// The two-digits-at-a-time decimal writer: every digit count, both sides of each power of ten,
    /// the extremes and negatives, against Swift's own `description`, in both formats.
    func testDecimalFieldsAtEveryLength() {
        var values = [0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 65535, Int.max, Int.max - 1, -1, -9, -10, -99, -100, Int.min, Int.min + 1]
        var p = 1
        for _ in 1...18 {
            p *= 10
            values += [p - 1, p, p + 1, -p, -(p - 1)]
        }
        for v in values {
            XCTAssertEqual(write(.text) { $0.int(.bytes, v) }, "2026-12-06T20:15:32Z bytes=\(v)\n", "\(v)")
            XCTAssertEqual(write(.json) { $0.int(.bytes, v) }, #"{"time":"2026-12-06T20:15:32Z","bytes":"# + "\(v)}\n", "\(v)")
        }
        let storage = UnsafeMutablePointer<UInt8>.allocate(capacity: 24)
        defer { storage.deallocate() }
        for v: UInt64 in [0, 9, 10, 35, 36, 37, 36 * 36 - 1, 36 * 36, 123_456_789, 1 << 63, UInt64.max] {
            let n = AccessLineWriter.base36(v, into: storage)
            XCTAssertEqual(String(decoding: UnsafeBufferPointer(start: storage, count: n), as: UTF8.self), String(v, radix: 36))
            XCTAssertEqual(write(.text) { $0.begin(requestId: .generated(prefix: Array("mp-".utf8), counter: v), method: "GET", path: "/", status: 200, durationMs: 0) },
                           "2026-12-06T20:15:32Z mp-\(String(v, radix: 36)) GET / 200 0ms\n")
        }
        for v: UInt in [0, 5, 10, 42, 100, 12345, 1 << 63, UInt.max] {
            let n = AccessLineWriter.decimal(v, into: storage)
            XCTAssertEqual(String(decoding: UnsafeBufferPointer(start: storage, count: n), as: UTF8.self), "\(v)")
        }
    }

    /// The word-at-a-time scans: one byte to replace (text) or escape (JSON) at every position of
    /// values of every length from 1 to 40, each of the bytes that need it and the bytes beside them
    /// (0x1F, 0x20, 0x21, 0x23, 0x5B, 0x5D, 0x7F, 0x80, 0xFF) that must stay, against a byte-by-byte
    /// reference.
    func testValuesScannedEightBytesAtATimeMatchByteByByte() throws {
        let special: [UInt8] = [0x00, 0x01, 0x0A, 0x0D, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x5B, 0x5C, 0x5D, 0x7F, 0x80, 0xFF]
        func textReference(_ b: [UInt8]) -> [UInt8] { b.map { $0 == 0x22 || $0 == 0x0A || $0 == 0x0D ? 0x20 : $0 } }
        func jsonReference(_ b: [UInt8]) -> [UInt8] {
            var out = [UInt8]()
            for c in b {
                switch c {
                case 0x22: out += Array(#"\""#.utf8)
                case 0x5C: out += Array(#"\\"#.utf8)
                case ..<0x20: out += Array(String(format: "\\u%04x", Int(c)).utf8)
                default: out.append(c)
                }
            }
            return out
        }
        let storage = UnsafeMutablePointer<UInt8>.allocate(capacity: AccessLineWriter.maxLine)
        defer { storage.deallocate() }
        func line(_ format: AccessLog.Format, _ value: [UInt8]) -> [UInt8] {
            var w = AccessLineWriter(format: format, into: storage, capacity: AccessLineWriter.maxLine)
            value.withUnsafeBytes { w.string(.note, $0) }
            return w.bytes
        }
        for n in 1...40 {
            for at in 0..<n {
                for c in special {
                    var v = (0..<n).map { UInt8(0x61 + $0 % 26) }
                    v[at] = c
                    XCTAssertEqual(line(.text, v), Array(" note=\"".utf8) + textReference(v) + [0x22], "text n=\(n) at=\(at) c=\(c)")
                    XCTAssertEqual(line(.json, v), Array(#","note":""#.utf8) + jsonReference(v) + [0x22], "json n=\(n) at=\(at) c=\(c)")
                }
            }
        }
        // Words of special bytes only, and none at all.
        for c in special {
            let v = [UInt8](repeating: c, count: 24)
            XCTAssertEqual(line(.text, v), Array(" note=\"".utf8) + textReference(v) + [0x22])
            XCTAssertEqual(line(.json, v), Array(#","note":""#.utf8) + jsonReference(v) + [0x22])
        }
    }

    /// `usage` writes what the five named token fields write, each present one in order, none for nil;
    /// String values (small, literal, native, bridged from a Substring) as their bytes.
    func testUsageAndStringFieldsWriteWhatTheNamedWritersWrite() {
        let cases = [
            TokenUsage(), TokenUsage(input: 0), TokenUsage(output: 9),
            TokenUsage(input: 12, output: 40, cacheRead: 0, cacheCreation: 100, reasoning: 99),
            TokenUsage(input: Int.max, cacheRead: 10, reasoning: 1_000_000),
        ]
        for format in [AccessLog.Format.text, .json] {
            for u in cases {
                let named = write(format) { w in
                    if let v = u.input { w.int("input_tokens", v) }
                    if let v = u.output { w.int("output_tokens", v) }
                    if let v = u.cacheRead { w.int("cache_read_tokens", v) }
                    if let v = u.cacheCreation { w.int("cache_creation_tokens", v) }
                    if let v = u.reasoning { w.int("reasoning_tokens", v) }
                }
                XCTAssertEqual(write(format) { $0.usage(u) }, named, "\(u)")
            }
            let long = String(repeating: "claude-\"x\"\n", count: 40)
            for v in ["", "stop", "end_turn", "gpt-4o-mini-2024-07-18", long, String(long.dropFirst(3)), String(long.utf8.prefix(20))!] {
                var bytes = Array(v.utf8)
                let viaBytes = write(format) { w in bytes.withUnsafeMutableBytes { w.string(.stop, UnsafeRawBufferPointer($0)) } }
                XCTAssertEqual(write(format) { $0.string(.stop, v) }, viaBytes, v)
            }
        }
        XCTAssertEqual(write(.text) { $0.usage(TokenUsage(input: 12, output: 40, cacheRead: 0)) },
                       "2026-12-06T20:15:32Z input_tokens=12 output_tokens=40 cache_read_tokens=0\n")
    }

    /// Lines wait in the loop's buffer and leave together at the end of the iteration.
    func testLinesAreWrittenAtTheEndOfTheIteration() throws {
        let path = tempPath()
        defer { unlink(path) }
        let loop = EventLoop()
        let buffer = AccessLogBuffer(sink: AccessLog(enabled: true, format: .text, path: path), loop: loop)
        for i in 0..<3 {
            buffer.line { $0.begin(requestId: .client("r\(i)"), method: "GET", path: "/x", status: 200, durationMs: 1) }
        }
        XCTAssertEqual(read(path), "", "nothing written before the iteration ends")
        loop.runOnce()
        let lines = read(path).split(separator: "\n")
        XCTAssertEqual(lines.count, 3)
        XCTAssertTrue(lines[2].hasSuffix(" r2 GET /x 200 1ms"), String(lines[2]))
        // A full buffer is written at once.
        let big = String(repeating: "n", count: 300)
        var written = 0
        while read(path).split(separator: "\n").count == 3 {
            buffer.line { $0.begin(requestId: .client("b"), method: "GET", path: "/x", status: 200, durationMs: 1); $0.string("note", big) }
            written += 1
            XCTAssertLessThan(written, 1000)
        }
        XCTAssertGreaterThan(written, AccessLogBuffer.flushAt / 400, "many lines went out in one write, with no iteration end")
        buffer.close()
        loop.runOnce()
        XCTAssertEqual(read(path).split(separator: "\n").count, 3 + written, "close writes what is left")
    }

    /// A line from a timer callback (a 504, a 408) is written before the loop waits again, not at the
    /// next event.
    func testALineFromATimerIsWrittenWithoutWaitingForTheNextEvent() throws {
        let path = tempPath()
        defer { unlink(path) }
        let loop = EventLoop()
        let buffer = AccessLogBuffer(sink: AccessLog(enabled: true, format: .text, path: path), loop: loop)
        let writer = Timer(loop: loop)
        let checker = Timer(loop: loop)
        writer.keepLoopAlive()
        checker.keepLoopAlive()
        var seen = ""
        writer.start(after: 10) {
            buffer.line { $0.begin(requestId: .client("t"), method: "POST", path: "/x", status: 504, durationMs: 10) }
        }
        checker.start(after: 300) {
            seen = self.read(path)
            writer.close()
            checker.close()
            buffer.close()
        }
        loop.unrefWakeup()
        loop.run()
        XCTAssertTrue(seen.contains(" t POST /x 504 "), "written before the next event: \(seen)")
    }

    /// logrotate: the file is moved away, SIGUSR1 reopens the path, later lines go to the new file.
    func testReopenAfterRotation() throws {
        let path = tempPath()
        defer { unlink(path); unlink(path + ".1") }
        let sink = AccessLog(enabled: true, format: .json, path: path)
        Array("{\"a\":1}\n".utf8).withUnsafeBytes { sink.write($0) }
        XCTAssertEqual(rename(path, path + ".1"), 0)
        Array("{\"a\":2}\n".utf8).withUnsafeBytes { sink.write($0) }
        sink.reopen()
        Array("{\"a\":3}\n".utf8).withUnsafeBytes { sink.write($0) }
        XCTAssertEqual(read(path + ".1"), "{\"a\":1}\n{\"a\":2}\n")
        XCTAssertEqual(read(path), "{\"a\":3}\n")
    }

    /// Through the proxy: the JSON log has one line per exchange with the request's fields.
    func testProxyWritesJSONLines() throws {
        let path = tempPath()
        defer { unlink(path) }
        let yaml = TestStack.basicConfig.replacingOccurrences(of: "access_log: false", with: "access_log: { format: json, path: \(path) }")
        let stack = try TestStack(yaml: yaml)
        let c = try stack.client()
        c.send(RawHTTPClient.post("/openai/v1/chat/completions?x=secret-query", body: #"{"model":"gpt-5","messages":[{"role":"user","content":"hi"}]}"#,
                                  headers: ["X-Claude-Code-Session-Id": "s-1", "X-Client-Request-Id": "c-7",
                                            "Authorization": "Bearer client-secret"]))
        XCTAssertEqual(try XCTUnwrap(c.readResponse()).status, 200)
        c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(try XCTUnwrap(c.readResponse()).status, 200)
        stack.stop()
        let lines = read(path).split(separator: "\n")
        XCTAssertEqual(lines.count, 2, read(path))
        let first = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        XCTAssertEqual(first["path"] as? String, "/openai/v1/chat/completions", "no query values")
        XCTAssertEqual(first["upstream"] as? String, "mock")
        XCTAssertEqual(first["session"] as? String, "s-1")
        XCTAssertEqual(first["client_request_id"] as? String, "c-7")
        XCTAssertFalse(read(path).contains("client-secret"))
        XCTAssertFalse(read(path).contains("secret-query"))
    }
}
