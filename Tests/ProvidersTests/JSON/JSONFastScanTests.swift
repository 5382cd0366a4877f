import XCTest
@testable import Providers

/// `JSONFastScan` must accept exactly what the detailed `JSONReader`/`JSONParser` accepts, because the
/// detailed path only runs after the fast one said "invalid". These tests compare the two on crafted
/// vectors, on every prefix of valid documents, and on deterministic random mutations.
final class JSONFastScanTests: XCTestCase {
    /// Fast verdict for a whole document: one value, surrounding whitespace only.
    private func fastValid(_ b: [UInt8]) -> Bool {
        b.withUnsafeBytes { raw -> Bool in
            var r = JSONReader(UnsafeRawBufferPointer(raw))
            r.skipWhitespace()
            var end = JSONFastScan.value(r.p, r.count, r.index, depth: 0, maxDepth: JSONParser.maxDepth)
            if end == JSONFastScan.tooDeep {
                // Finished by the detailed reader, as the callers do.
                guard (try? r.skipValueDetailed(depth: 0)) != nil else { return false }
                end = r.index
            }
            guard end >= 0 else { return false }
            return JSONFastScan.whitespace(r.p, r.count, end) == r.count
        }
    }

    private func parserValid(_ b: [UInt8]) -> Bool { (try? JSONParser.parse(b)) != nil }

    private func assertAgree(_ b: [UInt8], _ note: @autoclosure () -> String = "", line: UInt = #line) {
        let parsed = parserValid(b)
        XCTAssertEqual(fastValid(b), parsed, "value: \(note()) \(b.utf8String.debugDescription)", line: line)
        // The object scanner: fast path and detailed path agree, on validity and on members.
        struct Recorder: JSONMemberVisitor {
            var spans: [JSONMemberSpan] = []
            mutating func member(_ m: JSONMemberSpan) { spans.append(m) }
        }
        b.withUnsafeBytes { raw in
            var fast = Recorder()
            var slow = Recorder()
            let f = JSONObjectScanner.fastScanMembers(raw, into: &fast)
            let s = try? JSONObjectScanner.detailedScanMembers(raw, into: &slow)
            XCTAssertEqual(f == nil, s == nil, "object: \(note()) \(b.utf8String.debugDescription)", line: line)
            if let f, let s {
                XCTAssertEqual(f.openBrace, s.openBrace, line: line)
                XCTAssertEqual(f.closeBrace, s.closeBrace, line: line)
                XCTAssertEqual(fast.spans, slow.spans, line: line)
            }
            if s != nil { XCTAssertEqual(parsed, true, line: line) }
        }
    }

    static let valid: [String] = [
        #"{"model":"gpt-5","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello in five words."}],"max_tokens":64,"temperature":0.2}"#,
        " { \"a\" : 1.50 ,\"b\\u0063\":{\"x\":[1, 2]},\"s\":\"v\",\"t\":true,\"n\":null,\"l\":[] } \n",
        "{\"e\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\"}",
        "{\"u\":\"é€😀 ascii then ü\",\"k\":[-0,0.5e+3,1E-2,-12.25,123456789012345678901234567890]}",
        "[true,false,null,{},[],\"\",0]",
        "\"just a string with eight+ bytes in it\"",
        "-1.0e9",
        "{\"a\":{\"b\":{\"c\":[[[[{\"d\":\"deep\"}]]]]}}}",
        "\t\r\n {\"ws\" \t:\r\n [ 1 ,\n2 ] }\t",
    ]

    static let invalid: [String] = [
        "", " ", "{", "}", "[", "]", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "[1,]", "[,1]", "{,}", "{\"a\" 1}",
        "{a:1}", "{'a':1}", "[01]", "[1.]", "[.5]", "[1e]", "[1e+]", "[-]", "[+1]", "[0x10]", "[1.5e3.2]",
        "[tru]", "[truee]", "[nul]", "[fals]", "[falsy]", "[True]", "[NaN]", "[Infinity]",
        "[\"\\x\"]", "[\"\\u12\"]", "[\"\\u12G4\"]", "[\"\\uD800\"]", "[\"\\uDC00\"]", "[\"\\uD800\\u0041\"]",
        "[\"\\uD800\\\"]", "[\"a\tb\"]", "[\"a\nb\"]", "[\"unterminated]", "[\"abcdefghijklmnop", "{} {}", "[1] x",
        "[1]]", "{\"a\":1}}", "/* c */ {}", "[1 2]", "{\"a\":1 \"b\":2}",
    ]

    static let invalidBytes: [[UInt8]] = [
        [0x5B, 0x22, 0xC0, 0x80, 0x22, 0x5D],  // overlong
        [0x5B, 0x22, 0xC1, 0xBF, 0x22, 0x5D],
        [0x5B, 0x22, 0xE0, 0x80, 0x80, 0x22, 0x5D],  // overlong 3
        [0x5B, 0x22, 0xED, 0xA0, 0x80, 0x22, 0x5D],  // UTF-16 surrogate
        [0x5B, 0x22, 0xF0, 0x80, 0x80, 0x80, 0x22, 0x5D],  // overlong 4
        [0x5B, 0x22, 0xF4, 0x90, 0x80, 0x80, 0x22, 0x5D],  // > U+10FFFF
        [0x5B, 0x22, 0xF5, 0x80, 0x80, 0x80, 0x22, 0x5D],
        [0x5B, 0x22, 0x80, 0x22, 0x5D],  // lone continuation
        [0x5B, 0x22, 0xE2, 0x82, 0x22, 0x5D],  // truncated
        [0x5B, 0x22, 0xE2, 0x28, 0xA1, 0x22, 0x5D],
        [0x5B, 0x22, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0xFF, 0x22, 0x5D],  // after 8 ASCII
        [0x5B, 0x22, 0x00, 0x22, 0x5D],
        [0x5B, 0x22, 0x7F, 0x22, 0x5D],  // DEL is allowed: valid (checked below)
    ]

