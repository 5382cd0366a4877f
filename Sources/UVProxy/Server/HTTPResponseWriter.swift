import UVNet
import HTTP1

/// Where an `HTTPResponseWriter` puts its bytes: the client's TCP stream, or a recording in tests.
protocol ResponseSink: AnyObject {
    /// Hands bytes to the socket (what the kernel does not take at once is copied and queued).
    func write(_ bytes: [UInt8])
    func write(_ bytes: UnsafeRawBufferPointer)
    /// The write queue is above its high watermark.
    var isAboveHighWatermark: Bool { get }
    /// A reusable buffer for one whole response, and its return after the write.
    func takeScratch() -> [UInt8]
    func returnScratch(_ buffer: [UInt8])
}

extension TCPStream: ResponseSink {
    func takeScratch() -> [UInt8] { loop.takeScratch() }
    func returnScratch(_ buffer: [UInt8]) { loop.returnScratch(buffer) }
}

/// The fixed lines a response writer adds.
private enum ResponseLines {
    static let chunked: [UInt8] = Array("Transfer-Encoding: chunked\r\n".utf8)
    static let close: [UInt8] = Array("Connection: close\r\n".utf8)
    static let continue100: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)
}

/// The writing half of a server connection: frames responses onto its stream, whole (one write) or
/// streamed (chunked for HTTP/1.1 clients, close-delimited for 1.0), holds streamed writes while
/// corked, reports backpressure, and decides whether the connection stays open after a response.
/// It knows nothing of requests beyond what the connection passes in (HEAD, the client's HTTP
/// version); the connection checks that a response is due before calling. Loop-confined. Generic over
/// its sink so that it is tested without a socket (`HTTPResponseWriterTests`); the connection's is
/// specialized for `TCPStream`.
struct HTTPResponseWriter<Sink: ResponseSink> {
    let stream: Sink
    /// The response in progress is the connection's last: the request asked for it, an HTTP/1.0
    /// client's stream ends with the connection, or the connection answers an error of its own.
    var closeAfterResponse = false
    private var streamIsChunked = true
    /// A streamed response's framed bytes not yet handed to the socket: filled while corked, so
    /// that what one upstream read produces (head, events, last chunk) leaves in one write.
    private var streamOut: [UInt8] = []
    private var corked = false

    init(stream: Sink) {
        self.stream = stream
    }

    /// True while the client's write queue is above the high watermark: stop feeding it.
    var isBackedUp: Bool { stream.isAboveHighWatermark }

    /// After a response: true when the connection reads the next request, false when it closes.
    func keepsAlive(draining: Bool) -> Bool { !(closeAfterResponse || draining) }

    private enum Framing { case contentLength(Int), chunked, untilClose }

    /// The status line, the handler's header lines, framing and connection management.
    private func appendHead(status: Int, headerBlock: UnsafeRawBufferPointer, framing: Framing, draining: Bool, into out: inout [UInt8]) {
        HTTPWriter.appendStatusLine(status, into: &out)
        HTTPWriter.appendBytes(headerBlock, into: &out)
        switch framing {
        case .contentLength(let n): HTTPWriter.appendHeader("Content-Length", n, into: &out)
        case .chunked: out.append(contentsOf: ResponseLines.chunked)
        case .untilClose: break
        }
        if closeAfterResponse || draining { out.append(contentsOf: ResponseLines.close) }
        HTTPWriter.appendEndOfHead(into: &out)
    }

    /// The interim answer to `Expect: 100-continue`.
    func writeContinue() {
        stream.write(ResponseLines.continue100)
    }

    /// A whole response, head and body in one write (no body for HEAD; no Content-Length for 204, 304).
    func writeWhole(status: Int, headerBlock: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer, isHeadRequest: Bool, draining: Bool) {
        var out = stream.takeScratch()
        out.reserveCapacity(128 + headerBlock.count + body.count)
        let framing: Framing = status == 204 || status == 304 ? .untilClose : .contentLength(body.count)
        appendHead(status: status, headerBlock: headerBlock, framing: framing, draining: draining, into: &out)
        if !isHeadRequest { HTTPWriter.appendBytes(body, into: &out) }
        stream.write(out)  // copies what the kernel does not take at once
        stream.returnScratch(out)
    }

    /// The head of a streamed response: chunked when `chunked`, else delimited by the close.
    mutating func startStream(status: Int, headerBlock: [UInt8], chunked: Bool, draining: Bool) {
        streamIsChunked = chunked
        if !chunked { closeAfterResponse = true }
        streamOut.reserveCapacity(64 + headerBlock.count)
        headerBlock.withUnsafeBytes {
            appendHead(status: status, headerBlock: $0, framing: chunked ? .chunked : .untilClose, draining: draining, into: &streamOut)
        }
        if !corked { flush() }
    }

    /// Bytes of a streamed response (one chunk, never empty), at once unless corked.
    mutating func streamWrite(_ bytes: UnsafeRawBufferPointer) {
        if streamIsChunked {
            HTTPWriter.appendChunk(bytes, into: &streamOut)
        } else if corked || !streamOut.isEmpty {
            streamOut.append(contentsOf: bytes)
        } else {
            stream.write(bytes)
            return
        }
        if !corked { flush() }
    }

    /// The end of a streamed response: the last chunk leaves with whatever is corked.
    mutating func endStream() {
        if streamIsChunked { HTTPWriter.appendLastChunk(into: &streamOut) }
        flush()
        streamOut = []  // a finished stream keeps no buffer: idle connections stay small
    }

    /// Holds streamed writes until `uncork()` (see `HTTPServerConnection.cork`).
    mutating func cork() { corked = true }

    mutating func uncork() {
        corked = false
        flush()
    }

    /// Bytes as they are, outside HTTP framing, after whatever is held.
    mutating func writeRaw(_ bytes: [UInt8]) {
        flush()
        stream.write(bytes)
    }

    /// Drops what is held (the connection is closing).
    mutating func discard() { streamOut = [] }

    private mutating func flush() {
        guard !streamOut.isEmpty else { return }
        stream.write(streamOut)  // the stream copies what the kernel does not take at once
        streamOut.removeAll(keepingCapacity: true)
    }
}

extension HTTPResponseWriter where Sink == TCPStream {
    /// Header lines (`Name: value\r\n`) from name/value pairs, each validated by the writer.
    static func headerBlock(_ headers: [(name: String, value: String)]) -> [UInt8] {
        var block = [UInt8]()
        block.reserveCapacity(headers.count * 40)
        for h in headers { HTTPWriter.appendHeader(h.name, h.value, into: &block) }
        return block
    }
}
