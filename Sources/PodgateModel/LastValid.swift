/// "An error never widens access" (policy-semantics.md): a policy that was
/// enforced and is updated into an invalid one stays enforced in its last
/// valid version, and the report says so; a new invalid policy is never
/// enforced. Pure, for both sources: local mode and Kubernetes mode pass the
/// snapshot they just decoded and the one the kernel holds.
extension ClusterSnapshot {
    public func keepingLastValidPolicies(from previous: ClusterSnapshot) -> ClusterSnapshot {
        var result = self
        for (ref, problem) in invalidPolicies where result.policies[ref] == nil {
            guard let last = previous.policies[ref] else { continue }
            result.policies[ref] = last
            var kept = problem
            kept.message += "; its last valid version stays enforced"
            result.invalidPolicies[ref] = kept
        }
        return result
    }
}
