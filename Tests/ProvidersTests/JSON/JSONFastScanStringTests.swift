import XCTest

@testable import Providers

/// `JSONFastScan.string` (a word at a time, then `longRun`) and `vectorString` (sixteen and 32 bytes at a
/// time, inside `value`) must answer exactly as the byte loop `stringBytewise`: the same end index (or
/// -1) and the same `escaped` flag, wherever the byte that stops a plain run sits in or across words,
/// wherever the string starts, and wherever the buffer ends.
final class JSONFastScanStringTests: XCTestCase {
    private struct Answer: Equatable {
        var end: Int
        var escaped: Bool
    }

    private enum Scan: CaseIterable { case words, vectors, bytes }

    private func scan(_ b: [UInt8], start: Int, count: Int, _ how: Scan) -> Answer {
        b.withUnsafeBufferPointer { buffer in
            guard let p = buffer.baseAddress else { return Answer(end: -1, escaped: false) }
            var escaped = false
            let end: Int
            switch how {
            case .words: end = JSONFastScan.string(p, count, start, &escaped)
            case .vectors: end = JSONFastScan.vectorString(p, count, start, &escaped)
            case .bytes: end = JSONFastScan.stringBytewise(p, count, start, &escaped)
            }
            // After a failure the flag says nothing (callers drop it): compare it only on success.
            return Answer(end: end, escaped: end < 0 ? false : escaped)
        }
    }

    /// All three scans of the string whose quote is at `start`, over the first `count` bytes of `b`.
    @discardableResult
    private func assertSame(
        _ b: [UInt8], start: Int, count: Int? = nil, _ note: @autoclosure () -> String, line: UInt = #line
    ) -> Answer {
        let n = count ?? b.count
        let reference = scan(b, start: start, count: n, .bytes)
        for how in [Scan.words, .vectors] {
            let answer = scan(b, start: start, count: n, how)
            if answer != reference {
                XCTFail("\(how): \(answer) != \(reference): \(note())", line: line)
            }
        }
        return reference
    }

    /// Bytes that stop a plain run (and a few that must not), alone or with what follows them.
    private static let stops: [[UInt8]] = [
        [0x22], [0x5C, 0x6E], [0x5C, 0x22], [0x5C, 0x5C], [0x5C, 0x74], [0x5C, 0x2F], [0x5C, 0x62],
        [0x5C, 0x75, 0x30, 0x30, 0x65, 0x39],
        [0x5C, 0x75, 0x44, 0x38, 0x33, 0x44, 0x5C, 0x75, 0x44, 0x45, 0x30, 0x30], [0x5C, 0x78], [0x5C],
        [0x5C, 0x75, 0x44, 0x38, 0x30, 0x30],
        [0x00], [0x09], [0x0A], [0x1F], [0x7F], [0x20], [0x21], [0x23], [0x5B], [0x5D],
        [0xC3, 0xA9], [0xE2, 0x80, 0x94], [0xF0, 0x9F, 0x98, 0x80], [0xC3], [0xE2, 0x80], [0x80], [0xFF], [0xC0, 0x80],
        [0xED, 0xA0, 0x80],
    ]

    /// One stop at every offset of a 0...80-byte run (in and across 8-, 16- and 32-byte steps), after
    /// every start offset 0...16, with the closing quote, without it, and with the buffer cut right at,
    /// after and inside the stop.
    func testEveryStopAtEveryOffset() {
        var checked = 0
        for stop in Self.stops {
            for before in 0...80 {
                for startOffset in [0, 1, 3, 7, 8, 9, 15, 16] {
                    let prefix = [UInt8](repeating: 0x7B, count: startOffset) + [0x22]
                    let run = (0..<before).map { UInt8(0x61 + $0 % 26) }
                    let after = [UInt8](repeating: 0x62, count: before % 19)
                    let closed = prefix + run + stop + after + [0x22, 0x7D]
                    assertSame(closed, start: startOffset, "stop \(stop) after \(before), start \(startOffset)")
                    let open = prefix + run + stop + after
                    assertSame(open, start: startOffset, "unterminated, stop \(stop) after \(before)")
                    let stopAt = prefix.count + run.count
                    for cut in stopAt...(stopAt + stop.count) {
                        assertSame(
                            closed, start: startOffset, count: cut, "cut at \(cut), stop \(stop) after \(before)")
                    }
                    checked += 1
                }
            }
        }
        XCTAssertGreaterThan(checked, 10_000)
    }

    /// Two stops: the first one decides, wherever the second sits (a later mark must not hide an
    /// earlier one in the same word or vector).
    func testTheFirstOfTwoStopsDecides() {
        let pairs: [(UInt8, UInt8)] = [
            (0x22, 0x00), (0x00, 0x22), (0x5C, 0x22), (0x80, 0x22), (0x22, 0x5C), (0x1F, 0x80),
        ]
        for (first, second) in pairs {
            for a in 0..<40 {
                for b in (a + 1)..<min(a + 40, 72) {
                    var content = [UInt8](repeating: 0x61, count: 72)
                    content[a] = first
                    content[b] = second
                    let bytes = [0x22] + content + [0x22]
                    assertSame(bytes, start: 0, "\(first) at \(a), \(second) at \(b)")
                }
            }
        }
    }

