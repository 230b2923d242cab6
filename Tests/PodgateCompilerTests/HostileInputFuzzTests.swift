import Foundation
import PodgateCompiler
import PodgateManifests
import PodgateModel
import PodgateTestSupport
import Testing

/// Hostile input through the whole pipeline the agent runs on every file
/// change: YAML/JSON parsing, object decoding and policy validation, the
/// compiler, the capacity check. Never a crash, never a stall: every single
/// execution must finish within `budget`. Seeded (reproducible): the corpus
/// in Tests/fuzz-corpus, byte mutations and splices of it, and a structured
/// generator of deep, aliased, huge, mistyped and duplicated documents.
@Suite struct HostileInputFuzzTests {

    static var corpusDirectory: String {
        "/" + "\(#filePath)".split(separator: "/").dropLast(2).joined(separator: "/") + "/fuzz-corpus"
    }

    static func corpus() throws -> [(name: String, bytes: [UInt8])] {
        let names = try FileManager.default.contentsOfDirectory(atPath: corpusDirectory).sorted()
        return try names.map { name in
            (name, Array(try Data(contentsOf: URL(fileURLWithPath: corpusDirectory + "/" + name))))
        }
    }

    /// What the agent's pipeline made of one input.
    struct Outcome: Equatable {
        var state: DesiredState
        var diagnostics: [String]
    }

    /// The agent's pipeline for one input.
    static func execute(_ bytes: [UInt8], name: String) -> Outcome {
        let set = ManifestSet(files: [ManifestFile(name: name, bytes: bytes)])
        let settings = AgentSettings(clusterNetworks: [CIDR("10.244.0.0/16")!], nodeAddresses: [IPAddress("10.0.0.1")!])
        let compilation = PolicyCompiler.compile(set.snapshot, settings: settings)
        let exceeded = StateLimits().violations(from: nil, to: compilation.state)
        return Outcome(state: compilation.state,
                       diagnostics: (set.diagnostics + compilation.diagnostics).map(\.description) + exceeded.map { "\($0)" })
    }

    static let budget: Duration = .seconds(2)
    static let hostileTokens: [String] = [
        "{", "}", "[", "]", ":", ",", "- ", "&a ", "*a", "*undefined", "!!binary ", "!x ", "<<: ", "? ", "|", ">", "'", "\"",
        "\n", "\t", "#", "%YAML 1.1\n", "---\n", "...\n", "\u{0}", "99999999999999999999999", "-1", "0x10", "1e400", ".nan",
        "~", "null", "true", "port: ", "endPort: ", "protocol: ", "matchLabels: ", "matchExpressions: ", "operator: ",
        "cidr: ", "except: ", "::ffff:", "/129", "podIPs: ", "labels: ", "namespace: ", "kind: Pod\n",
        "kind: NetworkAuthenticationPolicy\n", "apiVersion: policy.linkerd.io/v1alpha1\n",
    ]

    struct Stats { var executions = 0; var slowest: Duration = .zero; var slowestName = "" }

