/// libFuzzer target: `JSONParser`. `validate` and `parse` must agree; a parsed document written with
/// `JSON.write` must parse back to an equal tree, and writing that tree again gives the same bytes.
import Providers

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    let bytes = input.payload
    let parsed: JSON?
    do throws(JSONError) { parsed = try JSONParser.parse(bytes) } catch {
        if error.offset < 0 || error.offset > bytes.count { fuzzFail("error offset \(error.offset) outside 0...\(bytes.count)") }
        parsed = nil
    }
    let valid: Bool
    do throws(JSONError) { try JSONParser.validate(bytes); valid = true } catch { valid = false }
    if valid != (parsed != nil) { fuzzFail("validate says \(valid), parse says \(parsed != nil)") }
    guard let parsed else { return 0 }
    let written = parsed.bytes
    let again: JSON
    do throws(JSONError) { again = try JSONParser.parse(written) } catch {
        fuzzFail("written JSON does not parse (\(error)): \(String(decoding: written, as: UTF8.self))")
    }
    if again != parsed { fuzzFail("parse → write → parse changed the tree: \(String(decoding: written, as: UTF8.self))") }
    if again.bytes != written { fuzzFail("write is not stable: \(String(decoding: written, as: UTF8.self))") }
    // An object's scan sees the same keys, in order, as the tree.
    if case .object(let object) = parsed {
        do throws(JSONError) {
            let scan = try JSONObjectScanner.scan(bytes)
            if scan.members.map(\.key) != object.keys { fuzzFail("scanner keys \(scan.members.map(\.key)) != parser keys \(object.keys)") }
        } catch {
            fuzzFail("parser accepts an object the scanner rejects: \(error)")
        }
    } else {
        if (try? JSONObjectScanner.scan(bytes)) != nil { fuzzFail("scanner accepts a non-object") }
    }
    return 0
}
