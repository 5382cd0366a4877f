/// Models one HTTP/1.1 connection the way the proxy reads it: heads with `HTTPRequestParser` or
/// `HTTPResponseParser`, bodies by their framing (Content-Length skipped, chunked through
/// `ChunkedDecoder`), pipelined messages one after another. The bytes arrive in pieces; the model
/// records what it saw as text events, so a target can require that any way of cutting the same
/// bytes gives the same events.
import HTTP1

enum HeadKind {
    case request
    case response(headRequest: Bool)
}

struct ConnectionModel {
    static let maxMessages = 16

    private let kind: HeadKind
    private var requestParser = HTTPRequestParser(limits: HTTPLimits(maxHeadBytes: 4096, maxHeaderCount: 32, maxBodyBytes: 1 << 16))
    private var responseParser = HTTPResponseParser(limits: HTTPLimits(maxHeadBytes: 4096, maxHeaderCount: 32, maxBodyBytes: 1 << 16))
    private enum Phase {
        case head
        case length(Int)
        case chunked(ChunkedDecoder)
        case untilClose
        case stopped
    }
    private var phase = Phase.head
    /// Received bytes not consumed yet (the head parsers want every unconsumed byte on each call).
    private var buffer: [UInt8] = []
    private var body: [UInt8] = []
    private(set) var events: [String] = []
    private var messages = 0

    init(_ kind: HeadKind) { self.kind = kind }

    mutating func receive(_ bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
        run()
    }

    /// The peer closed: records where the model stood.
    mutating func close() -> [String] {
        switch phase {
        case .head: events.append(buffer.isEmpty ? "eof at boundary" : "eof in head (\(buffer.count) bytes)")
        case .length(let left): events.append("eof with \(left) body bytes missing")
        case .chunked: events.append("eof in chunked body")
        case .untilClose: events.append("body until close: \(body.count) bytes")
        case .stopped: break
        }
        return events
    }

    private mutating func run() {
        while true {
            switch phase {
            case .stopped:
                buffer.removeAll()
                return
            case .head:
                if !parseHead() { return }
            case .length(let left):
                let take = min(left, buffer.count)
                body.append(contentsOf: buffer[0..<take])
                buffer.removeFirst(take)
                if take < left {
                    phase = .length(left - take)
                    return
                }
                endBody()
            case .chunked(var decoder):
                var delivered: [UInt8] = []
                let result = buffer.withUnsafeBytes { p in
                    decoder.decode(p) { delivered.append(contentsOf: $0) }
                }
                body.append(contentsOf: delivered)
                switch result {
                case .needMore(let consumed):
                    if consumed != buffer.count { fuzzFail("needMore consumed \(consumed) of \(buffer.count)") }
                    buffer.removeAll()
                    phase = .chunked(decoder)
                    return
                case .done(let consumed):
                    if consumed > buffer.count || !decoder.isDone { fuzzFail("done consumed \(consumed) of \(buffer.count)") }
                    if decoder.bodyBytes != body.count { fuzzFail("bodyBytes \(decoder.bodyBytes) != \(body.count)") }
                    buffer.removeFirst(consumed)
                    endBody()
                case .failure(let error):
                    events.append("chunked failure \(error.code) \(error.status)")
                    phase = .stopped
                }
            case .untilClose:
                body.append(contentsOf: buffer)
                buffer.removeAll()
                return
            }
        }
    }

    private mutating func endBody() {
        events.append("body \(body.count) bytes hash \(Self.hash(body))")
        body.removeAll()
        phase = .head
    }

    /// Returns true when the model moved on (a head was read or the connection stopped).
    private mutating func parseHead() -> Bool {
        if buffer.isEmpty { return false }
        if messages >= Self.maxMessages {
            phase = .stopped
            return true
        }
        switch kind {
        case .request:
            let r = buffer.withUnsafeBytes { requestParser.parse($0) }
            switch r {
            case .incomplete: return false
            case .failure(let e):
                events.append("request failure \(e.code) \(e.status)")
                phase = .stopped
                return true
            case .complete(let head, let consumed):
                check(head, consumed)
                events.append(
                    "request \(head.methodString) \(head.targetString) 1.\(head.minorVersion) "
                        + "\(describe(head)) \(head.framing) keepAlive=\(head.keepAlive) continue=\(head.expectContinue) "
                        + "path=\(Array(head.pathBytes)) GET=\(head.isMethod("GET"))")
                start(head.framing, consumed)
            }
        case .response(let headRequest):
            let r = buffer.withUnsafeBytes { responseParser.parse($0, requestMethodIsHEAD: headRequest) }
            switch r {
            case .incomplete: return false
            case .failure(let e):
                events.append("response failure \(e.code) \(e.status)")
                phase = .stopped
                return true
            case .complete(let head, let consumed):
                check(head, consumed)
                if head.reason.lowerBound < 0 || head.reason.upperBound > head.bytes.count { fuzzFail("reason out of bounds") }
                if !(100...599).contains(head.status) { fuzzFail("status \(head.status)") }
                events.append(
                    "response \(head.status) '\(head.reasonString)' 1.\(head.minorVersion) \(describe(head)) "
                        + "\(head.framing) keepAlive=\(head.keepAlive) interim=\(head.isInterim)")
                start(head.framing, consumed)
                if head.status == 101 { phase = .stopped }
            }
        }
        messages += 1
        return true
    }

    private mutating func start(_ framing: HTTPBodyFraming, _ consumed: Int) {
        if consumed <= 0 || consumed > buffer.count { fuzzFail("consumed \(consumed) of \(buffer.count)") }
        buffer.removeFirst(consumed)
        switch framing {
        case .none: endBody()
        case .contentLength(let n):
            if n <= 0 || n > 1 << 16 { fuzzFail("content length \(n) outside the limit") }
            phase = .length(n)
        case .chunked: phase = .chunked(ChunkedDecoder(maxBodyBytes: 1 << 16, maxTrailerBytes: 512))
        case .untilClose: phase = .untilClose
        }
    }

    /// Bounds of every span, and the lookups the proxy makes, exercised on each head.
    private func check<H: HTTPHead>(_ head: H, _ consumed: Int) {
        if head.bytes.count != consumed && head.bytes.count > consumed { fuzzFail("head longer than consumed") }
        for (i, f) in head.fields.enumerated() {
            if f.name.lowerBound < 0 || f.name.upperBound > head.bytes.count || f.name.isEmpty { fuzzFail("field \(i) name span") }
            if f.value.lowerBound < f.name.upperBound || f.value.upperBound > head.bytes.count { fuzzFail("field \(i) value span") }
            for b in head.bytes[f.value] where b == 0 || b == 0x0A || b == 0x0D { fuzzFail("field \(i) value has byte \(b)") }
            _ = head.nameEquals(i, lowercased: Array("content-length".utf8))
        }
        _ = head.value("host")
        _ = head.values("transfer-encoding")
        _ = head.has("connection", token: "close")
    }

    private func describe<H: HTTPHead>(_ head: H) -> String {
        var s = "fields["
        for i in head.fields.indices { s += "\(head.name(at: i))=\(head.value(at: i));" }
        return s + "]"
    }

    static func hash(_ bytes: [UInt8]) -> UInt64 {
        var h: UInt64 = 0xcbf29ce484222325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        return h
    }
}
