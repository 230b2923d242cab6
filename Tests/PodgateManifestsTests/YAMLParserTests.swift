import Testing
import PodgateModel
@testable import PodgateManifests

@Suite struct YAMLParserTests {
    @Test func readsEveryDocumentOfAStream() throws {
        let docs = try YAMLParser.parse("a: 1\n---\nb: [x, 'y']\n---\n")
        #expect(docs.count == 3)
        #expect(docs[0] == .map([(key: "a", value: .scalar("1", plain: true))]))
        #expect(docs[1]["b"] == .list([.scalar("x", plain: true), .scalar("y", plain: false)]))
        #expect(docs[2].isNull)
    }

    @Test func readsFlowStyleAsTheScenariosWriteIt() throws {
        let text = "spec: {containers: [{name: c, image: x, ports: [{containerPort: 80}, {containerPort: 9000, protocol: UDP}]}]}"
        let doc = try #require(try YAMLParser.parse(text).first)
        let ports = doc["spec"]?["containers"]?.list?.first?["ports"]?.list
        #expect(ports?.count == 2)
        #expect(ports?[1]["containerPort"]?.integer == 9000)
        #expect(ports?[1]["protocol"]?.string == "UDP")
    }

    @Test func keepsWhetherAScalarWasPlain() throws {
        let doc = try #require(try YAMLParser.parse("a: 8080\nb: \"8080\"\nc: '8080'\nd: true\ne: ~\nf: !!str 7\ng: |\n  text\n").first)
        #expect(doc["a"]?.integer == 8080)
        #expect(doc["b"]?.integer == nil)
        #expect(doc["b"]?.string == "8080")
        #expect(doc["c"]?.integer == nil)
        #expect(doc["d"]?.bool == true)
        #expect(doc["e"]?.isNull == true)
        #expect(doc["f"]?.integer == nil)
        #expect(doc["g"]?.string == "text\n")
    }

    @Test func readsJSON() throws {
        let doc = try #require(try YAMLParser.parse(#"{"kind": "Pod", "spec": {"hostNetwork": true, "n": 3}}"#).first)
        #expect(doc["kind"]?.string == "Pod")
        #expect(doc["spec"]?["hostNetwork"]?.bool == true)
        #expect(doc["spec"]?["n"]?.integer == 3)
    }

    @Test func expandsAliases() throws {
        let doc = try #require(try YAMLParser.parse("a: &x {k: v}\nb: *x\n").first)
        #expect(doc["b"]?["k"]?.string == "v")
    }

    @Test(arguments: ["deep-nesting", "alias-bomb", "duplicate-key", "unknown-alias", "complex-key", "syntax", "tab-indent"])
    func rejectsBadInput(_ name: String) throws {
        let cases: [String: (String, Int)] = [
            "deep-nesting": (String(repeating: "[", count: 100) + String(repeating: "]", count: 100), 1),
            "alias-bomb": (Self.billionLaughs, 0),
            "duplicate-key": ("metadata:\n  name: a\n  name: b\n", 3),
            "unknown-alias": ("a: *nope\n", 1),
            "complex-key": ("? [a, b]\n: c\n", 1),
            "syntax": ("a: [b, c\n", 0),
            "tab-indent": ("a:\n\tb: c\n", 0),
        ]
        let (text, line) = try #require(cases[name])
        do {
            _ = try YAMLParser.parse(text)
            Issue.record("\(name) was accepted")
        } catch {
            if line > 0 { #expect(error.line == line, "\(error)") }
            #expect(error.line >= 1 && error.column >= 1)
        }
    }

    @Test func rejectsInvalidUTF8() {
        let bytes: [UInt8] = Array("name: ".utf8) + [0xC3, 0x28] + Array("\n".utf8)
        #expect(throws: YAMLError.self) { try YAMLParser.parse(bytes: bytes) }
    }

    @Test func capsNodesAndScalars() {
        let limits = YAMLLimits(maxNodes: 10, maxScalarBytes: 4)
        #expect(throws: YAMLError.self) { try YAMLParser.parse("[1,2,3,4,5,6,7,8,9,10,11]", limits: limits) }
        #expect(throws: YAMLError.self) { try YAMLParser.parse("abcdef", limits: limits) }
        #expect((try? YAMLParser.parse("[1,2,3]", limits: limits)) != nil)
    }

    @Test func aliasDepthCountsAgainstTheNestingCap() {
        let limits = YAMLLimits(maxDepth: 4)
        #expect(throws: YAMLError.self) { try YAMLParser.parse("a: &x [[[1]]]\nb: [*x]\n", limits: limits) }
    }

    static let billionLaughs: String = {
        var lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        for i in 1...9 {
            let refs = Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ")
            lines.append("a\(i): &a\(i) [\(refs)]")
        }
        return lines.joined(separator: "\n") + "\n"
    }()
}
