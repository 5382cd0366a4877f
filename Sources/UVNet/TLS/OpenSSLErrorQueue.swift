internal import COpenSSL

/// Reads (and so empties) OpenSSL's thread-local error queue.
///
/// Every SSL call is preceded by `ERR_clear_error()`, so what the queue holds after a failure belongs
/// to that failure. Draining it right away keeps the next connection on this thread from seeing
/// stale errors (the swift-nio-ssl discipline).
enum OpenSSLErrorQueue {
    /// At most this many queued errors make it into a message: the first is usually the cause.
    private static let maximumReasons = 3

    /// The reason of the earliest queued error if the SSL library raised it (reason numbers are
    /// per library), without removing anything; 0 otherwise.
    static func peekSSLReason() -> Int32 {
        let code = ERR_peek_error()
        guard code != 0, ERR_GET_LIB(code) == ERR_LIB_SSL else { return 0 }
        return ERR_GET_REASON(code)
    }

    /// Removes every queued error and joins their reasons (plus OpenSSL's detail text, such as the
    /// file name of a failed `fopen`) into one bounded message. `nil` when the queue was empty.
    static func drainMessage() -> String? {
        var reasons: [String] = []
        while true {
            var data: UnsafePointer<CChar>? = nil
            var flags: Int32 = 0
            let code = ERR_get_error_all(nil, nil, nil, &data, &flags)
            if code == 0 { break }
            guard reasons.count < maximumReasons else { continue }
            var text = reasonString(code)
            if flags & ERR_TXT_STRING != 0, let data, data.pointee != 0 {
                text += " (" + String(cString: data) + ")"
            }
            if !reasons.contains(text) { reasons.append(text) }
        }
        return reasons.isEmpty ? nil : reasons.joined(separator: "; ")
    }

    /// Empties the queue, discarding what it held.
    static func clear() {
        ERR_clear_error()
    }

    private static func reasonString(_ code: UInt) -> String {
        if let reason = ERR_reason_error_string(code) {
            return String(cString: reason)
        }
        // No registered string: fall back to OpenSSL's generic "error:XXXXXXXX:lib::reason" form.
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
