import Glibc
import UVNet
import HTTP1

/// One loop's access-log lines: formatted from bytes into a buffer (no `String` per field) and written
/// before the loop next waits for I/O (`IterationEndHook`), or at once when the buffer passes 32 KiB.
/// Under load a write carries the lines of every exchange that ended in one iteration; idle, a line is
/// written right after the callback that produced it. Loop-confined.
final class AccessLogBuffer {
    let sink: AccessLog
    /// Lines not yet written: `storage[0..<used]`. Fixed memory, written through a pointer: appending
    /// to an array per field cost ~2,600 instructions per line.
    private let storage: UnsafeMutablePointer<UInt8>
    private var used = 0
    private var hook: IterationEndHook?
    /// The formatted time of `cachedSecond` (`2026-12-06T20:15:32Z`).
    private var cachedSecond = -1
    private var cachedTime: (UInt64, UInt64, UInt64) = (0, 0, 0)
    private var cachedTimeCount = 0
    static let flushAt = 32 * 1024
    /// Room after `flushAt` for one more line: every field is truncated so a line is far shorter.
    static let capacity = flushAt + AccessLineWriter.maxLine

    init(sink: AccessLog, loop: EventLoop) {
        self.sink = sink
        storage = .allocate(capacity: sink.enabled ? Self.capacity : 1)
        guard sink.enabled else { return }
        hook = IterationEndHook(loop: loop) { [unowned self] in self.flush() }
    }

    deinit {
        hook?.close()
        storage.deallocate()
    }

    var enabled: Bool { sink.enabled }

    /// Appends one line, built by `build` with the fields of `AccessLineWriter`.
    @inline(__always)
    func line(_ build: (inout AccessLineWriter) -> Void) {
        guard let hook else { return }
        let now = time(nil)
        if now != cachedSecond { formatTime(now) }
        var w = AccessLineWriter(format: sink.format, into: storage + used, capacity: Self.capacity - used)
        withUnsafeBytes(of: &cachedTime) { w.time(UnsafeRawBufferPointer(rebasing: $0[0..<cachedTimeCount])) }
        build(&w)
        w.end()
        used += w.count
        if used >= Self.flushAt { flush() } else { hook.arm() }
    }

    func flush() {
        guard used > 0 else { return }
        sink.write(UnsafeRawBufferPointer(start: storage, count: used))
        used = 0
    }

    /// Writes what is left and stops (the worker's loop is ending).
    func close() {
        flush()
        hook?.close()
        hook = nil
    }

    private func formatTime(_ t: time_t) {
        var t = t
        var tmv = tm()
        gmtime_r(&t, &tmv)
        cachedTimeCount = withUnsafeMutableBytes(of: &cachedTime) { b in
            b.withMemoryRebound(to: CChar.self) { strftime($0.baseAddress, 24, "%Y-%m-%dT%H:%M:%SZ", &tmv) }
        }
        cachedSecond = t
    }
}

/// Formats one access-log line in place: text (`<time> <id> <METHOD> <path> <status> <ms>ms key=value…`,
/// strings quoted) or JSON lines (`{"time":…,"request_id":…,…}`). Writes through a pointer into room
/// of at least `maxLine` bytes; each field is cut to a bounded length, so a line never needs more.
struct AccessLineWriter {
    /// Longer than any line: path ≤ 2 KiB (escaped ≤ 12 KiB in JSON), string fields ≤ 300 bytes of
    /// text (1 KiB escaped in JSON: ≤ 6 KiB), the rest small; at most a dozen fields per line.
    static let maxLine = 64 * 1024
    static let maxPath = 2048
    static let maxString = 300

    let format: AccessLog.Format
    private let base: UnsafeMutablePointer<UInt8>
    private let capacity: Int
    private(set) var count = 0
    private var started = false

    init(format: AccessLog.Format, into base: UnsafeMutablePointer<UInt8>, capacity: Int) {
        self.format = format
        self.base = base
        self.capacity = capacity
    }

    /// The line so far (tests).
    var bytes: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

