/// Runs a `ConnectionModel` over the payload whole, cut, and (when short) byte by byte, and requires
/// the same events from each.
func checkConnection(_ kind: HeadKind, _ input: FuzzInput) {
    var whole = ConnectionModel(kind)
    whole.receive(input.payload)
    let expected = whole.close()

    var cut = ConnectionModel(kind)
    for piece in input.pieces { cut.receive(piece) }
    fuzzExpectEqual(expected, cut.close(), "events for cuts \(input.cuts)")

    if input.payload.count <= 512 {
        var bytewise = ConnectionModel(kind)
        for piece in input.bytewise { bytewise.receive(piece) }
        fuzzExpectEqual(expected, bytewise.close(), "events fed one byte at a time")
    }
}
