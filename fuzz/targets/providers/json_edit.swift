/// libFuzzer target: `JSONObjectScanner` + `JSONEdit`. Control bytes pick the edits (remove, rename,
/// replace, append) applied to the document's own keys. An edited valid object must stay a valid
/// object whose members are exactly the expected ones, and untouched values keep their bytes.
import Providers

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    let bytes = input.payload
    let control = Array(UnsafeRawBufferPointer(start: data, count: min(size, 4)))
    let scan: JSONObjectScan
    do throws(JSONError) { scan = try JSONObjectScanner.scan(bytes) } catch { return 0 }
    let keys = scan.members.map(\.key)
    var edit = JSONEdit()
    var expected = scan.members.map { (key: $0.key, value: Array(UnsafeRawBufferPointer(rebasing: bytes[$0.valueRange]))) }
    let ops = control.count > 2 ? Int(control[2] % 5) : 0
    for k in 0..<ops {
        let pick = control.count > 3 ? (Int(control[3]) &+ k * 7) : k
        let op = (pick >> 2) % 4
        let key = keys.isEmpty ? "new\(k)" : keys[pick % keys.count]
        if edit.actions.contains(where: { $0.key == key }) { continue }  // the first action per key wins
        switch op {
        case 0:
            edit.remove(key)
            expected.removeAll { $0.key == key }
        case 1:
            let newKey = "renamed\"\(k)\u{1}é"
            edit.rename(key, to: newKey)
            for i in expected.indices where expected[i].key == key { expected[i].key = newKey }
        case 2:
            let raw = Array("[\(k),{\"x\":null}]".utf8)
            edit.replace(key, rawValue: raw)
            for i in expected.indices where expected[i].key == key { expected[i].value = raw }
        default:
            let raw = Array("\"appended \(k)\"".utf8)
            edit.append("app\(k)", rawValue: raw)
            expected.append((key: "app\(k)", value: raw))
        }
    }
    var out: [UInt8] = []
    edit.apply(to: bytes, scan: scan, into: &out)
    let outScan: JSONObjectScan
    do throws(JSONError) { outScan = try JSONObjectScanner.scan(out) } catch {
        fuzzFail("edited document is not an object (\(error)): \(String(decoding: out, as: UTF8.self))")
    }
    let got = out.withUnsafeBytes { p in outScan.members.map { (key: $0.key, value: Array(UnsafeRawBufferPointer(rebasing: p[$0.valueRange]))) } }
    if got.map(\.key) != expected.map(\.key) || got.map(\.value) != expected.map(\.value) {
        fuzzFail("edited members \(got.map(\.key)) != expected \(expected.map(\.key)) in \(String(decoding: out, as: UTF8.self))")
    }
    if edit.isEmpty && out != Array(bytes) { fuzzFail("an empty edit changed the bytes") }
    return 0
}
