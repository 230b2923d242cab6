import Testing
import PodgateBenchCore
import PodgateCompiler
import PodgateModel

/// Issue 15, item 5: policy-map entries of whole-namespace sources.
@Suite struct TeamWideEntriesTests {
    /// The figure of the issue: 150k pods, 40 team-wide policies (every pod of
    /// a namespace, every port, admitting every pod of 33 namespaces). Before:
    /// one key per identity behind each class key (what the compiler wrote
    /// before classes), counted from the same compile.
    @Test func teamWidePolicyEntries() {
        let shape = ClusterShape(pods: 150_000, policies: 0, namespaces: 1_000)
        var snapshot = SyntheticCluster.generate(shape)
        for i in 0..<1_000 { snapshot.namespaces[SyntheticCluster.namespaceName(i)]?.labels["group"] = "g\(i % 30)" }
        for k in 0..<40 {
            // 33 namespaces: group g(k % 30) holds 33 or 34 of the 1,000; pick 33 by name.
            let admitted = (0..<33).map { SyntheticCluster.namespaceName((k * 33 + $0) % 1_000) }
            let policy = Policy(namespace: SyntheticCluster.namespaceName(k), name: "team-wide-\(k)", target: .everything,
                                sources: [PolicySource(namespaceSelector: LabelSelector(matchExpressions: [
                                    .init(key: "kubernetes.io/metadata.name", operator: .in, values: admitted)]))])
            snapshot.policies[policy.ref] = policy
        }
        let compilation = PolicyCompiler.compile(snapshot, settings: AgentSettings(nodeName: SyntheticCluster.localNode),
                                                 localCgroups: SyntheticCluster.localCgroups(snapshot))
        var identitiesPerClass: [IdentityID: Int] = [:]
        let namespaceOfClass = compilation.allocation.namespaceClasses.ids
        var identitiesPerNamespace: [String: Int] = [:]
        for key in compilation.allocation.identities.ids.keys { identitiesPerNamespace[key.namespace, default: 0] += 1 }
        for (namespace, raw) in namespaceOfClass { identitiesPerClass[IdentityID(raw)] = identitiesPerNamespace[namespace] ?? 0 }
        let after = compilation.state.policy.count
        let before = compilation.state.policy.keys.reduce(0) { $0 + ($1.source.isNamespaceClass ? identitiesPerClass[$1.source] ?? 0 : 1) }
        print("team-wide policies at 150k pods: policy-map entries before \(before), after \(after) (default capacity \(StateLimits().policy))")
        #expect(after * 10 < before)
    }
}
