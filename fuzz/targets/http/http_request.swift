/// libFuzzer target: `HTTPRequestParser` (and the body framing after each head) over one connection.
/// The payload fed whole, cut at two fuzzer-chosen points, and one byte at a time must give the same events.
import HTTP1

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    checkConnection(.request, input)
    return 0
}
