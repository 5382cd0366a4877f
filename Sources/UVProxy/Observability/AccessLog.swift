import Glibc

/// Where access-log lines go and in which format, shared by every worker. Each worker formats its
/// lines into a buffer of its own (`AccessLogBuffer`) and hands whole batches here.
///
/// Never given header values other than the ids a client sends to correlate (session, request id),
/// nor bodies: credentials cannot reach it.
final class AccessLog: @unchecked Sendable {
    enum Format: String, Sendable { case text, json }

    let enabled: Bool
    let format: Format
    /// `stderr`, `stdout` or a file path (appended to, reopened on SIGUSR1).
    let path: String
    /// The descriptor lines are written to. A reopen swaps the file under the same number (`dup2`),
    /// so writers never see a closed descriptor.
    private let fd: Int32
    private let isPipe: Bool

    init(enabled: Bool, format: Format = .text, path: String = "stderr") {
        self.enabled = enabled
        self.format = format
        self.path = path
        switch path {
        case "stderr": fd = 2
        case "stdout": fd = 1
        default:
            let opened = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            if opened < 0 { Log.error("access_log: cannot open \(path) (errno \(errno)); writing to stderr") }
            fd = opened < 0 ? 2 : opened
        }
        var st = stat()
        isPipe = fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFIFO
    }

    /// Reopens a file log under the same descriptor (logrotate's `postrotate: kill -USR1`). Any thread.
    func reopen() {
        guard path != "stderr", path != "stdout", fd > 2 else { return }
        let fresh = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fresh >= 0 else {
            Log.error("access_log: cannot reopen \(path) (errno \(errno)); still writing to the old file")
            return
        }
        dup2(fresh, fd)
        close(fresh)
    }

    /// Writes whole lines. Into a pipe, no write is larger than `PIPE_BUF`, so lines from several
    /// workers never interleave; a file opened with `O_APPEND` takes each write whole.
    func write(_ bytes: UnsafeRawBufferPointer) {
        guard var p = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            var n = left
            if isPipe, n > Int(PIPE_BUF) {
                // The last line end within PIPE_BUF (a single longer line goes alone).
                var cut = Int(PIPE_BUF)
                while cut > 0, p.load(fromByteOffset: cut - 1, as: UInt8.self) != 0x0A { cut -= 1 }
                if cut == 0 {
                    // One line longer than PIPE_BUF: it alone, up to its end.
                    cut = Int(PIPE_BUF)
                    while cut < left, p.load(fromByteOffset: cut - 1, as: UInt8.self) != 0x0A { cut += 1 }
                }
                n = cut
            }
            let w = Glibc.write(fd, p, n)
            if w < 0 {
                if errno == EINTR { continue }
                return  // a log that cannot be written must not stop requests
            }
            p += w
            left -= w
        }
    }
}

/// Writes to stderr with one `write(2)` per line (no shared FILE*, safe from any thread).
package enum Log {
    package static func write(_ line: String) {
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

    package static func info(_ message: String) { write("mini-proxy: \(message)\n") }
    package static func warning(_ message: String) { write("mini-proxy: warning: \(message)\n") }
    package static func error(_ message: String) { write("mini-proxy: error: \(message)\n") }
}
