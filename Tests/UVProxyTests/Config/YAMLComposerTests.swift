import XCTest

@testable import UVProxy

/// The libyaml composer: exact trees for every construct a config uses, exact errors with 1-based
/// positions for every way a file can be wrong.
final class YAMLComposerTests: XCTestCase {
    private func p(_ text: String) -> YAMLNode { .plain(text) }
    private func q(_ text: String) -> YAMLNode { .quoted(text) }
    private func map(_ pairs: (YAMLNode, YAMLNode)...) -> YAMLNode {
        .mapping(pairs.map { YAMLPair(key: $0.0, value: $0.1) })
    }

    private func assertComposes(_ yaml: String, _ expected: YAMLNode?, file: StaticString = #filePath, line: UInt = #line) {
        do {
            let node = try YAMLComposer.compose(yaml)
            XCTAssertEqual(node, expected, file: file, line: line)
        } catch {
            XCTFail("unexpected error: \(error)", file: file, line: line)
        }
    }

    private func assertFails(_ bytes: [UInt8], _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            let node = try YAMLComposer.compose(bytes)
            XCTFail("expected '\(expected)', composed \(String(describing: node))", file: file, line: line)
        } catch {
            XCTAssertEqual(error.description, expected, file: file, line: line)
        }
    }

    private func assertFails(_ yaml: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        assertFails(Array(yaml.utf8), expected, file: file, line: line)
    }

    // MARK: Trees

    func testBlockMappingsKeepOrderAndNest() {
        assertComposes("b: 1\na: two\n", map((p("b"), p("1")), (p("a"), p("two"))))
        assertComposes(
            "server:\n  listen: 127.0.0.1:3001\n  limits:\n    workers: 4\nlog: info",
            map(
                (p("server"), map((p("listen"), p("127.0.0.1:3001")), (p("limits"), map((p("workers"), p("4")))))),
                (p("log"), p("info"))))
    }

    func testNestedLists() {
        assertComposes(
            "items:\n  - a\n  - - b\n    - c\n  - k: v\n    k2: v2\n  -\n",
            map((p("items"), .sequence([
                p("a"), .sequence([p("b"), p("c")]), map((p("k"), p("v")), (p("k2"), p("v2"))), p(""),
            ]))))
        // A list directly under a key, without indentation, is still that key's value.
        assertComposes("routes:\n- a\n- b\nx: 1\n", map((p("routes"), .sequence([p("a"), p("b")])), (p("x"), p("1"))))
    }

    func testFlowCollections() {
        assertComposes("{a: b}", map((p("a"), p("b"))))
        assertComposes("[a, b]", .sequence([p("a"), p("b")]))
        assertComposes("x: { url: \"http://h\", ids: [1, 'two', {}], e: [] }",
            map((p("x"), map(
                (p("url"), q("http://h")), (p("ids"), .sequence([p("1"), q("two"), .mapping([])])),
                (p("e"), .sequence([]))))))
        assertComposes("[a, [b, [c]], {k: [d]}]",
            .sequence([p("a"), .sequence([p("b"), .sequence([p("c")])]), map((p("k"), .sequence([p("d")])))]))
    }

    func testQuotedScalarsAndEscapes() {
        assertComposes(#"k: "tab\there \u00e9 \x41 \"q\" \\ \/ \0 end""#,
                       map((p("k"), q("tab\there é A \"q\" \\ / \u{0} end"))))
        assertComposes("k: 'it''s \\n not an escape'", map((p("k"), q("it's \\n not an escape"))))
        // A quoted "~" is the string "~", a plain one is null: the style is kept for that check.
        assertComposes("a: ~\nb: '~'\nc: \"\"\nd:", map((p("a"), p("~")), (p("b"), q("~")), (p("c"), q("")), (p("d"), p(""))))
        // A multi-line double-quoted scalar folds its line break into a space.
        assertComposes("k: \"one\n  two\"", map((p("k"), q("one two"))))
        // A tag makes a scalar non-plain: `!!str ~` is the string "~".
        assertComposes("k: !!str ~", map((p("k"), q("~"))))
        // Plain scalars keep inner spaces, lose the trailing ones, and may hold ':' not followed by a space.
        assertComposes("k: a b:c  \n", map((p("k"), p("a b:c"))))
    }

    func testBlockScalars() {
        assertComposes("lit: |\n  line 1\n    indented\n  line 3\nnext: x", map(
            (p("lit"), q("line 1\n  indented\nline 3\n")), (p("next"), p("x"))))
        assertComposes("fold: >\n  a\n  b\n\n  c\n", map((p("fold"), q("a b\nc\n"))))
        assertComposes("strip: |-\n  a\n\nkeep: |+\n  b\n\n", map((p("strip"), q("a")), (p("keep"), q("b\n\n"))))
    }

    func testAnchorsAndAliases() {
        let aliases = map((p("a"), p("b")), (p("c"), p("d")))
        assertComposes("one: &al { a: b, c: d }\ntwo: *al\n", map((p("one"), aliases), (p("two"), aliases)))
        assertComposes("- &s v\n- *s\n- &l [x]\n- *l\n", .sequence([p("v"), p("v"), .sequence([p("x")]), .sequence([p("x")])]))
        // An anchor may be redefined: an alias refers to the latest definition before it.
        assertComposes("- &a 1\n- *a\n- &a 2\n- *a\n", .sequence([p("1"), p("1"), p("2"), p("2")]))
        // An alias as a key.
        assertComposes("- &k name\n- { *k : v }\n", .sequence([p("name"), map((p("name"), p("v")))]))
        assertFails("a: *nope\n", "line 1, column 4: undefined alias 'nope'")
        // A collection cannot contain itself: its anchor is defined only once it is complete.
        assertFails("a: &x [*x]\n", "line 1, column 8: undefined alias 'x'")
    }

    func testComments() {
        assertComposes("# top\na: 1 # trailing\n# between\nb: [x, # inside a flow\n  y]\n# end\n",
                       map((p("a"), p("1")), (p("b"), .sequence([p("x"), p("y")]))))
        // '#' without a space before it is part of a plain scalar; inside quotes it is text.
        assertComposes("a: x#y\nb: \"# no\"\n", map((p("a"), p("x#y")), (p("b"), q("# no"))))
    }

    func testEmptyDocuments() {
        assertComposes("", nil)
        assertComposes("  \n\n", nil)
        assertComposes("# only a comment\n", nil)
        // An explicit but empty document is one null (empty plain) scalar.
        assertComposes("---\n", p(""))
        assertComposes("--- # c\n...\n", p(""))
        assertComposes("---\na: 1\n...\n", map((p("a"), p("1"))))
    }

    func testOneDocumentOnly() {
        assertFails("a: 1\n---\nb: 2\n", "line 2, column 1: a second document starts here (a config is one document)")
        assertFails("---\na: 1\n...\n---\n", "line 4, column 1: a second document starts here (a config is one document)")
    }

    // MARK: Errors

    func testDuplicateKeysAreReportedAtTheirMapping() {
        assertFails("a: 1\nb:\n  c: 1\n  d: 2\n  c: 3\n", "line 3, column 3: duplicate key 'c'")
        assertFails("x: {k: 1, k: 2}", "line 1, column 4: duplicate key 'k'")
        // Quoting does not make a different key: the config reads keys as text.
        assertFails("k: 1\n'k': 2\n", "line 1, column 1: duplicate key 'k'")
        assertFails("? [a]\n: 1\n? [a]\n: 2\n", "line 1, column 1: duplicate key a list")
        // The same key in two different mappings is fine.
        assertComposes("a: {k: 1}\nb: {k: 2}\n", map((p("a"), map((p("k"), p("1")))), (p("b"), map((p("k"), p("2"))))))
    }

    func testSyntaxErrorsCarryLineAndColumn() {
        assertFails("listen: [1\n", "line 2, column 1: did not find expected ',' or ']'")
        assertFails("a: b: c\n", "line 1, column 5: mapping values are not allowed in this context")
        assertFails("a: 1\n b: 2\n", "line 2, column 3: mapping values are not allowed in this context")
        assertFails("a: 'open\n", "line 2, column 1: found unexpected end of stream")
        assertFails("a:\n  - x\n  y: 1\n", "line 3, column 3: did not find expected '-' indicator")
        assertFails("k: \"\\q\"\n", "line 1, column 5: found unknown escape character")
        assertFails("k: @x\n", "line 1, column 4: found character that cannot start any token")
        assertFails("{a: 1\n", "line 2, column 1: did not find expected ',' or '}'")
    }

    func testTabsCannotIndent() {
        assertFails("a:\n\tb: 1\n", "line 2, column 1: found character that cannot start any token")
        assertFails("a:\n  b: 1\n\tc: 2\n", "line 3, column 1: found a tab character that violates indentation")
        // A tab inside a value, or after the ':' separator, is fine.
        assertComposes("a:\tx\ty\n", map((p("a"), p("x\ty"))))
    }

    func testInvalidTextIsRefusedWithItsPosition() {
        assertFails([0x61, 0x3A, 0x20, 0xFF, 0x0A], "line 1, column 4: invalid leading UTF-8 octet (0xFF)")
        // Line and column count characters ('é' is two bytes but one column); a bad trailing byte is
        // reported where it stands, one column after the lead byte it follows.
        assertFails(Array("a: 1\nb: é".utf8) + [0xC3, 0x28], "line 2, column 6: invalid trailing UTF-8 octet (0x28)")
        assertFails(Array("a: x".utf8) + [0xE2, 0x82], "line 1, column 5: incomplete UTF-8 octet sequence")
        assertFails(Array("a: x".utf8) + [0xC0, 0x80], "line 1, column 5: invalid length of a UTF-8 sequence")
        assertFails("a: 1\r\nb: \u{1}", "line 2, column 4: control characters are not allowed (0x1)")
        assertFails([0x61, 0x3A, 0x20, 0x00], "line 1, column 4: control characters are not allowed (0x0)")
    }

    func testNestingIsCapped() {
        let deep = String(repeating: "[", count: YAMLComposer.maxDepth) + String(repeating: "]", count: YAMLComposer.maxDepth)
        var expected = YAMLNode.sequence([])
        for _ in 1..<YAMLComposer.maxDepth { expected = .sequence([expected]) }
        assertComposes(deep, expected)
        assertFails(String(repeating: "[", count: YAMLComposer.maxDepth + 1),
                    "line 1, column \(YAMLComposer.maxDepth + 1): nested deeper than \(YAMLComposer.maxDepth) levels")
        assertFails(String(repeating: "- ", count: 1000) + "x",
                    "line 1, column \(2 * YAMLComposer.maxDepth + 1): nested deeper than \(YAMLComposer.maxDepth) levels")
    }

    func testPositionOfByte() {
        let text: [UInt8] = Array("ab\ncé\r\nx\ry".utf8)
        func at(_ offset: Int) -> [Int] {
            let r = text.withUnsafeBytes { YAMLComposer.position(ofByte: offset, in: $0) }
            return [r.line, r.column]
        }
        XCTAssertEqual(at(0), [1, 1])
        XCTAssertEqual(at(2), [1, 3])  // the LF
        XCTAssertEqual(at(3), [2, 1])
        XCTAssertEqual(at(5), [2, 3])  // inside 'é' (its second byte): still the column after 'c'
        XCTAssertEqual(at(6), [2, 3])  // the CR of CRLF
        XCTAssertEqual(at(8), [3, 1])
        XCTAssertEqual(at(10), [4, 1])  // after a lone CR
        XCTAssertEqual(at(99), [4, 2])  // past the end: the end
    }

    // MARK: Through the config loader

    func testLoaderReportsComposerErrorsAndNodeKinds() {
        assertConfigError("a: \"x\" y\n", "(yaml): line 1, column 8: did not find expected key")
        assertConfigError("---\n", "(root): the config is empty")
        assertConfigError("~\n", "(root): the config is empty")
        assertConfigError("'~'\n", "(root): expected a mapping of settings, got '~'")
        assertConfigError("? [a]\n: 1\n", "(root): mapping keys must be strings, got a list")
        assertConfigError(ConfigFixtures.minimal(extra: "workers: !!str ~"), "workers: expected an integer, got '~'")
        XCTAssertEqual(parse(ConfigFixtures.minimal(extra: "workers: ~"))?.workers, ProxyConfig().workers)
    }

    func testLoaderReadsFilesAndRefusesInvalidBytes() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("yaml-composer-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.yaml")
        try Data(Array("workers: 1\nlisten: ".utf8) + [0xFE, 0x0A]).write(to: bad)
        XCTAssertThrowsError(try ConfigLoader.load(path: bad.path, environment: [:])) { error in
            XCTAssertEqual("\(error)", "(yaml): line 2, column 9: invalid leading UTF-8 octet (0xFE)")
        }
        XCTAssertThrowsError(try ConfigLoader.load(path: dir.path, environment: [:])) { error in
            XCTAssertEqual("\(error)", "(file): cannot read \(dir.path): Is a directory")
        }
        let good = dir.appendingPathComponent("good.yaml")
        try Data(ConfigFixtures.minimal(extra: "workers: ${W}").utf8).write(to: good)
        XCTAssertEqual(try ConfigLoader.load(path: good.path, environment: ["W": "3"]).workers, 3)
    }

    func testProcessEnvironmentMatchesGetenv() {
        let env = ProcessEnvironment.current()
        XCTAssertFalse(env.isEmpty)
        for name in ["PATH", "HOME"] {
            XCTAssertEqual(env[name], getenv(name).map { String(cString: $0) }, name)
        }
        XCTAssertEqual(env, ProcessInfo.processInfo.environment)
    }
}
