/// Claude's thinking blocks carried through a Responses client as a `reasoning` item's `encrypted_content`.
///
/// The Responses API gives a stateless client (`store: false`) the model's reasoning as an opaque
/// `encrypted_content` string and expects it back, unchanged, in the next request's `input`. Claude wants
/// its `thinking` blocks (with their `signature`) and `redacted_thinking` blocks back the same way, byte for
/// byte. So the opaque string is the standard base64 (RFC 4648, with padding) of the exact JSON bytes of one
/// block: what the upstream sent for a whole response, or, for a stream, the compact
/// `{"type":"thinking","thinking":...,"signature":...}` rebuilt from its deltas. Decoding checks that the
/// bytes are one JSON object whose `type` is `thinking` or `redacted_thinking`; anything else (an OpenAI
/// reasoning item from another model, a forged string) is not a Claude block and is left out.
enum ReasoningBlockCodec {
    /// The `encrypted_content` for a block's JSON bytes.
    static func encode(_ block: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        Base64.encode(block, into: &out)
    }

    /// The block's exact JSON bytes, or nil when `text` is not the encoding of a Claude thinking block.
    static func decode(_ text: String) -> [UInt8]? {
        var text = text
        guard let bytes = text.withUTF8({ Base64.decode(UnsafeRawBufferPointer($0)) }) else { return nil }
        let isBlock: Bool = bytes.withUnsafeBytes { buffer in
            guard let block = FieldPicker.pick(buffer, "type") else { return false }
            return block.isString(block[0], "thinking") || block.isString(block[0], "redacted_thinking")
        }
        return isBlock ? bytes : nil
    }
}

extension ReasoningBlockCodec {
    /// Standard base64 with padding (RFC 4648 §4). No line breaks; decoding refuses anything else.
    enum Base64 {
        private static let alphabet: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

        static func encode(_ bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) {
            let table = alphabet.utf8Start
            out.reserveCapacity(out.count + (bytes.count + 2) / 3 * 4)
            var i = 0
            let n = bytes.count
            while i + 3 <= n {
                let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
                out.append(table[Int(v >> 18 & 63)])
                out.append(table[Int(v >> 12 & 63)])
                out.append(table[Int(v >> 6 & 63)])
                out.append(table[Int(v & 63)])
                i += 3
            }
            if n - i == 1 {
                let v = UInt32(bytes[i]) << 16
                out.append(table[Int(v >> 18 & 63)])
                out.append(table[Int(v >> 12 & 63)])
                out.append(UInt8(ascii: "="))
                out.append(UInt8(ascii: "="))
            } else if n - i == 2 {
                let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
                out.append(table[Int(v >> 18 & 63)])
                out.append(table[Int(v >> 12 & 63)])
                out.append(table[Int(v >> 6 & 63)])
                out.append(UInt8(ascii: "="))
            }
        }

        /// nil for a length that is not a multiple of 4, a byte outside the alphabet, misplaced padding, or
        /// padding bits that are not zero (so every byte string has exactly one accepted encoding).
        static func decode(_ text: UnsafeRawBufferPointer) -> [UInt8]? {
            let n = text.count
            guard n % 4 == 0 else { return nil }
            var out: [UInt8] = []
            out.reserveCapacity(n / 4 * 3)
            var i = 0
            while i < n {
                let last = i + 4 == n
                guard let a = value(text[i]), let b = value(text[i + 1]) else { return nil }
                let c = text[i + 2]
                let d = text[i + 3]
                if last && c == UInt8(ascii: "=") {
                    guard d == UInt8(ascii: "="), b & 0x0F == 0 else { return nil }
                    out.append(a << 2 | b >> 4)
                } else if last && d == UInt8(ascii: "=") {
                    guard let cv = value(c), cv & 0x03 == 0 else { return nil }
                    out.append(a << 2 | b >> 4)
                    out.append(b << 4 | cv >> 2)
                } else {
                    guard let cv = value(c), let dv = value(d) else { return nil }
                    out.append(a << 2 | b >> 4)
                    out.append(b << 4 | cv >> 2)
                    out.append(cv << 6 | dv)
                }
                i += 4
            }
            return out
        }

        @inline(__always) private static func value(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): return c - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): return c - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0") + 52
            case UInt8(ascii: "+"): return 62
            case UInt8(ascii: "/"): return 63
            default: return nil
            }
        }
    }
}