    /// The line's first field.
    mutating func time(_ t: UnsafeRawBufferPointer) {
        if format == .json { put(#"{"time":""#) }
        put(t)
        if format == .json { put(0x22) }
    }

    /// The fields every line starts with (after the time).
    mutating func begin(requestId: RequestID, method: UnsafeRawBufferPointer, path: UnsafeRawBufferPointer,
                        status: Int, durationMs: UInt64) {
        let path = UnsafeRawBufferPointer(rebasing: path.prefix(Self.maxPath))
        switch format {
        case .text:
            put(0x20)
            putId(requestId, escaped: false)
            put(0x20)
            put(UnsafeRawBufferPointer(rebasing: method.prefix(32)))
            put(0x20)
            put(path)
            put(0x20)
            putInt(status)
            put(0x20)
            putInt(Int(durationMs))
            put("ms")
        case .json:
            put(#","request_id":""#)
            putId(requestId, escaped: true)
            put(#"","method":""#)
            putEscaped(UnsafeRawBufferPointer(rebasing: method.prefix(32)))
            put(#"","path":""#)
            putEscaped(path)
            put(#"","status":"#)
            putInt(status)
            put(#","duration_ms":"#)
            putInt(Int(durationMs))
        }
    }

    mutating func begin(requestId: RequestID, method: String, path: String, status: Int, durationMs: UInt64) {
        var m = method
        var p = path
        m.withUTF8 { mb in
            p.withUTF8 { pb in
                begin(requestId: requestId, method: UnsafeRawBufferPointer(mb), path: UnsafeRawBufferPointer(pb),
                      status: status, durationMs: durationMs)
            }
        }
    }

    /// `upstream=<name>/<status>` (JSON: `"upstream"` and `"upstream_status"`).
    mutating func upstream(_ name: [UInt8], status: Int) {
        name.withUnsafeBytes { n in
            let n = UnsafeRawBufferPointer(rebasing: n.prefix(128))
            switch format {
            case .text:
                put(" upstream=")
                put(n)
                put(0x2F)
            case .json:
                put(#","upstream":""#)
                putEscaped(n)
                put(#"","upstream_status":"#)
            }
        }
        putInt(status)
    }

    mutating func int(_ key: StaticString, _ value: Int) {
        switch format {
        case .text:
            put(0x20)
            put(key)
            put(0x3D)
        case .json:
            put(#",""#)
            put(key)
            put(#"":"#)
        }
        putInt(value)
    }

    /// A string field; text keeps it on one line (quotes and line breaks become spaces), JSON escapes
    /// it; at most `maxString` bytes of it either way.
    mutating func string(_ key: StaticString, _ value: UnsafeRawBufferPointer) {
        let v = UnsafeRawBufferPointer(rebasing: value.prefix(Self.maxString))
        switch format {
        case .text:
            put(0x20)
            put(key)
            put(#"=""#)
            let at = base + count
            put(v)
            for i in 0..<v.count where at[i] == 0x22 || at[i] == 0x0A || at[i] == 0x0D { at[i] = 0x20 }
            put(0x22)
        case .json:
            put(#",""#)
            put(key)
            put(#"":""#)
            putEscaped(v)
            put(0x22)
        }
    }

    mutating func string(_ key: StaticString, _ value: String) {
        var v = value
        v.withUTF8 { string(key, UnsafeRawBufferPointer($0)) }
    }

    /// A field value of a request head, as sent.
    mutating func header(_ key: StaticString, _ head: HTTPRequestHead, _ index: Int) {
        let range = head.fields[index].value
        head.bytes.withUnsafeBytes { string(key, UnsafeRawBufferPointer(rebasing: $0[range])) }
    }

    mutating func end() {
        if format == .json { put(0x7D) }
        put(0x0A)
    }

    // MARK: Bytes

    @inline(__always) private mutating func put(_ c: UInt8) {
        guard count < capacity else { return }
        base[count] = c
        count += 1
    }

    @inline(__always) private mutating func put(_ b: UnsafeRawBufferPointer) {
        let n = min(b.count, capacity - count)
        guard n > 0, let src = b.baseAddress else { return }
        (base + count).update(from: src.assumingMemoryBound(to: UInt8.self), count: n)
        count += n
    }

    @inline(__always) private mutating func put(_ s: StaticString) {
        put(UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    private mutating func putId(_ id: RequestID, escaped: Bool) {
        switch id {
        case .generated(let prefix, let counter):
            prefix.withUnsafeBytes { put($0) }
            putInt(Int(truncatingIfNeeded: counter), radix36: true)
        case .client(let s):
            var s = s
            s.withUTF8 { escaped ? putEscaped(UnsafeRawBufferPointer($0)) : put(UnsafeRawBufferPointer($0)) }
        }
    }

    private mutating func putEscaped(_ b: UnsafeRawBufferPointer) {
        for c in b {
            switch c {
            case 0x22: put(#"\""#)
            case 0x5C: put(#"\\"#)
            case 0x00..<0x20:
                put(#"\u00"#)
                put(Self.hex[Int(c >> 4)])
                put(Self.hex[Int(c & 0xF)])
            default: put(c)
            }
        }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Decimal (or lowercase base 36 for request-id counters).
    @inline(__always) private mutating func putInt(_ v: Int, radix36: Bool = false) {
        let radix: UInt = radix36 ? 36 : 10
        guard capacity - count >= 21 else { return }
        if v < 0, !radix36 { put(0x2D) }
        var n: UInt = radix36 ? UInt(bitPattern: v) : v.magnitude
        var digits = 0
        var m = n
        repeat {
            m /= radix
            digits += 1
        } while m > 0
        var i = count + digits - 1
        repeat {
            let d = UInt8(truncatingIfNeeded: n % radix)
            base[i] = d < 10 ? 48 + d : 87 + d
            n /= radix
            i -= 1
        } while n > 0
        count += digits
    }
}