    static func run(_ bytes: [UInt8], _ name: String, _ stats: inout Stats) {
        let clock = ContinuousClock()
        var outcome: Outcome?
        let elapsed = clock.measure { outcome = execute(bytes, name: name) }
        stats.executions += 1
        if elapsed > stats.slowest { stats.slowest = elapsed; stats.slowestName = name }
        // Same input, same result (no hash order or state leaking between runs),
        // and every problem names its object (`file: ...`, `ns/name: field ...`).
        if stats.executions % 16 == 1 { #expect(execute(bytes, name: name) == outcome, "\(name): a second run differs") }
        for line in outcome?.diagnostics ?? [] {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count < 2 || parts[0].allSatisfy(\.isWhitespace) || parts[1].allSatisfy(\.isWhitespace) {
                Issue.record("\(name): a diagnostic that names no object: \(line)")
            }
        }
        #expect(elapsed < budget, "\(name) took \(elapsed)")
    }

    /// Byte mutations and splices of every corpus file.
    @Test func mutatedCorpusNeverCrashesOrStalls() throws {
        let corpus = try Self.corpus()
        #expect(corpus.count >= 10)
        var random = SplitMix64(seed: 0x5eed_0001)
        var stats = Stats()
        for file in corpus { Self.run(file.bytes, file.name, &stats) }
        for round in 0..<1500 {
            let file = corpus[round % corpus.count]
            var bytes = file.bytes.count > 64 << 10 ? Array(file.bytes.prefix(64 << 10)) : file.bytes
            for _ in 0..<Int.random(in: 1...12, using: &random) {
                let at = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<6, using: &random) {
                case 0 where !bytes.isEmpty: bytes[at] = UInt8.random(in: 0...255, using: &random)
                case 1 where !bytes.isEmpty: bytes.remove(at: at)
                case 2: bytes.insert(contentsOf: Array(Self.hostileTokens.randomElement(using: &random)!.utf8), at: at)
                case 3:  // splice a slice of another corpus file
                    let other = corpus.randomElement(using: &random)!.bytes
                    if !other.isEmpty {
                        let start = Int.random(in: 0..<other.count, using: &random)
                        bytes.insert(contentsOf: other[start..<min(other.count, start + Int.random(in: 1...200, using: &random))], at: at)
                    }
                case 4 where bytes.count > 1:  // duplicate a line range (duplicate keys)
                    let end = min(bytes.count, at + Int.random(in: 1...120, using: &random))
                    bytes.insert(contentsOf: bytes[at..<end], at: end)
                default: bytes = Array(bytes.prefix(at))
                }
            }
            Self.run(bytes, "\(file.name)#\(round)", &stats)
        }
        print("fuzz (mutated corpus): \(stats.executions) executions, slowest \(stats.slowest) (\(stats.slowestName))")
    }

