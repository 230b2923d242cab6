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
    /// terminating pod keeping its IP while a new one takes it, a late
    /// `status.podIPs`) belongs to the pod that holds it now (policy-semantics.md,
    /// "An error never widens access", last bullet): this node's own addresses
    /// (from the flags) first; then, by `claimPrecedes`, a pod that is not
    /// host-network, a live pod (not terminating, not finished), a claim the
    /// API reports over one seen only in a network namespace, on its own
    /// node the pod whose network namespace holds it, the most recently
    /// created, and last the smaller PodRef (only so the answer is stable).
    /// A finished pod (Succeeded, Failed) claims nothing: its address is free.
    /// Each loser is reported.
    public static func addressOwners(_ snapshot: ClusterSnapshot, settings: AgentSettings)
        -> (owners: [IPAddress: AddressOwner], problems: [Diagnostic]) {
        var owners: [IPAddress: AddressOwner] = [:]
        var problems: [Diagnostic] = []
        for address in settings.nodeAddresses { owners[address] = .node(settings.nodeName) }
        var claims: [IPAddress: [Pod]] = [:]
        for pod in snapshot.pods.values where !pod.isFinished {
            var seen: Set<IPAddress> = []
            for address in pod.addresses where seen.insert(address).inserted { claims[address, default: []].append(pod) }
        }
        for (address, claimants) in claims {
            let resolved = resolve(address, claimants: claimants, nodeOwned: owners[address] != nil, settings: settings)
            owners[address] = resolved.owner
            problems += resolved.problems
        }
        return (owners, Compilation.canonicalOrder(problems))
    }

    /// The owner of one address and the losers' reports, given the pods
    /// claiming it (each once, none finished) and whether it is one of this
    /// node's own addresses. The one rule both compilers apply.
    static func resolve(_ address: IPAddress, claimants: [Pod], nodeOwned: Bool, settings: AgentSettings)
        -> (owner: AddressOwner?, problems: [Diagnostic]) {
        var losers = claimants.sorted { claimPrecedes($0, $1, address: address) }[...]
        let holder: (owner: AddressOwner, name: String)
        if nodeOwned {
            holder = (.node(settings.nodeName), "node \(settings.nodeName)")
        } else if let winner = losers.popFirst() {
            holder = (owner(of: winner, settings: settings), "pod \(winner.ref)")
        } else {
            return (nil, [])
        }
        var problems: [Diagnostic] = []
        for pod in losers {
            // Host-network pods of one node all share its addresses: no conflict.
            if pod.hostNetwork, owner(of: pod, settings: settings) == holder.owner { continue }
            problems.append(Diagnostic(object: "Pod \(pod.ref)", field: "status.podIPs",
                                       message: "address \(address) is already held by \(holder.name); ignored for this pod"))
        }
        return (holder.owner, problems)
    }

    static func owner(of pod: Pod, settings: AgentSettings) -> AddressOwner {
        pod.hostNetwork ? .node(node(of: pod, settings: settings)) : .pod(pod.ref)
    }

    /// True when `a` has the better claim to `address` than `b`.
    public static func claimPrecedes(_ a: Pod, _ b: Pod, address: IPAddress) -> Bool {
        if a.hostNetwork != b.hostNetwork { return !a.hostNetwork }
        if a.isLive != b.isLive { return a.isLive }
        // A claim the API reports beats one seen only in a namespace (a pod
        // that added an address to itself must not take another pod's).
        if a.addressesReported != b.addressesReported { return a.addressesReported }
        let aHolds = a.netnsAddresses.contains(address), bHolds = b.netnsAddresses.contains(address)
        if aHolds != bHolds { return aHolds }
        // RFC 3339 in UTC with a fixed layout sorts as text; unknown is oldest.
        let aCreated = a.creationTimestamp ?? "", bCreated = b.creationTimestamp ?? ""
        if aCreated != bCreated { return aCreated > bCreated }
        return a.ref < b.ref
    }
}
