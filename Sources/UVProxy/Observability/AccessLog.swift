import Glibc

/// One line per exchange on stderr, and warnings at start. Never given header values or bodies, so
/// credentials cannot reach it; messages come from `APIError`s, which never hold a token.
final class AccessLog: @unchecked Sendable {
    let enabled: Bool

    init(enabled: Bool) { self.enabled = enabled }

    func record(method: String, path: String, status: Int, startedAt: UInt64, now: UInt64, requestId: String,
                upstream: String?, upstreamStatus: Int = 0, bytes: Int = 0, note: String? = nil,
                fields: [(name: String, value: String)] = []) {
        guard enabled else { return }
        var line = Self.timestamp()
        line += " \(requestId) \(method) \(path) \(status) \(now &- startedAt)ms"
        if let upstream { line += " upstream=\(upstream)/\(upstreamStatus)" }
        if bytes > 0 { line += " bytes=\(bytes)" }
        if let note { line += " note=\"\(Self.sanitize(note))\"" }
        for f in fields { line += " \(f.name)=\"\(Self.sanitize(f.value))\"" }
        line += "\n"
        Log.write(line)
    }

    static func timestamp() -> String {
        var t = time(nil)
        var tmv = tm()
        gmtime_r(&t, &tmv)
        var buf = [CChar](repeating: 0, count: 32)
        let n = strftime(&buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tmv)
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Keeps a note on one line.
    static func sanitize(_ s: String) -> String {
        String(s.prefix(300).map { $0 == "\n" || $0 == "\r" || $0 == "\"" ? " " : $0 })
    }
}

/// Writes to stderr with one `write(2)` per line (no shared FILE*, safe from any thread).
public enum Log {
    public static func write(_ line: String) {
        var l = line
        l.withUTF8 { p in
            var off = 0
            while off < p.count {
                let n = Glibc.write(2, p.baseAddress! + off, p.count - off)
                if n <= 0 { break }
                off += n
            }
        }
    }

    public static func info(_ message: String) { write("mini-proxy: \(message)\n") }
    public static func warning(_ message: String) { write("mini-proxy: warning: \(message)\n") }
    public static func error(_ message: String) { write("mini-proxy: error: \(message)\n") }
}
