import Foundation
import Glibc

/// A blocking client over a real loopback socket, for integration tests: writes raw bytes and
/// reads raw responses, every read bounded by a timeout.
final class RawHTTPClient {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int, timeoutSeconds: Int = 10) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else {
            close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
    }

    deinit { close(fd) }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            off += n
        }
    }

    /// Reads more bytes; false on EOF, error or timeout.
    @discardableResult
    func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { return false }
        buffer.append(contentsOf: chunk[0..<n])
        return true
    }

    /// True when the server closed the connection (EOF) within the timeout.
    func readEOF() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }

    struct Response {
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]
        /// The head's bytes as received (status line through the last header line, no final CRLF).
        var rawHead: [UInt8] = []
        var text: String { String(decoding: body, as: UTF8.self) }
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] }
    }

    /// Reads one response (Content-Length, chunked, or until close). Nil on timeout or garbage.
    func readResponse(headRequest: Bool = false) -> Response? {
        while true {
            guard let end = findHeadEnd() else {
                if !fill() { return nil }
                continue
            }
            let headText = String(decoding: buffer[0..<end], as: UTF8.self)
            var lines = headText.components(separatedBy: "\r\n")
            let statusLine = lines.removeFirst()
            let parts = statusLine.split(separator: " ")
            guard parts.count >= 2, let status = Int(parts[1]) else { return nil }
            let headers = lines.filter { !$0.isEmpty }.map { line -> (String, String) in
                let i = line.firstIndex(of: ":")!
                return (String(line[..<i]), line[line.index(after: i)...].trimmingCharacters(in: .whitespaces))
            }
            let rawHead = Array(buffer[0..<end])
            buffer.removeFirst(end + 4)
            if status >= 100, status < 200 { continue }
            var r = Response(status: status, headers: headers, body: [], rawHead: rawHead)
            if headRequest || status == 204 || status == 304 { return r }
            if let cl = r.header("content-length").flatMap(Int.init) {
                while buffer.count < cl { if !fill() { return nil } }
                r.body = Array(buffer[0..<cl])
                buffer.removeFirst(cl)
            } else if r.header("transfer-encoding")?.lowercased() == "chunked" {
                guard let body = readChunked() else { return nil }
                r.body = body
            } else {
                while fill() {}
                r.body = buffer
                buffer = []
            }
            return r
        }
    }

    private func findHeadEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for i in 0...(buffer.count - 4) where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
            return i
        }
        return nil
    }

    private func readLine() -> String? {
        while true {
            if let i = buffer.firstIndex(of: 10), i > 0, buffer[i - 1] == 13 {
                let line = String(decoding: buffer[0..<(i - 1)], as: UTF8.self)
                buffer.removeFirst(i + 1)
                return line
            }
            if !fill() { return nil }
        }
    }

    /// Reads a chunked body; `onChunk` sees each chunk as it arrives (for streaming tests).
    func readChunked(onChunk: (([UInt8]) -> Void)? = nil) -> [UInt8]? {
        var body: [UInt8] = []
        while true {
            guard let line = readLine(), let size = Int(line.split(separator: ";")[0], radix: 16) else { return nil }
            if size == 0 {
                _ = readLine()
                return body
            }
            while buffer.count < size + 2 { if !fill() { return nil } }
            let chunk = Array(buffer[0..<size])
            onChunk?(chunk)
            body += chunk
            buffer.removeFirst(size + 2)
        }
    }

    /// Reads a streamed response's head only, leaving the body to `readChunked`.
    func readHeadOnly() -> Response? {
        while true {
            guard let end = findHeadEnd() else {
                if !fill() { return nil }
                continue
            }
            let headText = String(decoding: buffer[0..<end], as: UTF8.self)
            var lines = headText.components(separatedBy: "\r\n")
            let parts = lines.removeFirst().split(separator: " ")
            buffer.removeFirst(end + 4)
            let headers = lines.filter { !$0.isEmpty }.map { line -> (String, String) in
                let i = line.firstIndex(of: ":")!
                return (String(line[..<i]), line[line.index(after: i)...].trimmingCharacters(in: .whitespaces))
            }
            return Response(status: Int(parts[1]) ?? 0, headers: headers, body: [])
        }
    }

    static func post(_ path: String, body: String, headers: [String: String] = [:]) -> String {
        var s = "POST \(path) HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
        for (k, v) in headers { s += "\(k): \(v)\r\n" }
        return s + "\r\n" + body
    }
}

/// A thread-safe counter for concurrent tests.
final class FailureCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add() { lock.lock(); n += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}
