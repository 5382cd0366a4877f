import Glibc
import HTTP1

/// POSTs one OTLP/HTTP request with plain blocking-style sockets on the exporter's thread: a
/// non-blocking socket driven by `poll` so that connect, send and the answer together end by the
/// deadline. One connection per export (`Connection: close`): at most one request a second per
/// batch interval, so keeping it alive would buy little and cost a state machine.
struct OTLPHTTPClient: Sendable {
    let host: String
    let port: Int
    /// Everything before the body: request line, headers, blank line (without Content-Length's value).
    let headPrefix: [UInt8]

    init(config: TracingConfig) {
        let url = config.endpoint
        host = url.host
        port = url.port
        var h: [UInt8] = []
        _ = HTTPWriter.appendRequestLine(method: "POST", target: url.basePath.isEmpty ? "/" : url.basePath, into: &h)
        _ = HTTPWriter.appendHeader("Host", url.hostHeader, into: &h)
        _ = HTTPWriter.appendHeader("User-Agent", "mini-proxy/\(MiniProxyVersion.string)", into: &h)
        _ = HTTPWriter.appendHeader("Content-Type", "application/json", into: &h)
        _ = HTTPWriter.appendHeader("Connection", "close", into: &h)
        for (name, value) in config.headers { _ = HTTPWriter.appendHeader(name, value, into: &h) }
        headPrefix = h
    }

    /// The request's head for a body of `length` bytes.
    func head(contentLength length: Int) -> [UInt8] {
        var r = headPrefix
        HTTPWriter.appendHeader("Content-Length", length, into: &r)
        HTTPWriter.appendEndOfHead(into: &r)
        return r
    }

    /// The whole request for `body` (tests).
    func request(_ body: [UInt8]) -> [UInt8] { head(contentLength: body.count) + body }

    /// True when the collector answered 2xx before `deadlineNs` (monotonic). The head and the body
    /// (the encoder's buffer, not copied) go out as one stream (`MSG_MORE` on the head).
    @Sendable func post(_ body: UnsafeRawBufferPointer, deadlineNs: UInt64) -> Bool {
        guard let fd = connect(deadlineNs: deadlineNs) else { return false }
        defer { close(fd) }
        let head = head(contentLength: body.count)
        func sendAll(_ p: UnsafeRawBufferPointer, more: Bool) -> Bool {
            var sent = 0
            while sent < p.count {
                guard wait(fd, events: Int16(POLLOUT), deadlineNs: deadlineNs) else { return false }
                let n = send(fd, p.baseAddress! + sent, p.count - sent, Int32(MSG_NOSIGNAL) | (more ? Int32(MSG_MORE) : 0))
                if n > 0 { sent += n } else if n < 0, errno != EAGAIN, errno != EINTR { return false }
            }
            return true
        }
        guard head.withUnsafeBytes({ sendAll($0, more: body.count > 0) }), sendAll(body, more: false) else { return false }
        // The status line is all we need; the body (a partial-success note at most) is not read.
        var answer = [UInt8](repeating: 0, count: 512)
        var got = 0
        while got < 12 {
            guard wait(fd, events: Int16(POLLIN), deadlineNs: deadlineNs) else { return false }
            let n = answer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, $0.count - got, 0) }
            if n == 0 { break }
            if n > 0 { got += n } else if errno != EAGAIN, errno != EINTR { return false }
        }
        return Self.isSuccess(answer[0..<got])
    }

    /// `HTTP/1.x 2xx`.
    static func isSuccess(_ head: ArraySlice<UInt8>) -> Bool {
        let h = Array(head)
        guard h.count >= 12, h.starts(with: Array("HTTP/1.".utf8)), h[8] == 0x20 else { return false }
        return h[9] == UInt8(ascii: "2")
    }

    private func connect(deadlineNs: UInt64) -> Int32? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else { return nil }
        defer { freeaddrinfo(first) }
        var ai: UnsafeMutablePointer<addrinfo>? = first
        while let a = ai {
            ai = a.pointee.ai_next
            let fd = socket(a.pointee.ai_family, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { continue }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let rc = Glibc.connect(fd, a.pointee.ai_addr, a.pointee.ai_addrlen)
            if rc == 0 { return fd }
            if errno == EINPROGRESS, wait(fd, events: Int16(POLLOUT), deadlineNs: deadlineNs) {
                var err: Int32 = 0
                var len = socklen_t(MemoryLayout<Int32>.size)
                if getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0, err == 0 { return fd }
            }
            close(fd)
        }
        return nil
    }

    /// Waits for `events` on `fd` until the deadline; false on timeout or error.
    private func wait(_ fd: Int32, events: Int16, deadlineNs: UInt64) -> Bool {
        while true {
            let now = monotonicNanoseconds()
            guard now < deadlineNs else { return false }
            var p = pollfd(fd: fd, events: events, revents: 0)
            let ms = Int32(min(UInt64(Int32.max), (deadlineNs - now + 999_999) / 1_000_000))
            let rc = poll(&p, 1, ms)
            if rc > 0 { return p.revents & (events | Int16(POLLERR) | Int16(POLLHUP)) != 0 }
            if rc < 0, errno != EINTR { return false }
        }
    }
}
