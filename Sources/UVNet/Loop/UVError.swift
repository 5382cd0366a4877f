internal import CLibUV

/// An error reported by libuv: its code, its short name (`ECONNREFUSED`) and its message.
package struct UVError: Error, Sendable, CustomStringConvertible, Equatable {
    package let code: Int32

    package init(_ code: Int32) { self.code = code }

    package var name: String { String(cString: uv_err_name(code)) }
    package var message: String { String(cString: uv_strerror(code)) }
    package var description: String { "\(name): \(message)" }

    static let eof = UVError(Int32(UV_EOF.rawValue))
    static let canceled = UVError(Int32(UV_ECANCELED.rawValue))
    static let timedOut = UVError(Int32(UV_ETIMEDOUT.rawValue))
}

@inline(__always)
func uvCheck(_ rc: Int32) throws(UVError) {
    if rc < 0 { throw UVError(rc) }
}
