import PodgateCompiler
import PodgateModel
import Testing
@testable import PodgateBench
@testable import PodgateBenchCore

@Suite struct SyntheticClusterTests {
    let shape = ClusterShape(pods: 1_000, policies: 100, namespaces: 10, localPods: 20)

    @Test func generatesTheRequestedShape() {
        let snapshot = SyntheticCluster.generate(shape)
        #expect(snapshot.pods.count == 1_000)
        #expect(snapshot.policies.count == 100)
        #expect(snapshot.namespaces.count == 10)
        #expect(Set(snapshot.pods.values.flatMap(\.addresses)).count == 1_000)
        #expect(SyntheticCluster.localCgroups(snapshot).count == 20)
        #expect(Set(SyntheticCluster.localCgroups(snapshot).values).count == 20)
        // Deployments of `replicas` pods share their labels: 10 per namespace here.
        let identities = Set(snapshot.pods.values.map { [$0.namespace] + $0.labels.sorted { $0.key < $1.key }.map(\.value) })
        #expect(identities.count == 100)
    }

    @Test func isDeterministic() {
        #expect(SyntheticCluster.generate(shape) == SyntheticCluster.generate(shape))
    }

    @Test func everyPolicySelectsExistingPods() {
        let snapshot = SyntheticCluster.generate(shape)
        for policy in snapshot.policies.values {
            let targets = snapshot.pods.values.filter { $0.namespace == policy.namespace && policy.target.matches($0.labels) }
            #expect(!targets.isEmpty, "\(policy.ref) selects no pod")
        }
    }

    @Test func eachChangeTouchesOneObject() {
        let snapshot = SyntheticCluster.generate(shape)
        let relabeled = SyntheticCluster.relabelingOnePod(snapshot, shape: shape)
        #expect(relabeled.policies == snapshot.policies && relabeled.namespaces == snapshot.namespaces)
        #expect(relabeled.pods.filter { snapshot.pods[$0.key] != $0.value }.count == 1)
        let policy = SyntheticCluster.changingOnePolicy(snapshot, shape: shape)
        #expect(policy.pods == snapshot.pods)
        #expect(policy.policies.filter { snapshot.policies[$0.key] != $0.value }.count == 1)
        let namespace = SyntheticCluster.relabelingOneNamespace(snapshot, shape: shape)
        #expect(namespace.namespaces.filter { snapshot.namespaces[$0.key] != $0.value }.count == 1)
    }

    @Test func changesReachTheMaps() {
        let snapshot = SyntheticCluster.generate(shape)
        let settings = AgentSettings(nodeName: SyntheticCluster.localNode)
        let cgroups = SyntheticCluster.localCgroups(snapshot)
        let first = PolicyCompiler.compile(snapshot, settings: settings, localCgroups: cgroups)
        #expect(!first.state.policy.isEmpty)
        #expect(first.state.endpoints.count == 20)
        let changed = PolicyCompiler.compile(SyntheticCluster.changingOnePolicy(snapshot, shape: shape), settings: settings,
                                             localCgroups: cgroups, previous: first.allocation)
        #expect(!StateDiff.operations(from: first.state, to: changed.state).isEmpty)
        let relabeled = PolicyCompiler.compile(SyntheticCluster.relabelingOnePod(snapshot, shape: shape), settings: settings,
                                               localCgroups: cgroups, previous: first.allocation)
        #expect(!StateDiff.operations(from: first.state, to: relabeled.state).isEmpty)
    }
}

@Suite struct FirewallRulesTests {
    @Test func iptablesOrder() {
        let last = Firewall.iptablesRules(unrelated: 3, matchLast: true, reject: false).split(separator: "\n")
        #expect(last.first == "*filter")
        #expect(last.last == "COMMIT")
        let rules = last.filter { $0.hasPrefix("-A INPUT") }
        #expect(rules.count == 6)
        #expect(rules[0].contains("ESTABLISHED"))
        #expect(rules[4].contains("-s 10.99.0.1/32"))
        #expect(rules[5] == "-A INPUT -j DROP")
        let first = Firewall.iptablesRules(unrelated: 3, matchLast: false, reject: true).split(separator: "\n").filter { $0.hasPrefix("-A INPUT") }
        #expect(first[1].contains("-s 10.99.0.1/32"))
        #expect(first.last!.contains("REJECT --reject-with tcp-reset"))
        #expect(Set(rules.filter { $0.contains("-s ") }).count == 4)
    }

    @Test func nftSetHoldsEveryElement() {
        let text = Firewall.nftRules(elements: 5)
        #expect(text.contains("10.99.0.1 . 8080"))
        #expect(text.components(separatedBy: " . 8080").count - 1 == 5)
        #expect(text.contains("ip saddr . tcp dport @allow accept"))
    }
}

extension String {
    func components(separatedBy separator: String) -> [Substring] {
        split(separator: separator, omittingEmptySubsequences: false)
    }
}