    /// Random strings over a biased alphabet (mostly plain ASCII, some escapes, UTF-8 good and bad,
    /// control bytes), at random starts, in buffers cut at random lengths.
    func testRandomStrings() {
        var generator = ScanRandom(seed: 0x5EED)
        let plain = Array("abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789.,:;{}[]/-_".utf8)
        let rare: [[UInt8]] = [
            [0x22], [0x5C, 0x6E], [0x5C, 0x22], [0x5C, 0x5C], [0x5C, 0x74], [0x5C, 0x72],
            [0x5C, 0x75, 0x30, 0x30, 0x34, 0x31],
            [0x5C, 0x75, 0x64, 0x38, 0x33, 0x64, 0x5C, 0x75, 0x64, 0x65, 0x30, 0x30], [0x5C, 0x71], [0x0A], [0x00],
            [0x7F],
            [0xC3, 0xA9], [0xE2, 0x80, 0x94], [0xF0, 0x9F, 0x98, 0x80], [0xE2, 0x80], [0xBF], [0xF8],
        ]
        var completed = 0
        for _ in 0..<20_000 {
            let start = Int(generator.next() % 24)
            var bytes = [UInt8](repeating: 0x20, count: start) + [0x22]
            let length = Int(generator.next() % 300)
            let rarity = 4 + Int(generator.next() % 200)
            while bytes.count < start + 1 + length {
                if Int(generator.next() % UInt64(rarity)) == 0 {
                    bytes += rare[Int(generator.next() % UInt64(rare.count))]
                } else {
                    bytes.append(plain[Int(generator.next() % UInt64(plain.count))])
                }
            }
            if generator.next() % 4 != 0 { bytes.append(0x22) }
            bytes += [UInt8](repeating: 0x7D, count: Int(generator.next() % 20))
            let count =
                generator.next() % 5 == 0
                ? start + 1 + Int(generator.next() % UInt64(bytes.count - start)) : bytes.count
            if assertSame(bytes, start: start, count: count, "random \(bytes.utf8String.debugDescription)").end > 0 {
                completed += 1
            }
        }
        XCTAssertGreaterThan(completed, 1_000, "enough strings are valid and closed")
    }

    /// The vector scan is what `value` runs: long strings with stops near the ends of 32-byte steps,
    /// inside documents, still agree with the parser.
    func testLongStringsInsideDocuments() throws {
        for length in [15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65, 200, 4096] {
            for stop in ["\\n", "\\u00e9", "é", "\\\"", "\u{1F600}"] {
                let text = String(repeating: "x", count: length) + stop + String(repeating: "y", count: length % 7)
                let doc = #"{"system":[{"type":"text","text":"\#(text)"}],"n":1}"#
                let scan = try JSONObjectScanner.scan(Array(doc.utf8))
                XCTAssertEqual(scan.members.map(\.key), ["system", "n"], "\(length) \(stop)")
                var broken = Array(doc.utf8)
                broken.insert(0x01, at: 40 + length / 2)
                XCTAssertThrowsError(try JSONObjectScanner.scan(broken), "control byte at \(40 + length / 2)")
            }
        }
    }

    /// `plainRun` (SSE2 in C on x86-64) and the word arithmetic `wordPlainRun` (other CPUs) find the same
    /// first stop as a byte loop: every stop byte value at every offset 0...80 of a plain run, from every
    /// start 0...17, with the buffer ending at, before and after the stop.
    func testPlainRunsAgreeWithTheByteLoop() {
        func byteLoop(_ p: UnsafePointer<UInt8>, _ n: Int, _ start: Int) -> Int {
            var i = start
            while i < n, p[i] >= 0x20, p[i] < 0x80, p[i] != 0x22, p[i] != 0x5C { i += 1 }
            return i
        }
        var checked = 0
        for stop: UInt8 in [0x00, 0x0A, 0x1F, 0x22, 0x5C, 0x80, 0xC3, 0xFF] {
            for at in 0...80 {
                var b = [UInt8](repeating: 0, count: at + 40)
                for k in 0..<b.count {
                    let c = UInt8(0x20 + k % 95)
                    b[k] = c == 0x22 || c == 0x5C ? 0x61 : c
                }
                b[at] = stop
                b.withUnsafeBufferPointer { buffer in
                    let p = buffer.baseAddress!
                    for start in 0...min(at, 17) {
                        for n in Set([at, at + 1, at + 16, at + 33, b.count]) {
                            let want = byteLoop(p, n, start)
                            XCTAssertEqual(JSONFastScan.plainRun(p, n, start), want, "stop \(stop) at \(at) from \(start), n \(n)")
                            XCTAssertEqual(JSONFastScan.wordPlainRun(p, n, start), want, "words: stop \(stop) at \(at) from \(start), n \(n)")
                            checked += 1
                        }
                    }
                }
            }
        }
        XCTAssertGreaterThan(checked, 5000)
    }
}

/// A deterministic generator (SplitMix64) for the random strings.
private struct ScanRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
