import Foundation
import Testing
import PodgateDatapath
@testable import PodgateAgent
import PodgateModel
import PodgateCompiler
import PodgateTestSupport

/// The pure pieces of revocation: the change a `revoked` event names, how
/// the event reads, and how the kernel check words a missing feature.
@Suite struct RevocationUnitTests {
    static func policy(_ name: String, sources: [String]) -> Policy {
        Policy(namespace: "demo", name: name, target: LabelSelector(matchLabels: ["app": "backend"]),
               ports: [PolicyPort(port: .number(8080, endPort: nil))],
               sources: [PolicySource(podSelector: LabelSelector(matchExpressions: [.init(key: "app", operator: .in, values: sources)]))])
    }

    @Test func changeNamesWhatCanChangeADecision() {
        let web = PodRef(namespace: "demo", name: "web"), admin = PodRef(namespace: "demo", name: "admin")
        let pod = Pod(namespace: "demo", name: "frontend", labels: ["app": "frontend"], addresses: [IPAddress("10.0.0.1")!])
        let old = ClusterSnapshot(namespaces: ["demo": Namespace(name: "demo")], pods: [pod.ref: pod],
                                  policies: [web: Self.policy("web", sources: ["frontend"]), admin: Self.policy("admin", sources: ["frontend"])])
        var new = old
        new.policies[web] = Self.policy("web", sources: ["other"])
        new.policies[admin] = nil
        new.namespaces["demo"]?.defaultInboundPolicy = "deny"
        #expect(ChangeSummary.describe(from: old, to: new) == ["policy demo/admin deleted", "policy demo/web changed", "namespace demo changed"])
        // Status churn of a pod (its uid here) is no cause.
        var churn = old
        churn.pods[pod.ref]?.uid = "u2"
        #expect(ChangeSummary.describe(from: old, to: churn).isEmpty)
        churn.pods[pod.ref]?.labels = ["app": "other"]
        #expect(ChangeSummary.describe(from: old, to: churn) == ["pod demo/frontend changed"])
    }

    /// The form an incremental pass uses (only the objects its changes name)
    /// says exactly what comparing everything says, over random edits.
    @Test(arguments: [1, 2, 3] as [UInt64])
    func theChangedObjectsAloneGiveTheSameSummary(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var old = ClusterSnapshot(namespaces: ["a": Namespace(name: "a"), "b": Namespace(name: "b")])
        for step in 0..<300 {
            var new = old
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let namespace = ["a", "b"].randomElement(using: &random)!
                let name = "o\(Int.random(in: 0..<12, using: &random))"
                switch Int.random(in: 0..<6, using: &random) {
                case 0: new.pods[PodRef(namespace: namespace, name: name)] = nil
                case 1, 2:
                    var pod = Pod(namespace: namespace, name: name, labels: ["app": ["x", "y"].randomElement(using: &random)!],
                                  addresses: [IPAddress("10.0.0.\(Int.random(in: 1...9, using: &random))")!])
                    pod.uid = "u\(Int.random(in: 0..<3, using: &random))"  // status churn: no cause
                    new.pods[pod.ref] = pod
                case 3: new.policies[PolicyRef(namespace: namespace, name: name)] = Self.policy(name, sources: [["x"], ["y"]].randomElement(using: &random)!)
                case 4: new.policies[PolicyRef(namespace: namespace, name: name)] = nil
                default: new.namespaces[namespace]?.defaultInboundPolicy = ["deny", nil].randomElement(using: &random)!
                }
            }
            let changes = ClusterChange.between(old, new)
            #expect(ChangeSummary.describe(changes, from: old, to: new) == ChangeSummary.describe(from: old, to: new), "seed \(seed) step \(step)")
            old = new
        }
    }

    @Test func onlyTheNamedObjectsAreCompared() {
        let pod = Pod(namespace: "demo", name: "frontend", labels: ["app": "frontend"], addresses: [IPAddress("10.0.0.1")!])
        var new = ClusterSnapshot(pods: [pod.ref: pod])
        new.policies[PolicyRef(namespace: "demo", name: "web")] = Self.policy("web", sources: ["frontend"])
        // The changes name the policy only: the pod, also new, is not looked at.
        let web = PolicyRef(namespace: "demo", name: "web")
        #expect(ChangeSummary.describe([.policy(web, new.policies[web])], from: ClusterSnapshot(), to: new) == ["policy demo/web added"])
    }

    @Test func longChangesAreCut() {
        var new = ClusterSnapshot()
        for index in 0..<12 { new.policies[PodRef(namespace: "demo", name: "p\(index)")] = Self.policy("p\(index)", sources: ["a"]) }
        let lines = ChangeSummary.describe(from: ClusterSnapshot(), to: new)
        #expect(lines.count == ChangeSummary.limit + 1)
        #expect(lines.last == "and 4 more")
    }

    @Test func revokedEventsCarryTheirCause() throws {
        var record = sampleRecord(verdict: .revoked, where: .server)
        record.change = ["policy demo/web changed"]
        #expect(record.summary.hasPrefix("revoked server TCP demo/frontend"))
        #expect(record.summary.hasSuffix(" after: policy demo/web changed"))
        #expect(record.jsonLine().contains("\"change\":[\"policy demo/web changed\"]"))
        #expect(!sampleRecord().jsonLine().contains("change"), "other events keep their shape")
        let decoded = try JSONDecoder().decode(EventRecord.self, from: Data(record.jsonLine().utf8))
        #expect(decoded == record)
    }

    @Test func aKernelWithoutSocketDestructionIsNamed() throws {
        let path = "/tmp/podgate-revoke-btf-\(getpid())"
        defer { unlink(path) }
        try Data("some other BTF strings\0bpf_sock_destroyer\0".utf8).write(to: URL(fileURLWithPath: path))
        let problem = try #require(SocketRevoker.kernelProblem(btfPath: path))
        #expect(problem.contains("has no bpf_sock_destroy()") && problem.contains("6.5"), "\(problem)")
        try Data(("x".utf8.map { $0 } + [UInt8](repeating: 7, count: (1 << 20) - 5) + Array("bpf_sock_destroy\0".utf8))).write(to: URL(fileURLWithPath: path))
        #expect(SocketRevoker.kernelProblem(btfPath: path) == nil, "found across a read boundary")
        #expect(SocketRevoker.kernelProblem(btfPath: path + "-missing")?.contains("exposes no BTF") == true)
    }

    @Test func revokedDecisionsAreCounted() {
        var counters = DatapathCounters()
        counters.decisions[.init(location: .server, verdict: .revoked, reason: .notAuthorized)] = 2
        let text = MetricsText.render(MetricsInput(
            counters: counters, eventsEmitted: 0, eventsSkipped: 0, maps: [], compileSeconds: Histogram(),
            mapWriteSeconds: Histogram(), lastSyncUnixSeconds: 0, invalidPolicies: 0, ready: true))
        #expect(text.contains("podgate_connections_total{direction=\"server\",verdict=\"revoked\",reason=\"not-authorized\"} 2\n"), "\(text)")
    }
}
