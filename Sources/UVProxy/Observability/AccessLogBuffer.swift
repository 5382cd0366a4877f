import Glibc
import UVNet
import HTTP1
import Providers

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
    /// `hook` while it is open, used without a retain (a line asks it to fire; `hook` keeps it).
    private var openHook: Unmanaged<IterationEndHook>?
    /// The loop this buffer's lines are made on, used without a retain (it outlives the buffer: the
    /// worker owns both).
    private let loop: Unmanaged<EventLoop>
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
        self.loop = Unmanaged.passUnretained(loop)
        guard sink.enabled else { return }
        // Unowned and unchecked: the hook is closed (it never fires again) before this buffer goes
        // (`close`, `deinit`); a checked `unowned` cost a strong retain and release per line.
        hook = IterationEndHook(loop: loop) { [unowned(unsafe) self] in self.flush() }
        openHook = hook.map { Unmanaged.passUnretained($0) }
    }

    deinit {
        hook?.close()
        storage.deallocate()
    }

    var enabled: Bool { sink.enabled }

    /// The loop's time (ms), read without retaining the loop.
    var now: UInt64 { loop._withUnsafeGuaranteedRef { $0.now } }

    /// Appends one line, built by `build` with the fields of `AccessLineWriter`.
    @inline(__always)
    func line(_ build: (inout AccessLineWriter) -> Void) {
        guard let hook = openHook else { return }
        let now = time(nil)
        if now != cachedSecond { formatTime(now) }
        var w = AccessLineWriter(format: sink.format, into: storage + used, capacity: Self.capacity - used)
        withUnsafeBytes(of: &cachedTime) { w.time(UnsafeRawBufferPointer(rebasing: $0[0..<cachedTimeCount])) }
        build(&w)
        w.end()
        used += w.count
        if used >= Self.flushAt { flush() } else { hook._withUnsafeGuaranteedRef { $0.arm() } }
    }

    func flush() {
        guard used > 0 else { return }
        // This buffer keeps its sink: used without a retain.
        let lines = UnsafeRawBufferPointer(start: storage, count: used)
        Unmanaged.passUnretained(sink)._withUnsafeGuaranteedRef { $0.write(lines) }
        used = 0
    }

    /// Writes what is left and stops (the worker's loop is ending).
    func close() {
        flush()
        openHook = nil
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
        let path = Self.cut(path, Self.maxPath)
        let method = Self.cut(method, 32)
        switch format {
        case .text:
            put(0x20)
            putId(requestId, escaped: false)
            put(0x20)
            put(method)
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
            putEscaped(method)
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
        upstreamName(name)
        putInt(status)
    }

    /// The upstream's name, up to where its status follows.
    mutating func upstreamName(_ name: [UInt8]) {
        name.withUnsafeBytes { n in
            let n = Self.cut(n, 128)
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
    }

    /// A bare integer (after a prefix written with `raw`).
    @inline(__always)
    mutating func number(_ value: Int) { putInt(value) }

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

    /// A field's name as each format writes it before the value, made once (`Field.int`, `Field.string`):
    /// one copy per field instead of three.
    struct Field {
        let text: StaticString
        let json: StaticString

        // Computed, not `static let`: each use is then two constant StaticStrings, with no lazy global.
        /// ` name=` and `,"name":`.
        static func int(_ text: StaticString, _ json: StaticString) -> Field { Field(text: text, json: json) }
        /// ` name="` and `,"name":"` (the value and its closing quote follow).
        static func string(_ text: StaticString, _ json: StaticString) -> Field { Field(text: text, json: json) }

        static var bytes: Field { int(" bytes=", #","bytes":"#) }
        static var ttfbMs: Field { int(" ttfb_ms=", #","ttfb_ms":"#) }
        static var ttftMs: Field { int(" ttft_ms=", #","ttft_ms":"#) }
        static var inputTokens: Field { int(" input_tokens=", #","input_tokens":"#) }
        static var outputTokens: Field { int(" output_tokens=", #","output_tokens":"#) }
        static var cacheReadTokens: Field { int(" cache_read_tokens=", #","cache_read_tokens":"#) }
        static var cacheCreationTokens: Field { int(" cache_creation_tokens=", #","cache_creation_tokens":"#) }
        static var reasoningTokens: Field { int(" reasoning_tokens=", #","reasoning_tokens":"#) }
        static var retries: Field { int(" retries=", #","retries":"#) }
        static var fallback: Field { int(" fallback=", #","fallback":"#) }
        static var model: Field { string(" model=\"", #","model":""#) }
        static var upstreamModel: Field { string(" upstream_model=\"", #","upstream_model":""#) }
        static var stop: Field { string(" stop=\"", #","stop":""#) }
        static var key: Field { string(" key=\"", #","key":""#) }
        static var note: Field { string(" note=\"", #","note":""#) }
    }

    /// An integer field named by a prebuilt `Field`. Not inlined (nor are the other field writers): a
    /// line makes a dozen of these calls, each a small function with its copies inlined.
    @inline(never)
    mutating func int(_ field: Field, _ value: Int) {
        put(format == .text ? field.text : field.json)
        putInt(value)
    }

    /// The answer's token counts, each present one as `int(_:_:)` writes it (`Field.inputTokens` …
    /// `Field.reasoningTokens`), in one call: five calls cost their calls' overhead five times.
    @inline(never)
    mutating func usage(_ u: TokenUsage) {
        let text = format == .text
        if let v = u.input { put(text ? Field.inputTokens.text : Field.inputTokens.json); putInt(v) }
        if let v = u.output { put(text ? Field.outputTokens.text : Field.outputTokens.json); putInt(v) }
        if let v = u.cacheRead { put(text ? Field.cacheReadTokens.text : Field.cacheReadTokens.json); putInt(v) }
        if let v = u.cacheCreation { put(text ? Field.cacheCreationTokens.text : Field.cacheCreationTokens.json); putInt(v) }
        if let v = u.reasoning { put(text ? Field.reasoningTokens.text : Field.reasoningTokens.json); putInt(v) }
    }

    /// A string field named by a prebuilt `Field.string`: kept on one line (text) or escaped (JSON), at
    /// most `maxString` bytes, as `string(_:_:)` writes it.
    @inline(never)
    mutating func string(_ field: Field, _ value: UnsafeRawBufferPointer) {
        put(format == .text ? field.text : field.json)
        putValue(value)
        put(0x22)
    }

    mutating func string(_ field: Field, _ value: String) {
        // The String's own bytes when it has them (no copy of it, no retain): literals and native text.
        if value.utf8.withContiguousStorageIfAvailable({ string(field, UnsafeRawBufferPointer($0)) }) != nil { return }
        var v = value
        v.withUTF8 { string(field, UnsafeRawBufferPointer($0)) }
    }

    /// Bytes formatted beforehand for this line's format (a route's constant fields, `RouteLogFields`).
    @inline(never)
    mutating func raw(_ bytes: UnsafeRawBufferPointer) { put(bytes) }

    /// A string's text, cut to `maxString` bytes: text with quotes and line breaks turned into spaces,
    /// JSON escaped.
    @inline(__always)
    private mutating func putValue(_ value: UnsafeRawBufferPointer) {
        let v = Self.cut(value, Self.maxString)
        switch format {
        case .text:
            let at = base + count
            put(v)
            Self.oneLine(at, base + count - at)
        case .json:
            putEscaped(v)
        }
    }

    /// A string field; text keeps it on one line (quotes and line breaks become spaces), JSON escapes
    /// it; at most `maxString` bytes of it either way.
    mutating func string(_ key: StaticString, _ value: UnsafeRawBufferPointer) {
        switch format {
        case .text:
            put(0x20)
            put(key)
            put(#"=""#)
        case .json:
            put(#",""#)
            put(key)
            put(#"":""#)
        }
        putValue(value)
        put(0x22)
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

    /// The first `limit` bytes of `b` (all of them when it is shorter).
    @inline(__always) static func cut(_ b: UnsafeRawBufferPointer, _ limit: Int) -> UnsafeRawBufferPointer {
        b.count > limit ? UnsafeRawBufferPointer(start: b.baseAddress, count: limit) : b
    }

    @inline(__always) private mutating func put(_ c: UInt8) {
        guard count < capacity else { return }
        base[count] = c
        count += 1
    }

    @inline(__always) private mutating func put(_ b: UnsafeRawBufferPointer) {
        let n = min(b.count, capacity - count)
        guard n > 0, let src = b.baseAddress else { return }
        Self.copy(UnsafeMutableRawPointer(base + count), src, n)
        count += n
    }

    /// Copies `n` (> 0) bytes. Most pieces of a line are a few to 32 bytes: those are copied with two
    /// to four overlapping word loads and stores, not a call to `memcpy` (~30 instructions each).
    @inline(__always) static func copy(_ d: UnsafeMutableRawPointer, _ s: UnsafeRawPointer, _ n: Int) {
        if n >= 8 {
            if n <= 16 {
                let a = s.loadUnaligned(as: UInt64.self)
                let z = s.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
                d.storeBytes(of: a, as: UInt64.self)
                d.storeBytes(of: z, toByteOffset: n - 8, as: UInt64.self)
            } else if n <= 32 {
                let a = s.loadUnaligned(as: UInt64.self)
                let b = s.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
                let y = s.loadUnaligned(fromByteOffset: n - 16, as: UInt64.self)
                let z = s.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
                d.storeBytes(of: a, as: UInt64.self)
                d.storeBytes(of: b, toByteOffset: 8, as: UInt64.self)
                d.storeBytes(of: y, toByteOffset: n - 16, as: UInt64.self)
                d.storeBytes(of: z, toByteOffset: n - 8, as: UInt64.self)
            } else {
                d.copyMemory(from: s, byteCount: n)
            }
        } else if n >= 4 {
            let a = s.loadUnaligned(as: UInt32.self)
            let z = s.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
            d.storeBytes(of: a, as: UInt32.self)
            d.storeBytes(of: z, toByteOffset: n - 4, as: UInt32.self)
        } else {
            var i = 0
            while i < n {
                d.storeBytes(of: s.load(fromByteOffset: i, as: UInt8.self), toByteOffset: i, as: UInt8.self)
                i &+= 1
            }
        }
    }

    @inline(__always) private mutating func put(_ s: StaticString) {
        put(UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    private mutating func putId(_ id: RequestID, escaped: Bool) {
        switch id {
        case .generated(let prefix, let counter):
            prefix.withUnsafeBytes { put($0) }
            guard capacity - count >= 16 else { return }
            count &+= Self.base36(counter, into: base + count)
        case .client(let s):
            var s = s
            s.withUTF8 { escaped ? putEscaped(UnsafeRawBufferPointer($0)) : put(UnsafeRawBufferPointer($0)) }
        }
    }

    /// JSON string text: runs that need no escape are copied whole. Most values (ids, methods, paths,
    /// model names, stop words) have no byte to escape: they are checked a word at a time, as
    /// `oneLine` checks text, and copied in one piece; only a value with such a byte is walked.
    /// The check and the copy are inlined into the field writers (a call per value cost more than
    /// both); the walk is not.
    @inline(__always)
    private mutating func putEscaped(_ b: UnsafeRawBufferPointer) {
        guard let p = b.baseAddress else { return }
        if !Self.needsEscape(p, b.count) {
            put(b)
        } else {
            putEscapedWalk(b)
        }
    }

    /// `putEscaped` for a value with a byte to escape.
    @inline(never)
    private mutating func putEscapedWalk(_ b: UnsafeRawBufferPointer) {
        guard let p = b.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        let n = b.count
        var run = 0
        var i = 0
        while i < n {
            // Eight bytes at a time while none needs an escape (most text has none).
            if i &+ 8 <= n, Self.jsonPlainWord(UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self)) {
                i &+= 8
                continue
            }
            let c = p[i]
            // Quote, backslash and control bytes: all but the backslash are below 0x23.
            if c < 0x23 || c == 0x5C, c < 0x20 || c == 0x22 || c == 0x5C {
                put(UnsafeRawBufferPointer(start: p + run, count: i - run))
                switch c {
                case 0x22: put(#"\""#)
                case 0x5C: put(#"\\"#)
                default:
                    put(#"\u00"#)
                    put(Self.hex[Int(c >> 4)])
                    put(Self.hex[Int(c & 0xF)])
                }
                run = i + 1
            }
            i &+= 1
        }
        put(UnsafeRawBufferPointer(start: p + run, count: n - run))
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Decimal.
    @inline(__always) private mutating func putInt(_ v: Int) {
        guard capacity - count >= 21 else { return }
        if v < 0 { put(0x2D) }
        count &+= Self.decimal(v.magnitude, into: base + count)
    }

    /// Writes `value` in decimal at `at` and answers how many bytes: two digits per division, from a
    /// table of the hundred pairs (about half the divisions and stores of one digit at a time).
    @inline(__always) static func decimal(_ value: UInt, into at: UnsafeMutablePointer<UInt8>) -> Int {
        var digits = 1
        var m = value
        while m >= 100 {
            m /= 100
            digits &+= 2
        }
        if m >= 10 { digits &+= 1 }
        let pairs = UnsafeRawPointer(digitPairs.utf8Start)
        let out = UnsafeMutableRawPointer(at)
        var n = value
        var i = digits
        while n >= 100 {
            let r = Int(truncatingIfNeeded: n % 100)
            n /= 100
            i &-= 2
            out.storeBytes(of: pairs.loadUnaligned(fromByteOffset: r &* 2, as: UInt16.self), toByteOffset: i, as: UInt16.self)
        }
        if n >= 10 {
            out.storeBytes(of: pairs.loadUnaligned(fromByteOffset: Int(truncatingIfNeeded: n) &* 2, as: UInt16.self),
                           toByteOffset: 0, as: UInt16.self)
        } else {
            at[0] = 48 &+ UInt8(truncatingIfNeeded: n)
        }
        return digits
    }

    /// Writes `value` in lowercase base 36 at `at` (room for 13 bytes) and answers how many bytes: the
    /// digits go backwards into a word-sized scratch, then one copy (one division loop, not two).
    @inline(__always) static func base36(_ value: UInt64, into at: UnsafeMutablePointer<UInt8>) -> Int {
        var scratch: (UInt64, UInt64) = (0, 0)
        return withUnsafeMutableBytes(of: &scratch) { b in
            let s = b.baseAddress!
            var i = 16
            var v = value
            repeat {
                i &-= 1
                let d = UInt8(truncatingIfNeeded: v % 36)
                s.storeBytes(of: d < 10 ? 48 &+ d : 87 &+ d, toByteOffset: i, as: UInt8.self)
                v /= 36
            } while v > 0
            copy(UnsafeMutableRawPointer(at), s + i, 16 &- i)
            return 16 &- i
        }
    }

    /// `00`, `01` … `99`: a constant in the binary (no lazy global, no array).
    private static var digitPairs: StaticString {
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"
    }

    /// Some byte of `x` is below `limit` (≤ 0x80): the classic word test, exact for "is there one".
    @inline(__always) static func anyBelow(_ x: UInt64, _ limit: UInt8) -> Bool {
        (x &- 0x0101_0101_0101_0101 &* UInt64(limit)) & ~x & 0x8080_8080_8080_8080 != 0
    }

    /// Turns the quotes and line breaks of `at[0..<n]` into spaces. The three bytes are below 0x23:
    /// words of eight (or four) bytes are checked for one (the last word overlaps the one before),
    /// and only a word that has one is looked at byte by byte.
    @inline(__always) static func oneLine(_ at: UnsafeMutablePointer<UInt8>, _ n: Int) {
        let p = UnsafeRawPointer(at)
        if n >= 8 {
            var i = 0
            let last = n &- 8
            while true {
                if anyBelow(p.loadUnaligned(fromByteOffset: i, as: UInt64.self), 0x23) { spaces(at + i, 8) }
                if i == last { return }
                i = min(i &+ 8, last)
            }
        } else if n >= 4 {
            if anyBelow(p.loadUnaligned(as: UInt32.self), 0x23) || anyBelow(p.loadUnaligned(fromByteOffset: n &- 4, as: UInt32.self), 0x23) {
                spaces(at, n)
            }
        } else {
            spaces(at, n)
        }
    }

    /// `oneLine` byte by byte.
    @inline(__always) static func spaces(_ at: UnsafeMutablePointer<UInt8>, _ n: Int) {
        var i = 0
        while i < n {
            let c = at[i]
            if c < 0x23, c == 0x22 || c == 0x0A || c == 0x0D { at[i] = 0x20 }
            i &+= 1
        }
    }

    /// Some byte of `x` is below `limit` (≤ 0x80).
    @inline(__always) static func anyBelow(_ x: UInt32, _ limit: UInt8) -> Bool {
        (x &- 0x0101_0101 &* UInt32(limit)) & ~x & 0x8080_8080 != 0
    }

    /// Some byte of `x` is `b`.
    @inline(__always) static func anyEqual(_ x: UInt64, _ b: UInt8) -> Bool {
        anyBelow(x ^ (0x0101_0101_0101_0101 &* UInt64(b)), 1)
    }

    /// Some byte of `p[0..<n]` may need a JSON escape: words of eight (or four) bytes are tested, the
    /// last one overlapping the one before; below four bytes, byte by byte. Eight-byte words are
    /// tested for a byte below 0x23 or a backslash (two word tests, not three): a space or a `!`
    /// answers true too, and `putEscapedWalk` then copies it as it is.
    @inline(__always) static func needsEscape(_ p: UnsafeRawPointer, _ n: Int) -> Bool {
        if n >= 8 {
            var i = 0
            let last = n &- 8
            while true {
                let x = p.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                let s = x ^ 0x5C5C_5C5C_5C5C_5C5C
                if ((x &- 0x2323_2323_2323_2323) & ~x | (s &- 0x0101_0101_0101_0101) & ~s) & 0x8080_8080_8080_8080 != 0 {
                    return true
                }
                if i == last { return false }
                i = min(i &+ 8, last)
            }
        }
        if n >= 4 {
            return !jsonPlain(p.loadUnaligned(as: UInt32.self))
                || !jsonPlain(p.loadUnaligned(fromByteOffset: n &- 4, as: UInt32.self))
        }
        var i = 0
        while i < n {
            let c = p.load(fromByteOffset: i, as: UInt8.self)
            if c < 0x20 || c == 0x22 || c == 0x5C { return true }
            i &+= 1
        }
        return false
    }

    /// No byte of `x` needs a JSON escape (control bytes, quote, backslash): the three word tests
    /// of `jsonPlain(UInt64)` in one expression, without a branch between them.
    @inline(__always) static func jsonPlain(_ x: UInt32) -> Bool {
        let ones: UInt32 = 0x0101_0101
        let q = x ^ 0x2222_2222
        let s = x ^ 0x5C5C_5C5C
        return ((x &- 0x2020_2020) & ~x | (q &- ones) & ~q | (s &- ones) & ~s) & 0x8080_8080 == 0
    }

    /// No byte of `x` needs a JSON escape (control bytes, quote, backslash), tested as one expression
    /// (a byte below 0x20, a byte equal to 0x22, a byte equal to 0x5C: each the classic word test,
    /// exact for "is there one"), without a branch between the three.
    @inline(__always) static func jsonPlainWord(_ x: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let q = x ^ 0x2222_2222_2222_2222
        let s = x ^ 0x5C5C_5C5C_5C5C_5C5C
        return ((x &- 0x2020_2020_2020_2020) & ~x | (q &- ones) & ~q | (s &- ones) & ~s) & 0x8080_8080_8080_8080 == 0
    }

    /// No byte of `x` needs a JSON escape (control bytes, quote, backslash).
    @inline(__always) static func jsonPlain(_ x: UInt64) -> Bool {
        !anyBelow(x, 0x20) && !anyEqual(x, 0x22) && !anyEqual(x, 0x5C)
    }
}
