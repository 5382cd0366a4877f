/// Writes SSE events. Data containing line breaks is split into one `data:` line per line, so a
/// multi-line payload cannot end the event early.
public enum SSEEncoder {
    /// `event: <name>\ndata: <data>\n\n`
    public static func event(_ name: StaticString, data: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        out.append(contentsOf: "event: ".utf8)
        out.append(contentsOf: UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        out.append(0x0A)
        dataLines(data, into: &out)
    }

    /// `event: <name>\ndata: <data>\n\n` with a runtime name (must not contain line breaks).
    public static func event(name: UnsafeRawBufferPointer, data: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        out.append(contentsOf: "event: ".utf8)
        out.append(contentsOf: name)
        out.append(0x0A)
        dataLines(data, into: &out)
    }

    public static func event(_ name: String, data: [UInt8], into out: inout [UInt8]) {
        out.append(contentsOf: "event: ".utf8)
        out.append(contentsOf: name.utf8)
        out.append(0x0A)
        data.withUnsafeBytes { dataLines($0, into: &out) }
    }

    /// `data: <data>\n\n`
    public static func data(_ data: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        dataLines(data, into: &out)
    }

    public static func data(_ data: [UInt8], into out: inout [UInt8]) {
        data.withUnsafeBytes { dataLines($0, into: &out) }
    }

    /// `: <text>\n\n`, a comment clients ignore (keep-alive).
    public static func comment(_ text: StaticString, into out: inout [UInt8]) {
        out.append(contentsOf: ": ".utf8)
        out.append(contentsOf: UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        out.append(contentsOf: [0x0A, 0x0A])
    }

    private static func dataLines(_ data: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        var start = 0
        var i = 0
        let n = data.count
        while i < n {
            let c = data[i]
            if c == 0x0A || c == 0x0D {
                out.append(contentsOf: "data: ".utf8)
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: data[start..<i]))
                out.append(0x0A)
                i += (c == 0x0D && i + 1 < n && data[i + 1] == 0x0A) ? 2 : 1
                start = i
            } else {
                i += 1
            }
        }
        out.append(contentsOf: "data: ".utf8)
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: data[start..<n]))
        out.append(contentsOf: [0x0A, 0x0A])
    }
}
