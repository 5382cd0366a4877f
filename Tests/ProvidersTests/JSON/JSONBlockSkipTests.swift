import Foundation
import XCTest

@testable import Providers

/// The block-at-a-time skip (`CByteSearch_json_skip`, x86-64: string bytes looked at 64 at a time through
/// quote, backslash and control/non-ASCII bitmasks) must give exactly the answer of the byte-at-a-time
/// `JSONFastScan.scalarValue` on any bytes, from any start and depth: the same end index, -1 or `tooDeep`,
/// with SSE2 masks and with AVX2 masks. And where the scalar scan answers, the detailed `JSONReader` must
/// agree (valid with the same end, or invalid). The inputs put what crosses a block boundary (escapes,
/// backslash runs, UTF-8 sequences, strings) at every offset around it, cut real bodies at every index and
/// change their bytes one at a time.
final class JSONBlockSkipTests: XCTestCase {
    #if arch(x86_64)
        /// The mask variants this machine runs: SSE2 always, AVX2 and AVX-512 where the CPU has them.
        private let variants = JSONFastScan.blockMasksHere

        /// Checks the scans of `b` from `start` against each other; returns the scalar answer. Stops the
        /// caller's loop early through `failures` (a broken scan would otherwise print thousands of lines).
        @discardableResult
        private func check(
            _ b: [UInt8], start: Int = 0, depth: Int = 0, maxDepth: Int = JSONParser.maxDepth,
            _ note: @autoclosure () -> String = "", line: UInt = #line
        ) -> Int {
            b.withUnsafeBufferPointer { buffer -> Int in
                // A non-empty buffer always (an empty one may have no base address): `n` says what is read.
                let p = buffer.baseAddress ?? UnsafePointer(bitPattern: 8).unsafelyUnwrapped
                let n = buffer.count
                let scalar = JSONFastScan.scalarValue(p, n, start, depth: depth, maxDepth: maxDepth)
                for masks in variants {
                    let block = JSONFastScan.blockValue(p, n, start, depth: depth, maxDepth: maxDepth, masks: masks)
                    if block != scalar {
                        failures += 1
                        XCTFail(
                            "\(masks) block skip \(block), scalar \(scalar): \(note()) start \(start) "
                                + "depth \(depth) \(describe(b))", line: line)
                    }
                }
                if scalar != JSONFastScan.tooDeep {
                    var r = JSONReader(UnsafeRawBufferPointer(buffer), maxDepth: maxDepth)
                    r.index = start
                    let detailed = (try? r.skipValueDetailed(depth: depth)) != nil ? r.index : -1
                    if detailed != scalar {
                        failures += 1
                        XCTFail("reader \(detailed), scalar \(scalar): \(note()) \(describe(b))", line: line)
                    }
                }
                return scalar
            }
        }

        private var failures = 0
        private var tooManyFailures: Bool { failures > 20 }

        private func describe(_ b: [UInt8]) -> String {
            b.count <= 300 ? b.utf8String.debugDescription : "(\(b.count) bytes)"
        }

        /// The bytes the brief names as interesting replacements: structure, string stops, controls,
        /// UTF-8 lead and continuation bytes, invalid bytes, whitespace, an escape letter and a digit.
        private static let interesting: [UInt8] = [
            0x22, 0x5C, 0x7B, 0x7D, 0x5B, 0x5D, 0x2C, 0x3A, 0x00, 0x1F, 0x7F, 0x80, 0xC0, 0xE2, 0xF0, 0xFF, 0x20,
            0x75, 0x30,
        ]

