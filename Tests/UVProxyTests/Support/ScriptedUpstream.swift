import Foundation
import Glibc

/// A tiny blocking upstream for tests that need exact connection behaviour: each accepted
/// connection runs `script` on its own thread with the socket fd and its connection number.
final class ScriptedUpstream: @unchecked Sendable {
    let port: Int
    private let fd: Int32
    private var stopped = false
    private let lock = NSLock()
    private(set) var connections = 0

    init(script: @escaping @Sendable (_ fd: Int32, _ connection: Int) -> Void) throws {
        let listenFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(listenFD, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listenFD, $0, len) } }
        listen(listenFD, 16)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listenFD, $0, &len) } }
        fd = listenFD
        port = Int(UInt16(bigEndian: addr.sin_port))
        Thread.detachNewThread { [self] in
            while true {
                let c = accept(listenFD, nil, nil)
                if c < 0 { return }
                lock.lock()
                connections += 1
                let n = connections
                lock.unlock()
                Thread.detachNewThread {
                    script(c, n)
                    close(c)
                }
            }
        }
    }

    func stop() {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }

    /// Writes all of `bytes` (stops early if the peer is gone).
    static func sendAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>) {
        var off = bytes.startIndex
        while off < bytes.endIndex {
            let n = bytes[off...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            off += n
        }
    }

    /// Reads until a blank line ends a request head with no body; false on EOF.
    static func readHead(_ fd: Int32) -> Bool {
        var data = [UInt8]()
        var byte: UInt8 = 0
        while read(fd, &byte, 1) == 1 {
            data.append(byte)
            if data.count >= 4, data.suffix(4) == [13, 10, 13, 10] {
                // Skip the body by its Content-Length.
                let head = String(decoding: data, as: UTF8.self).lowercased()
                if let r = head.range(of: "content-length: ") {
                    let n = Int(head[r.upperBound...].prefix { $0.isNumber }) ?? 0
                    var body = [UInt8](repeating: 0, count: n)
                    var got = 0
                    while got < n {
                        let k = body.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, n - got) }
                        if k <= 0 { return false }
                        got += k
                    }
                }
                return true
            }
        }
        return false
    }

    /// The bytes of one request head (through its blank line), read a byte at a time; empty on EOF.
    static func headBytes(_ fd: Int32) -> [UInt8] {
        var head = [UInt8]()
        var byte: UInt8 = 0
        while read(fd, &byte, 1) == 1 {
            head.append(byte)
            if head.count >= 4, head.suffix(4) == [13, 10, 13, 10] { break }
        }
        return head
    }

    /// The Content-Length a head declares (-1 without one).
    static func contentLength(_ head: [UInt8]) -> Int {
        let text = String(decoding: head, as: UTF8.self).lowercased()
        return text.range(of: "content-length: ").map { Int(text[$0.upperBound...].prefix { $0.isNumber }) ?? -1 } ?? -1
    }

    /// A 200 JSON answer with `json` as its body.
    static func writeJSON(_ fd: Int32, _ json: String) {
        write(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(json.utf8.count)\r\n\r\n\(json)")
    }

    static func write(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    }

    static let okResponse = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
}
