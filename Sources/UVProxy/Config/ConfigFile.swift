import Glibc

/// Reads a config file with plain POSIX calls (no Foundation: see `ConfigLoader`).
package enum ConfigFile {
    /// A config larger than this is refused rather than read into memory.
    static let maxBytes = 16 << 20

    /// Why a file could not be read, in the words of `strerror`.
    package struct ReadError: Error, Equatable {
        package let message: String
    }

    /// The whole file. Refuses directories and files over `maxBytes`.
    package static func read(_ path: String) throws(ReadError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ReadError(message: systemMessage(errno)) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                let code = errno
                if code == EINTR { continue }
                throw ReadError(message: systemMessage(code))
            }
            if n == 0 { return bytes }
            guard bytes.count + n <= maxBytes else {
                throw ReadError(message: "the file is larger than \(maxBytes >> 20) MiB")
            }
            bytes.append(contentsOf: chunk[0..<n])
        }
    }

    /// `strerror(code)`, e.g. "No such file or directory".
    static func systemMessage(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }
}