        /// Every fixture body and the bodies the other JSON tests use, whole (also as a sub-value at depth 1
        /// and 5) and cut at every index (the large Claude Code captures at every index of their first
        /// 4 KB, then every 257th: 257 and 64 are coprime, so the cuts fall at every offset in a block).
        func testFixturesWholeAndCutAtEveryIndex() throws {
            var bodies: [[UInt8]] = (JSONFastScanTests.valid + JSONFastScanTests.invalid).map(bytes)
            bodies += JSONFastScanTests.invalidBytes
            bodies += Self.fixtureBodies()
            XCTAssertGreaterThan(bodies.count, 250)
            var validCount = 0
            for body in bodies {
                let start = body.firstIndex { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) } ?? body.count
                if check(body, start: start, "whole") >= 0 { validCount += 1 }
                for depth in [1, 5] { check(body, start: start, depth: depth, "whole at depth \(depth)") }
                let cuts: [Int] =
                    body.count <= 8192 ? Array(0...body.count) : (0...body.count).filter { $0 < 4096 || $0 % 257 == 0 }
                for cut in cuts {
                    check(Array(body[..<cut]), start: min(start, cut), "cut at \(cut)")
                    if tooManyFailures { return }
                }
            }
            XCTAssertGreaterThan(validCount, 200)  // the scans were exercised on valid bodies, not only errors
        }

        /// A real Claude Code body and a Responses body with each byte changed to each interesting byte, in
        /// windows of a few KB (whole sub-values of the capture, with its escapes and non-ASCII text).
        func testRealBodiesWithEverySingleByteChange() throws {
            let claudeCode = Fixture.bytes("claude-code", "model-claude-opus-4-6.json")
            let windows =
                Self.subValues(of: claudeCode, sizes: 1500...5000, limit: 3)
                + [Self.fixtureBodies(folder: "responses-bedrock/request").max { $0.count < $1.count } ?? []]
            XCTAssertEqual(windows.count, 4)
            for window in windows {
                XCTAssertGreaterThanOrEqual(check(window, "unchanged"), 0)
                for at in window.indices {
                    for r in Self.interesting where r != window[at] {
                        var changed = window
                        changed[at] = r
                        check(changed, "byte \(at) to \(r)")
                    }
                    if tooManyFailures { return }
                }
            }
        }

        /// The whole Claude Code captures, changed at a stride (each change scanned to the end: the answers
        /// far from the change, where the masks' carries have run through many blocks).
        func testWholeClaudeCodeBodiesWithSpacedChanges() throws {
            for name in ["default.json", "model-claude-opus-4-6.json", "tool-round-trip.json"] {
                let body = Fixture.bytes("claude-code", name)
                XCTAssertGreaterThan(check(body, "unchanged"), 50_000)
                for at in stride(from: 7, to: body.count, by: 997) {
                    for r: UInt8 in [0x22, 0x5C, 0x00, 0xE2, 0x20, 0x75] where r != body[at] {
                        var changed = body
                        changed[at] = r
                        check(changed, "\(name) byte \(at) to \(r)")
                    }
                    if tooManyFailures { return }
                }
            }
        }

        /// Escapes and backslash runs of every length up to 6, followed by each kind of escape character,
        /// at every offset across the first two block boundaries, in a value that starts at several offsets.
        func testEscapesAndBackslashRunsAcrossBlockBoundaries() {
            let tails: [[UInt8]] = [
                bytes("\""), bytes("n"), bytes("\\"), bytes("/"), bytes("u0041"), bytes("uD83D\\uDE00"), bytes("uD83D"),
                bytes("uDE00"), bytes("uD83D\\u0041"), bytes("u12G4"), bytes("x"), bytes("\u{1}"), bytes("é"),
                bytes("\"\""), bytes(" "),
            ]
            for lead in [0, 1, 5] {
                for run in 1...6 {
                    for tail in tails {
                        for offset in 0..<140 {
                            var doc = [UInt8](repeating: 0x20, count: lead) + bytes("{\"k\":\"")
                            doc += [UInt8](repeating: 0x61, count: offset)
                            doc += [UInt8](repeating: 0x5C, count: run) + tail
                            doc += bytes("bc\",\"z\":[\"\\\\\",1]}")
                            check(doc, start: lead, "run \(run) tail \(tail.utf8String) at \(offset)")
                            // Cut right after the run and inside the tail: strings unterminated mid-escape.
                            let runEnd = lead + 6 + offset + run
                            for cut in [runEnd - 1, runEnd, runEnd + 1, runEnd + 3] where cut <= doc.count {
                                check(Array(doc[..<cut]), start: lead, "cut \(cut) run \(run) at \(offset)")
                            }
                        }
                        if tooManyFailures { return }
                    }
                }
            }
        }

        /// Multi-byte UTF-8 sequences, valid and invalid, at every offset across block boundaries (a
        /// sequence split between two blocks, or cut by the end of the input).
        func testUTF8SequencesAcrossBlockBoundaries() {
            let sequences: [[UInt8]] = [
                [0xC3, 0xA9], [0xE2, 0x82, 0xAC], [0xF0, 0x9F, 0x98, 0x80], [0xF4, 0x8F, 0xBF, 0xBF],
                [0xED, 0x9F, 0xBF],
                [0xEE, 0x80, 0x80], [0xE0, 0xA0, 0x80],
                [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF0, 0x80, 0x80, 0x80],
                [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0x80], [0xBF], [0xE2, 0x82], [0xE2, 0x28, 0xA1],
                [0xF0, 0x9F, 0x98], [0xC3, 0x22], [0xE2, 0x82, 0x5C], [0xFF], [0xC3, 0xA9, 0xA9],
            ]
            for sequence in sequences {
                for offset in 0..<140 {
                    var doc = bytes("[\"") + [UInt8](repeating: 0x61, count: offset) + sequence
                    doc += bytes("z\",\"é€😀\"]")
                    check(doc, "sequence \(sequence) at \(offset)")
                    let end = 2 + offset + sequence.count
                    for cut in (end - sequence.count)...end { check(Array(doc[..<cut]), "cut \(cut)") }
                    // Outside a string: never valid.
                    check(bytes("[") + [UInt8](repeating: 0x20, count: offset) + sequence + bytes("]"), "bare")
                }
                if tooManyFailures { return }
            }
        }

        /// Nesting around the fast paths' 64 open containers and around `maxDepth`: the same `tooDeep`,
        /// -1 or end, with the value's own depth given, and errors before or after the 65th container.
        func testDeepNesting() {
            for count in [1, 2, 62, 63, 64, 65, 66, 100, 510, 511, 512, 513] {
                let arrays = String(repeating: "[", count: count) + String(repeating: "]", count: count)
                let objects = String(repeating: "{\"k\":", count: count) + "1" + String(repeating: "}", count: count)
                let mixed =
                    String(repeating: "[{\"a\":\"\\n\\u00e9é\",\"b\":", count: count) + "0"
                    + String(repeating: "}]", count: count)
                let empties = String(repeating: "[", count: count) + "{}" + String(repeating: "]", count: count)
                for doc in [arrays, objects, mixed, empties] {
                    for depth in [0, 1, 448, 449, 450, 510, 511, 512] {
                        check(bytes(doc), depth: depth, "\(count) deep at depth \(depth)")
                    }
                    let b = bytes(doc)
                    for cut in stride(from: 0, through: min(b.count, 900), by: 7) {
                        check(Array(b[..<cut]), "cut \(cut)")
                    }
                }
            }
            // An invalid string before the 65th container is -1; after it, `tooDeep` (the reader decides).
            let bad = "\"\u{1}\""
            XCTAssertEqual(check(bytes("[" + bad + "," + String(repeating: "[", count: 70) + "]")), -1)
            XCTAssertEqual(
                check(bytes(String(repeating: "[", count: 65) + bad + String(repeating: "]", count: 65))),
                JSONFastScan.tooDeep)
            XCTAssertEqual(check(bytes(String(repeating: "[", count: 64) + bad + "]")), -1)
        }

        /// Random JSON from a seeded generator (strings with escapes, surrogate pairs, non-ASCII and long
        /// runs; numbers, literals, nesting, whitespace), whole, cut, and with random byte changes.
        func testSeededRandomJSON() {
            var generator = RandomJSON(seed: 0x5EED_B10C)
            for round in 0..<400 {
                let doc = generator.document()
                XCTAssertGreaterThanOrEqual(check(doc, "random \(round)"), 0)
                for cut in stride(from: round % 7, to: doc.count, by: max(7, doc.count / 64)) {
                    check(Array(doc[..<cut]), "cut \(cut)")
                }
                for _ in 0..<40 {
                    var changed = doc
                    let at = generator.below(doc.count)
                    changed[at] = Self.interesting[generator.below(Self.interesting.count)]
                    check(changed, "random \(round) byte \(at)")
                }
                if tooManyFailures { return }
            }
        }

        /// The variants the tests (and `value`) run are the ones the CPU flags allow: on the AVX2 and
        /// AVX-512 machines this suite runs on, all three are checked above.
        func testMaskVariantsFollowTheCPUFlags() throws {
            guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
                let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
            else { throw XCTSkip("no /proc/cpuinfo") }
            let flags = Set(line.split(separator: " ").map(String.init))
            let avx2 = flags.isSuperset(of: ["avx2", "bmi1", "bmi2"])
            let avx512 = avx2 && flags.isSuperset(of: ["avx512f", "avx512bw"])
            XCTAssertEqual(variants, avx512 ? [.sse2, .avx2, .avx512] : avx2 ? [.sse2, .avx2] : [.sse2])
        }

        /// `value` takes the block skip from `blockSkipMinimum` bytes left and the scalar scan below: both
        /// answer alike at the threshold, and callers that scan sub-values get their end index.
        func testValueDispatchAtTheThreshold() {
            let minimum = JSONFastScan.blockSkipMinimum
            for length in (minimum - 4)...(minimum + 4) {
                let doc = bytes("{\"k\":\"") + [UInt8](repeating: 0x61, count: length - 8) + bytes("\"}")
                XCTAssertEqual(doc.count, length)
                let end = doc.withUnsafeBufferPointer {
                    JSONFastScan.value($0.baseAddress!, $0.count, 0, depth: 0, maxDepth: JSONParser.maxDepth)
                }
                XCTAssertEqual(end, length)
                XCTAssertEqual(check(doc), length)
            }
            // A sub-value inside a longer document: its end, not the document's.
            let doc =
                bytes("{\"a\":{\"b\":\"\\\"x\\\\\"},\"c\":\"") + [UInt8](repeating: 0x63, count: 200) + bytes("\"}")
            XCTAssertEqual(check(doc, start: 5), 18)
        }

        /// `member` ends a string that is not plain within 32 bytes with the block skip (far enough from
        /// the end): from every quote of a Claude Code capture (opening and closing ones: the bytes between
        /// two strings make strings too), and a plain string ending at each offset around 32, it answers
        /// as the string scan does.
        func testMemberStringsAnswerAsTheStringScan() {
            let body = Fixture.bytes("claude-code", "tool-round-trip.json")
            var plain: [[UInt8]] = []
            for length in 28...40 {
                plain.append(bytes("\"") + [UInt8](repeating: 0x61, count: length) + bytes("\"") + Array(body[..<300]))
            }
            for doc in [body] + plain {
                doc.withUnsafeBufferPointer { b in
                    let p = b.baseAddress!
                    for s in b.indices where b[s] == 0x22 {
                        var escaped = false
                        let expected = JSONFastScan.stringBytewise(p, b.count, s, &escaped)
                        let got = JSONFastScan.member(p, b.count, s, depth: 1)
                        if got != expected {
                            failures += 1
                            XCTFail("member \(got), string scan \(expected) from \(s)")
                        }
                        if tooManyFailures { return }
                    }
                }
            }
        }

        // MARK: - Inputs

        /// Every `.json` fixture under Fixtures (or under `folder`).
        static func fixtureBodies(folder: String = "") -> [[UInt8]] {
            guard let root = Bundle.module.resourceURL?.appendingPathComponent("Fixtures/\(folder)"),
                let walker = FileManager.default.enumerator(atPath: root.path)
            else { return [] }
            var bodies: [[UInt8]] = []
            for case let path as String in walker where path.hasSuffix(".json") {
                if let data = FileManager.default.contents(atPath: root.appendingPathComponent(path).path) {
                    bodies.append([UInt8](data))
                }
            }
            return bodies
        }

        /// Up to `limit` objects inside `body` whose size is in `sizes`, one with a `\u` escape, one with
        /// non-ASCII bytes and one with the most escapes, where the capture has them.
        static func subValues(of body: [UInt8], sizes: ClosedRange<Int>, limit: Int) -> [[UInt8]] {
            var found: [[UInt8]] = []
            body.withUnsafeBufferPointer { b in
                var candidates: [[UInt8]] = []
                for s in b.indices where b[s] == 0x7B {
                    let e = JSONFastScan.scalarValue(
                        b.baseAddress!, b.count, s, depth: 0, maxDepth: JSONParser.maxDepth)
                    if e > s, sizes.contains(e - s) { candidates.append(Array(b[s..<e])) }
                }
                func pick(_ score: ([UInt8]) -> Int) {
                    if let best = candidates.max(by: { score($0) < score($1) }), score(best) > 0, !found.contains(best)
                    {
                        found.append(best)
                    }
                }
                pick { c in c.indices.dropLast().filter { c[$0] == 0x5C && c[$0 + 1] == 0x75 }.count }
                pick { c in c.filter { $0 >= 0x80 }.count }
                pick { c in c.filter { $0 == 0x5C }.count }
                for c in candidates where found.count < limit && !found.contains(c) { found.append(c) }
            }
            return Array(found.prefix(limit))
        }
    #endif
}