    func testAgreesOnCraftedVectors() {
        for s in Self.valid {
            XCTAssertTrue(parserValid(bytes(s)), s)
            assertAgree(bytes(s), "valid")
        }
        for s in Self.invalid {
            XCTAssertFalse(parserValid(bytes(s)), s)
            assertAgree(bytes(s), "invalid")
        }
        for b in Self.invalidBytes { assertAgree(b, "bytes") }
        XCTAssertTrue(fastValid([0x5B, 0x22, 0x7F, 0x22, 0x5D]))
    }

    func testAgreesOnEveryPrefixAndEveryStopByteOffset() {
        for s in Self.valid {
            let b = bytes(s)
            for cut in 0...b.count { assertAgree(Array(b[..<cut]), "prefix \(cut)") }
        }
        // A special byte at each offset of the eight-byte window, inside a string.
        let specials: [[UInt8]] = [[0x22], [0x5C, 0x6E], [0x1F], [0x09], [0xC3, 0xA9], [0xC3], [0xFF], [0x7F], [0x20]]
        for special in specials {
            for at in 0..<20 {
                let content = [UInt8](repeating: 0x61, count: at) + special + [UInt8](repeating: 0x62, count: 11)
                assertAgree([0x7B, 0x22, 0x6B, 0x22, 0x3A, 0x22] + content + [0x22, 0x7D], "special at \(at)")
            }
        }
    }

    func testAgreesOnRandomMutations() {
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: seed >> 33)
        }
        let alphabet: [UInt8] = Array("{}[]\":,\\ \n0123456789-+.eEtrufalsn\u{7F}".utf8) + [0x00, 0x1F, 0x80, 0xC3, 0xE2, 0xF0, 0xED, 0xA9]
        for s in Self.valid {
            let base = bytes(s)
            for _ in 0..<300 {
                var b = base
                for _ in 0..<(1 + next() % 3) {
                    let at = next() % (b.count + 1)
                    switch next() % 3 {
                    case 0 where at < b.count: b[at] = alphabet[next() % alphabet.count]
                    case 1 where at < b.count: b.remove(at: at)
                    default: b.insert(alphabet[next() % alphabet.count], at: at)
                    }
                }
                assertAgree(b, "mutation")
            }
        }
    }

    func testDepthLimitAndDeepValuesPastTheRegisterStack() {
        for depth in [63, 64, 65, 100, 511, 512, 513] {
            let array = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
            XCTAssertEqual(fastValid(bytes(array)), depth <= 512, "\(depth)")
            assertAgree(bytes(array), "depth \(depth)")
            // Inside an object member, the depth counts the object too.
            let member = "{\"a\":" + String(repeating: "{\"b\":", count: depth - 1) + "1" + String(repeating: "}", count: depth)
            assertAgree(bytes(member), "member depth \(depth)")
            let mixed = "{\"a\":" + String(repeating: "[{\"b\":", count: depth / 2) + "1" + String(repeating: "}]", count: depth / 2) + ",\"z\":2}"
            assertAgree(bytes(mixed), "mixed depth \(depth)")
        }
        let deepOK = "{\"a\":" + String(repeating: "[", count: 200) + String(repeating: "]", count: 200) + ",\"b\":true}"
        let scan = try? JSONObjectScanner.scan(bytes(deepOK))
        XCTAssertEqual(scan?.members.map(\.key), ["a", "b"])
        XCTAssertEqual(scan?.members.map(\.kind), [.array, .bool])
    }

    func testStopBytesFindsTheFirstSpecialByte() {
        func reference(_ b: [UInt8]) -> Int? {
            b.firstIndex { $0 == 0x22 || $0 == 0x5C || $0 < 0x20 || $0 >= 0x80 }
        }
        for value in 0...255 {
            for at in 0..<8 {
                var b = [UInt8](repeating: 0x61, count: 8)
                b[at] = UInt8(value)
                // A second special byte later must not hide the first.
                if at < 7 { b[7] = 0x22 }
                let word = b.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                let stops = JSONReader.stopBytes(word)
                let found: Int? = stops == 0 ? nil : stops.trailingZeroBitCount / 8
                XCTAssertEqual(found, reference(b), "byte \(value) at \(at)")
            }
        }
    }

    func testMemberSpanKeyIs() throws {
        let b = bytes(#"{"model":1,"mo\u0064el":2,"max_tokens":3,"m":4}"#)
        struct Keys: JSONMemberVisitor {
            let bytes: UnsafeRawBufferPointer
            var model: [Bool] = []
            mutating func member(_ m: JSONMemberSpan) { model.append(m.keyIs("model", in: bytes)) }
        }
        try b.withUnsafeBytes { raw in
            var v = Keys(bytes: raw)
            let braces = try JSONObjectScanner.scanMembers(raw, into: &v)
            XCTAssertEqual(v.model, [true, true, false, false])
            XCTAssertEqual(braces.openBrace, 0)
            XCTAssertEqual(braces.closeBrace, b.count - 1)
        }
        // Errors thrown by scanMembers are the detailed reader's.
        let bad = bytes("{\"a\":[1,}")
        let error: JSONError? = bad.withUnsafeBytes { raw in
            var v = Keys(bytes: raw)
            do throws(JSONError) {
                _ = try JSONObjectScanner.scanMembers(raw, into: &v)
                return nil
            } catch {
                return error
            }
        }
        XCTAssertEqual(error, JSONError(message: "unexpected character '}'", offset: 8))
    }
}
