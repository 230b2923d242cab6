import Testing
import PodgateModel

/// policy-semantics.md, "An error never widens access": an enforced policy
/// edited into an invalid one stays enforced in its last valid version.
@Suite struct LastValidTests {
    static let ref = PolicyRef(namespace: "demo", name: "p")
    static let valid = Policy(namespace: "demo", name: "p", target: .everything,
                              ports: [PolicyPort(port: .number(8080, endPort: nil))], sources: [])
    static let problem = Diagnostic(object: "demo/p", field: "spec.prots", message: "is not a field of NetworkAuthenticationPolicy")

    @Test func anInvalidUpdateKeepsTheLastValidVersionAndSaysSo() {
        let previous = ClusterSnapshot(policies: [Self.ref: Self.valid])
        let now = ClusterSnapshot(invalidPolicies: [Self.ref: Self.problem])
        let kept = now.keepingLastValidPolicies(from: previous)
        #expect(kept.policies == [Self.ref: Self.valid])
        #expect(kept.invalidPolicies[Self.ref]?.description.hasSuffix("; its last valid version stays enforced") == true)
        // And again on the next pass, from the snapshot that kept it.
        #expect(now.keepingLastValidPolicies(from: kept).policies == [Self.ref: Self.valid])
    }

    @Test func aNewInvalidPolicyIsNeverEnforcedAndAValidOneReplacesTheKeptVersion() {
        let now = ClusterSnapshot(invalidPolicies: [Self.ref: Self.problem])
        #expect(now.keepingLastValidPolicies(from: ClusterSnapshot()).policies.isEmpty)
        var fixed = Self.valid
        fixed.ports = []
        let previous = ClusterSnapshot(policies: [Self.ref: Self.valid])
        #expect(ClusterSnapshot(policies: [Self.ref: fixed]).keepingLastValidPolicies(from: previous).policies[Self.ref] == fixed)
        // Deleted: gone, whatever was enforced.
        #expect(ClusterSnapshot().keepingLastValidPolicies(from: previous).policies.isEmpty)
    }
}