/// Random JSON documents from a seed (a 64-bit LCG): the same documents on every run.
struct RandomJSON {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func below(_ n: Int) -> Int {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int(truncatingIfNeeded: state >> 33) % max(n, 1)
    }

    mutating func document() -> [UInt8] {
        var out: [UInt8] = []
        value(into: &out, depth: 0)
        return out
    }

    private mutating func space(into out: inout [UInt8]) {
        if below(4) == 0 { out += [[0x20], [0x0A], [0x09, 0x20], [0x0D, 0x0A]][below(4)] }
    }

    private mutating func value(into out: inout [UInt8], depth: Int) {
        switch depth > 2 ? below(3) : below(7) {
        case 0: string(into: &out)
        case 1: out += Array(["0", "-1", "3.25", "1e9", "-0.5E-3", "12345678901234567890"][below(6)].utf8)
        case 2: out += Array(["true", "false", "null"][below(3)].utf8)
        case 3, 4:
            out.append(0x5B)
            for k in 0..<below(6) {
                if k > 0 { out.append(0x2C) }
                space(into: &out)
                value(into: &out, depth: depth + 1)
                space(into: &out)
            }
            out.append(0x5D)
        default:
            out.append(0x7B)
            for k in 0..<below(6) {
                if k > 0 { out.append(0x2C) }
                space(into: &out)
                string(into: &out)
                space(into: &out)
                out.append(0x3A)
                space(into: &out)
                value(into: &out, depth: depth + 1)
            }
            out.append(0x7D)
        }
    }

    private mutating func string(into out: inout [UInt8]) {
        out.append(0x22)
        let pieces = below(4) == 0 ? 40 + below(120) : below(8)
        for _ in 0..<pieces {
            switch below(12) {
            case 0: out += Array(#"\n"#.utf8)
            case 1: out += Array(#"\""#.utf8)
            case 2: out += Array(#"\\"#.utf8)
            case 3: out += Array(#"\u00e9\/\t"#.utf8)
            case 4: out += Array(#"\uD83D\uDE00"#.utf8)
            case 5: out += Array("é€😀".utf8)
            case 6: out += [UInt8](repeating: 0x61 + UInt8(below(26)), count: below(70))
            default: out += Array("word ".utf8)
            }
        }
        out.append(0x22)
    }
}
