/// libFuzzer target: `HTTPResponseParser` (and body framing) over one upstream connection. The control
/// flag says whether the request was HEAD. Whole, cut and bytewise feeding must give the same events.
import HTTP1

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    checkConnection(.response(headRequest: input.flag), input)
    return 0
}
