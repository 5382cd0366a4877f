import XCTest

@testable import Providers

final class ReasoningBlockCodecTests: XCTestCase {
    typealias Base64 = ReasoningBlockCodec.Base64

    func encode(_ s: String) -> String {
        var out: [UInt8] = []
        Array(s.utf8).withUnsafeBytes { Base64.encode($0, into: &out) }
        return out.utf8String
    }

    func decode(_ s: String) -> String? {
        Array(s.utf8).withUnsafeBytes { Base64.decode($0) }.map(\.utf8String)
    }

    /// RFC 4648 §10 test vectors, both ways.
    func testRFC4648Vectors() {
        let vectors = [
            ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ]
        for (plain, encoded) in vectors {
            XCTAssertEqual(encode(plain), encoded, plain)
            XCTAssertEqual(decode(encoded), plain, encoded)
        }
    }

    /// Every byte value survives, at every length mod 3.
    func testAllBytesRoundTrip() {
        for length in 0..<260 {
            let data = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            var encoded: [UInt8] = []
            data.withUnsafeBytes { Base64.encode($0, into: &encoded) }
            XCTAssertEqual(encoded.withUnsafeBytes { Base64.decode($0) }, data, "length \(length)")
        }
    }

    /// One accepted spelling per byte string: wrong lengths, foreign bytes, misplaced padding and
    /// non-zero padding bits are refused.
    func testDecodeRefusesMalformedText() {
        for bad in ["Zg", "Zg=", "Zh==", "Zm9=", "Z===", "Zm 9v", "Zm9v\n", "=Zm9", "Zg==Zg==", "Zm-v", "Zm_v"] {
            XCTAssertNil(decode(bad), bad)
        }
    }

    /// Only Claude thinking blocks decode; OpenAI's own encrypted reasoning, other JSON and other types do not.
    func testOnlyThinkingBlocksDecode() {
        let thinking = #"{"type":"thinking","thinking":"x","signature":"s"}"#
        let redacted = #"{"type":"redacted_thinking","data":"d"}"#
        XCTAssertEqual(ReasoningBlockCodec.decode(encode(thinking))?.utf8String, thinking)
        XCTAssertEqual(ReasoningBlockCodec.decode(encode(redacted))?.utf8String, redacted)
        for other in [#"{"type":"text","text":"x"}"#, #"["thinking"]"#, #"{"type":"thinking""#, "not json"] {
            XCTAssertNil(ReasoningBlockCodec.decode(encode(other)), other)
        }
        XCTAssertNil(ReasoningBlockCodec.decode("gAAAAABoFernetLikeToken-from-OpenAI=="))
    }
}

final class CustomInputStreamTests: XCTestCase {
    /// Feeds the arguments' JSON text in `pieces`; returns what was streamed and the final state.
    func stream(_ pieces: [[UInt8]]) -> (String, CustomInputStream.State) {
        var streamer = CustomInputStream()
        var out: [UInt8] = []
        for piece in pieces { piece.withUnsafeBytes { streamer.feed($0, into: &out) } }
        return (out.utf8String, streamer.state)
    }

    /// The input string is streamed, JSON-escaped, whatever the cuts: inside the prefix, inside escapes,
    /// between the halves of a surrogate pair.
    func testStreamsTheInputStringAtEverySplit() {
        let arguments = bytes(#" { "input" : "a\n\"b\" \u00e9 \ud83d\ude00 \\ /\/ \t" , "x": 1}"#)
        let expected = (#"a\n\"b\" é 😀 \\ // \t"#, CustomInputStream.State.closed)
        assertEverySplit(arguments, expected: "\(expected)") { "\(stream($0))" }
    }

    /// Other shapes stop the streaming; the caller then sends the parsed input whole.
    func testFallsBackOnOtherShapes() {
        XCTAssertEqual(stream([bytes(#"{"note":1,"input":"x"}"#)]).1, .fallback)
        XCTAssertEqual(stream([bytes(#"{"in put":"x"}"#)]).1, .fallback)
        XCTAssertEqual(stream([bytes(#"{"input":"a\x"}"#)]).0, "a")
        XCTAssertEqual(stream([bytes(#"{"input":"a\x"}"#)]).1, .fallback)
        XCTAssertEqual(stream([bytes(#"{"input":"\udc00"}"#)]).1, .fallback)
        XCTAssertEqual(stream([bytes(#"{"input":"\ud83dxxxxxxx"}"#)]).1, .fallback)
        XCTAssertEqual(stream([bytes(#"{"input":"\u12g4"}"#)]).1, .fallback)
    }

    /// A cut string (the upstream stopped) leaves what was complete streamed, and the state open.
    func testCutStringKeepsWhatWasComplete() {
        XCTAssertEqual(stream([bytes(#"{"input":"abc\u00"#)]).0, "abc")
        XCTAssertEqual(stream([bytes(#"{"input":"abc\u00"#)]).1, .string)
    }
}
