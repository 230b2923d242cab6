import Testing
import PodgateKube
import PodgateModel
@testable import PodgateAgent

/// Kubernetes mode: an error never widens access (policy-semantics.md, "An
/// error never widens access"): a policy updated into an invalid one stays
/// enforced in its last valid version, and the problem is reported.
@Suite struct APILastValidTests {
    /// A NetworkAuthenticationPolicy as a watch event carries it; `endPort`
    /// below `port` is invalid by the contract.
    static func policy(endPort: Int) throws -> DocumentValue {
        try JSONDocument.parse("""
        {"apiVersion":"policy.linkerd.io/v1alpha1","kind":"NetworkAuthenticationPolicy",
         "metadata":{"name":"web","namespace":"demo","uid":"u-1","resourceVersion":"\(endPort)"},
         "spec":{"target":{"selector":{"matchLabels":{"app":"backend"}}},
                 "ports":[{"port":8080,"endPort":\(endPort)}],
                 "sources":[{"podSelector":{"matchLabels":{"app":"frontend"}}}]}}
        """)
    }

    static func objects(_ policy: DocumentValue) -> [KubeResource: [ObjectKey: DocumentValue]] {
        [.networkAuthenticationPolicies: [ObjectKey(object: policy)!: policy]]
    }

    @Test func anInvalidUpdateKeepsTheLastValidPolicy() throws {
        var builder = APISnapshot()
        let valid = builder.build(Self.objects(try Self.policy(endPort: 8090)), previous: ClusterSnapshot())
        let ref = PolicyRef(namespace: "demo", name: "web")
        #expect(valid.snapshot.policies[ref] != nil, "\(valid.problems)")

        let invalid = builder.build(Self.objects(try Self.policy(endPort: 8000)), previous: valid.snapshot)
        #expect(invalid.snapshot.policies[ref] == valid.snapshot.policies[ref], "the last valid version stays enforced")
        #expect(!invalid.problems.isEmpty || !invalid.snapshot.invalidPolicies.isEmpty, "and the problem is reported")

        // Never valid: nothing to keep, nothing enforced.
        var fresh = APISnapshot()
        let never = fresh.build(Self.objects(try Self.policy(endPort: 8000)), previous: ClusterSnapshot())
        #expect(never.snapshot.policies[ref] == nil)
    }
}
