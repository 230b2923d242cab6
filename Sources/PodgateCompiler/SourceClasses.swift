import PodgateModel

/// Sources that are whole namespaces. A `sources` entry that admits every
/// pod of the namespaces it selects, whatever the pod's labels and account
/// (`namespaceSelector` and/or an empty `podSelector`, nothing else), is
/// written as one policy key per selected namespace class, or one `allPods`
/// key when it selects every namespace, not as one key per identity behind
/// it: entries then grow with the policies, not with the pods (issue 15,
/// item 5). The kernel matches a pod source on its identity, its namespace's
/// class and `allPods` (lib/policy.h, rule 3a), each read from the same map
/// entry, so the class keys admit exactly the identities they stand for.
enum SourceClasses {
    /// The class keys of a policy: `allPods`, and the classes (from
    /// `classOf`) of the namespaces its other class entries select.
    static func sources(of policy: Policy, namespaces: some Sequence<(String, IdentityID)>,
                        labels: (String) -> [String: String]) -> Set<IdentityID> {
        let entries = policy.sources.filter(\.isClassSource)
        guard !entries.isEmpty else { return [] }
        var result: Set<IdentityID> = entries.contains(where: \.isEveryPod) ? [.allPods] : []
        for (namespace, id) in namespaces where selects(entries, policyNamespace: policy.namespace, namespace, labels(namespace)) {
            result.insert(id)
        }
        return result
    }

    /// Whether a namespace-wide (not every-pod) class entry of `policy` selects the namespace.
    static func selects(_ policy: Policy, _ namespace: String, labels: [String: String]) -> Bool {
        selects(policy.sources.filter(\.isClassSource), policyNamespace: policy.namespace, namespace, labels)
    }

    private static func selects(_ entries: [PolicySource], policyNamespace: String, _ namespace: String,
                                _ labels: [String: String]) -> Bool {
        entries.contains { entry in
            guard !entry.isEveryPod else { return false }
            if let selector = entry.namespaceSelector { return selector.matches(labels) }
            return namespace == policyNamespace
        }
    }
}

extension PolicySource {
    /// Every pod of the namespaces it selects: only a namespace condition
    /// (its selector, or the policy's own namespace under an empty `podSelector`).
    var isClassSource: Bool {
        serviceAccounts == nil && networks == nil && (namespaceSelector != nil || podSelector != nil)
            && (podSelector?.selectsEverything ?? true)
    }

    /// Every pod of the cluster.
    var isEveryPod: Bool { isClassSource && namespaceSelector?.selectsEverything == true }
}

extension LabelSelector {
    var selectsEverything: Bool { matchLabels.isEmpty && matchExpressions.isEmpty }
}