    /// Structured hostile documents, generated.
    @Test func generatedHostileDocumentsNeverCrashOrStall() {
        var random = SplitMix64(seed: 0x5eed_0002)
        var stats = Stats()
        for round in 0..<600 {
            let kind = round % 8
            var text = ""
            switch kind {
            case 0:  // deep nesting, flow or block
                let depth = Int.random(in: 50...20_000, using: &random)
                text = Bool.random(using: &random)
                    ? "kind: Pod\nspec: " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
                    : "kind: Namespace\nmetadata:\n" + (0..<min(depth, 400)).map { String(repeating: " ", count: $0 + 1) + "k:\n" }.joined()
            case 1:  // alias bombs of random width and depth
                let width = Int.random(in: 2...20, using: &random), levels = Int.random(in: 2...12, using: &random)
                text = "kind: Pod\nmetadata: {name: x, namespace: demo, labels: &l0 {a: b}}\n"
                for level in 1...levels {
                    text += "x\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: width).joined(separator: ", ") + "]\n"
                }
            case 2:  // huge label sets on pods and selectors
                let count = Int.random(in: 1000...20_000, using: &random)
                let labels = (0..<count).map { "l\($0): v\($0 % 97)" }.joined(separator: ", ")
                text = "apiVersion: v1\nkind: Pod\nmetadata: {name: big, namespace: demo, labels: {\(labels)}}\nstatus: {podIPs: [{ip: 10.244.1.1}]}\n---\n"
                    + "apiVersion: policy.linkerd.io/v1alpha1\nkind: NetworkAuthenticationPolicy\nmetadata: {name: p, namespace: demo}\n"
                    + "spec: {target: {selector: {matchLabels: {\(labels)}}}, sources: [{podSelector: {matchLabels: {\(labels)}}}]}\n"
            case 3:  // numbers out of range in every numeric field
                let numbers = ["-1", "0", "65536", "4294967296", "18446744073709551616", "1e400", "-0", "0x1F90", "0o17", "+80", ".inf", "1_000"]
                let pick = { numbers.randomElement(using: &random)! }
                text = "apiVersion: policy.linkerd.io/v1alpha1\nkind: NetworkAuthenticationPolicy\nmetadata: {name: n, namespace: demo}\n"
                    + "spec: {target: {selector: {}}, ports: [{port: \(pick()), endPort: \(pick())}, {port: \(pick())}], sources: [{podSelector: {}}]}\n"
                    + "---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: demo}\nspec: {containers: [{name: c, ports: [{containerPort: \(pick())}]}]}\n"
            case 4:  // duplicate keys everywhere
                let key = ["metadata", "spec", "name", "kind", "labels", "target", "sources", "ports"].randomElement(using: &random)!
                text = "apiVersion: v1\nkind: Pod\n\(key): a\nmetadata: {name: a, name: b, namespace: demo, labels: {x: 1, x: 2}}\n\(key): {b: c}\n"
            case 5:  // invalid UTF-8 sprinkled into a valid document
                var bytes = Array(Manifestish.policy.utf8)
                for _ in 0..<Int.random(in: 1...6, using: &random) {
                    let bad: [[UInt8]] = [[0xFF], [0xC3, 0x28], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0xC0, 0xAF]]
                    bytes.insert(contentsOf: bad.randomElement(using: &random)!, at: Int.random(in: 0..<bytes.count, using: &random))
                }
                Self.run(bytes, "invalid-utf8#\(round)", &stats)
                continue
            case 6:  // a huge scalar and a huge number of documents
                text = "kind: Pod\nmetadata: {name: " + String(repeating: "n", count: Int.random(in: 1 << 16...3 << 20, using: &random)) + "}\n"
                text += String(repeating: "---\nkind: Pod\nmetadata: {name: p, namespace: demo}\n", count: Int.random(in: 1...3000, using: &random))
            default:  // random policies with random selectors, operators and networks
                let operators = ["In", "NotIn", "Exists", "DoesNotExist", "Like", "", "in"]
                let cidrs = ["10.0.0.0/8", "10.0.0.0/33", "::/0", "::ffff:10.0.0.0/104", "fd00::/129", "1.2.3.4", "x/y", "0.0.0.0/0"]
                var sources: [String] = []
                for _ in 0..<Int.random(in: 0...30, using: &random) {
                    sources.append("{podSelector: {matchExpressions: [{key: app, operator: \(operators.randomElement(using: &random)!), values: [a, b]}]}, "
                        + "networks: [{cidr: \(cidrs.randomElement(using: &random)!), except: [\(cidrs.randomElement(using: &random)!)]}]}")
                }
                text = "apiVersion: policy.linkerd.io/v1alpha1\nkind: NetworkAuthenticationPolicy\nmetadata: {name: r, namespace: demo}\n"
                    + "spec: {target: {selector: {matchLabels: {app: a}}}, ports: [{port: \(Int.random(in: -5...70000, using: &random))}], sources: [\(sources.joined(separator: ", "))]}\n"
                    + Manifestish.policy
            }
            Self.run(Array(text.utf8), "generated-\(kind)#\(round)", &stats)
        }
        print("fuzz (generated): \(stats.executions) executions, slowest \(stats.slowest) (\(stats.slowestName))")
    }
}

enum Manifestish {
    static let policy = """
        ---
        apiVersion: policy.linkerd.io/v1alpha1
        kind: NetworkAuthenticationPolicy
        metadata: {name: frontend-can-talk-to-backend, namespace: demo}
        spec:
          target: {selector: {matchLabels: {app: backend}}}
          ports: [{port: 8080}]
          sources: [{podSelector: {matchLabels: {app: frontend}}}]
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: backend, namespace: demo, labels: {app: backend}}
        status: {podIPs: [{ip: 10.244.0.2}]}

        """
}
