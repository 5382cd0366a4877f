/// Timeouts for one upstream exchange, in milliseconds; 0 turns a timeout off.
///
/// Defaults are generous on purpose: a non-streamed completion or a reasoning model can think for
/// minutes before its first byte. Tests and impatient deployments shorten them in config.
package struct UpstreamTimeouts: Sendable, Equatable {
    /// TCP connect (after name resolution). `connect`, default 10 s.
    package var connect: Int = 10_000
    /// TLS handshake. `tls_handshake`, default 10 s.
    package var tlsHandshake: Int = 10_000
    /// From the request's last byte to the response's first byte. `first_byte`, default 600 s.
    package var firstByte: Int = 600_000
    /// Longest silence between two reads of the response (stream stalls). `idle`, default 300 s.
    package var idle: Int = 300_000
    /// Whole exchange, start to end. `total`, default 0 (none: streams may be long).
    package var total: Int = 0

    package init() {}

    package init(connect: Int, tlsHandshake: Int, firstByte: Int, idle: Int, total: Int) {
        self.connect = connect
        self.tlsHandshake = tlsHandshake
        self.firstByte = firstByte
        self.idle = idle
        self.total = total
    }
}
