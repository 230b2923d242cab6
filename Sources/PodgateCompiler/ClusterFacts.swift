import PodgateModel

/// Facts about the snapshot that both the compiler and the reference
/// evaluator need, defined once so they cannot drift apart.
public enum ClusterFacts {
    /// Kubernetes sets `kubernetes.io/metadata.name` on every namespace (the
    /// usual way to select one namespace by name); a manifest directory often
    /// omits it, so it is always added. A namespace with no object has only it.
    public static func namespaceLabels(_ name: String, in snapshot: ClusterSnapshot) -> [String: String] {
        var labels = snapshot.namespaces[name]?.labels ?? [:]
        labels["kubernetes.io/metadata.name"] = name
        return labels
    }

    /// The node a pod runs on; a pod without `spec.nodeName` is taken to be on
    /// this agent's node (manifests written by hand, the simulator).
    public static func node(of pod: Pod, settings: AgentSettings) -> String {
        pod.nodeName ?? settings.nodeName
    }

    public static let annotationField = "metadata.annotations[\(DefaultInboundPolicy.annotation)]"

    /// A pod's default inbound policy: its annotation, else its namespace's,
    /// else the agent's flag. An unknown value is reported and counts as
    /// `deny` (policy-semantics.md): a typo must never open what it was meant to close.
    public static func defaultPolicy(of pod: Pod, in snapshot: ClusterSnapshot, settings: AgentSettings)
        -> (policy: DefaultInboundPolicy, problems: [Diagnostic]) {
        var problems: [Diagnostic] = []
        if let raw = pod.defaultInboundPolicy {
            if let policy = DefaultInboundPolicy(rawValue: raw) { return (policy, problems) }
            problems.append(unknownValue(raw, object: "Pod \(pod.ref)"))
            return (.deny, problems)
        }
        if let raw = snapshot.namespaces[pod.namespace]?.defaultInboundPolicy {
            if let policy = DefaultInboundPolicy(rawValue: raw) { return (policy, problems) }
            problems.append(unknownValue(raw, object: "Namespace \(pod.namespace)"))
            return (.deny, problems)
        }
        return (settings.defaultInboundPolicy, problems)
    }

    static func unknownValue(_ raw: String, object: String) -> Diagnostic {
        let known = DefaultInboundPolicy.allCases.map(\.rawValue).joined(separator: ", ")
        return Diagnostic(object: object, field: annotationField,
                          message: "\"\(raw)\" is not a default inbound policy (\(known)); it counts as deny")
    }
}

/// Who an address belongs to.
public enum AddressOwner: Hashable, Sendable {
    case pod(PodRef)
    /// A node's host address (from the agent's flags, or a host-network pod there).
    case node(String)
}

extension ClusterFacts {
    /// Every known address and its one owner. An address claimed twice (a
    /// finished pod keeping its IP while a new one takes it) goes, in order,
    /// to: this node's own addresses (from the flags), a pod that is not
    /// host-network, then the smallest PodRef. Each real conflict is reported.
    public static func addressOwners(_ snapshot: ClusterSnapshot, settings: AgentSettings)
        -> (owners: [IPAddress: AddressOwner], problems: [Diagnostic]) {
        var owners: [IPAddress: AddressOwner] = [:]
        var claimant: [IPAddress: PodRef] = [:]
        var problems: [Diagnostic] = []
        for address in settings.nodeAddresses { owners[address] = .node(settings.nodeName) }
        // Non-host-network pods first, each group in PodRef order: the first claim wins.
        let pods = snapshot.pods.values.sorted { ($0.hostNetwork ? 1 : 0, $0.ref) < ($1.hostNetwork ? 1 : 0, $1.ref) }
        for pod in pods {
            let owner: AddressOwner = pod.hostNetwork ? .node(node(of: pod, settings: settings)) : .pod(pod.ref)
            for address in pod.addresses {
                guard let existing = owners[address] else {
                    owners[address] = owner
                    claimant[address] = pod.ref
                    continue
                }
                // Host-network pods of one node all share its addresses: no conflict.
                if existing == owner, pod.hostNetwork { continue }
                let holder = claimant[address].map { "pod \($0)" } ?? "node \(settings.nodeName)"
                problems.append(Diagnostic(object: "Pod \(pod.ref)", field: "status.podIPs",
                                           message: "address \(address) is already held by \(holder); ignored for this pod"))
            }
        }
        return (owners, problems)
    }
}
