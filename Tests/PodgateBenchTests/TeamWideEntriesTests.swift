import Testing
import PodgateBenchCore
import PodgateCompiler
import PodgateModel

/// Issue 15, item 5: policy-map entries of whole-namespace sources.
@Suite struct TeamWideEntriesTests {
    /// The figure of the issue: the 150k-pod cluster of `bench` (5,000
    /// policies, 1,000 namespaces) and 40 team-wide policies (every pod of a
    /// namespace, every port, admitting every pod of 33 namespaces). Before:
    /// one key per identity behind each class key (what the compiler wrote
    /// before classes), counted from the same compile.
    @Test func teamWidePolicyEntries() {
        let shape = ClusterShape.standard[2]
        var snapshot = SyntheticCluster.generate(shape)
        for k in 0..<40 {
            let admitted = (0..<33).map { SyntheticCluster.namespaceName((k * 33 + $0) % 1_000) }
            let policy = Policy(namespace: SyntheticCluster.namespaceName(k), name: "team-wide-\(k)", target: .everything,
                                sources: [PolicySource(namespaceSelector: LabelSelector(matchExpressions: [
                                    .init(key: "kubernetes.io/metadata.name", operator: .in, values: admitted)]))])
            snapshot.policies[policy.ref] = policy
        }
        let settings = AgentSettings(nodeName: SyntheticCluster.localNode)
        let compilation = PolicyCompiler.compile(snapshot, settings: settings, localCgroups: SyntheticCluster.localCgroups(snapshot))
        // Before: each class key written as the identity keys behind it, as
        // the compiler did without classes (distinct keys: one entry each).
        var identitiesOf: [IdentityID: [IdentityID]] = [:]
        var identitiesByNamespace: [String: [IdentityID]] = [:]
        for (key, raw) in compilation.allocation.identities.ids { identitiesByNamespace[key.namespace, default: []].append(IdentityID(raw)) }
        for (namespace, raw) in compilation.allocation.namespaceClasses.ids { identitiesOf[IdentityID(raw)] = identitiesByNamespace[namespace] ?? [] }
        let everyIdentity = compilation.allocation.identities.ids.values.map(IdentityID.init)
        var expanded: Set<PolicyKey> = []
        for key in compilation.state.policy.keys {
            let sources = key.source == .allPods ? everyIdentity : (key.source.isNamespaceClass ? identitiesOf[key.source] ?? [] : [key.source])
            for source in sources {
                var copy = key
                copy.source = source
                expanded.insert(copy)
            }
        }
        let before = expanded.count, after = compilation.state.policy.count
        // The same cluster without the 40: what they alone add.
        for k in 0..<40 { snapshot.policies[PolicyRef(namespace: SyntheticCluster.namespaceName(k), name: "team-wide-\(k)")] = nil }
        let base = PolicyCompiler.compile(snapshot, settings: settings, localCgroups: SyntheticCluster.localCgroups(snapshot)).state.policy.count
        print("""
            policy-map entries, 150k pods, 5,000 policies + 40 team-wide (default capacity \(StateLimits().policy)):
              whole map:          before \(before), after \(after)
              the 40 team-wide:   before \(before - base), after \(after - base)
            """)
        #expect((after - base) * 10 < before - base)
        #expect(after < before)
    }
}
