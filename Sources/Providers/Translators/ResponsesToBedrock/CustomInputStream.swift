/// Streams the `input` string of a custom tool call while Claude writes its `{"input": "..."}` arguments.
///
/// Claude sends a tool's input as pieces of JSON text; a custom tool's client wants the decoded string
/// (`response.custom_tool_call_input.delta`). Each piece is read as it comes: once the text is seen to
/// start `{"input":"`, the string's content is decoded and written (JSON-escaped, for the event) up to the
/// last complete character; an escape cut by a piece boundary waits for the next piece. Anything else
/// (other members first) stops the streaming before it starts: the caller then sends the whole input,
/// parsed from the finished arguments, as one delta. An invalid escape stops it midway (the upstream
/// broke JSON; the `.done` event still carries the input as parsed).
struct CustomInputStream {
    enum State: Equatable {
        /// Matching `{"input":"`.
        case prefix
        /// Inside the string.
        case string
        /// The string ended.
        case closed
        /// The arguments are not of the expected shape: nothing more is streamed.
        case fallback
    }

    private(set) var state = State.prefix
    /// Some of the input was written.
    private(set) var streamed = false
    /// Prefix bytes matched so far, or the start of an escape cut by the end of a piece.
    private var held: [UInt8] = []
    private var decoded: [UInt8] = []

    /// Feeds a piece of the arguments' JSON text; appends the newly complete part of the input string,
    /// escaped as JSON string content, to `out`.
    mutating func feed(_ piece: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        var i = 0
        let n = piece.count
        if state == .prefix {
            while i < n, state == .prefix {
                held.append(piece[i])
                i += 1
                matchPrefix()
            }
            if state != .string { return }
        }
        guard state == .string else { return }
        decoded.removeAll(keepingCapacity: true)
        var bytes = held
        held.removeAll(keepingCapacity: true)
        bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: piece[i...]))
        var k = 0
        while k < bytes.count {
            let c = bytes[k]
            if c == UInt8(ascii: "\"") {
                state = .closed
                break
            }
            guard c == UInt8(ascii: "\\") else {
                decoded.append(c)
                k += 1
                continue
            }
            switch escape(bytes, at: k) {
            case .incomplete:
                held.append(contentsOf: bytes[k...])
                k = bytes.count
            case .invalid:
                state = .fallback
                k = bytes.count
            case .complete(let length):
                k += length
            }
        }
        if decoded.isEmpty { return }
        streamed = true
        let start = out.count
        decoded.withUnsafeBytes { JSON.writeString(utf8: $0, to: &out) }
        out.remove(at: start)
        out.removeLast()
    }

    /// `{`, `"input"`, `:` and the opening quote, with any whitespace between.
    private mutating func matchPrefix() {
        let expected: [UInt8] = Array(#"{"input":""#.utf8)
        var e = 0
        for c in held {
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 {
                // Whitespace is allowed between tokens, not inside `"input"`.
                if e == 0 || e == 1 || e == 8 || e == 9 { continue }
                state = .fallback
                return
            }
            guard e < expected.count, c == expected[e] else {
                state = .fallback
                return
            }
            e += 1
        }
        if e == expected.count {
            state = .string
            held.removeAll(keepingCapacity: true)
        }
    }

    private enum Escape {
        case incomplete
        case invalid
        case complete(Int)
    }

    /// Decodes the escape at `k` into `decoded`.
    private mutating func escape(_ bytes: [UInt8], at k: Int) -> Escape {
        guard k + 1 < bytes.count else { return .incomplete }
        switch bytes[k + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(bytes[k + 1])
        case UInt8(ascii: "b"): decoded.append(0x08)
        case UInt8(ascii: "f"): decoded.append(0x0C)
        case UInt8(ascii: "n"): decoded.append(0x0A)
        case UInt8(ascii: "r"): decoded.append(0x0D)
        case UInt8(ascii: "t"): decoded.append(0x09)
        case UInt8(ascii: "u"):
            guard k + 6 <= bytes.count else { return .incomplete }
            guard let high = Self.hex4(bytes, k + 2) else { return .invalid }
            if high >= 0xDC00 && high <= 0xDFFF { return .invalid }
            guard high >= 0xD800 && high <= 0xDBFF else {
                JSONReader.appendUTF8(high, to: &decoded)
                return .complete(6)
            }
            guard k + 12 <= bytes.count else { return .incomplete }
            guard bytes[k + 6] == UInt8(ascii: "\\"), bytes[k + 7] == UInt8(ascii: "u"),
                let low = Self.hex4(bytes, k + 8),
                low >= 0xDC00 && low <= 0xDFFF
            else { return .invalid }
            JSONReader.appendUTF8(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00), to: &decoded)
            return .complete(12)
        default:
            return .invalid
        }
        return .complete(2)
    }

    private static func hex4(_ bytes: [UInt8], _ at: Int) -> UInt32? {
        var value: UInt32 = 0
        for k in at..<(at + 4) {
            let c = bytes[k]
            let digit: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }
}
