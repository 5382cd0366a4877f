/// The limits the HTTP parsers enforce. They are configuration, not constants: each one maps to its
/// own status so a client learns which limit it hit (431 for the head, 413 for the body).
package struct HTTPLimits: Sendable, Equatable {
    /// The most bytes a head may take, from the first byte of the request or status line through the
    /// blank line that ends it (leading empty lines a request may carry count too). Beyond it: 431.
    package var maxHeadBytes: Int
    /// The most header fields a head may carry. Beyond it: 431.
    package var maxHeaderCount: Int
    /// The most body bytes a message may declare (`Content-Length`) or send (chunked). Beyond it: 413.
    package var maxBodyBytes: Int

    package init(maxHeadBytes: Int = 65536, maxHeaderCount: Int = 100, maxBodyBytes: Int = 32 << 20) {
        self.maxHeadBytes = maxHeadBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
    }
}
