import PodgateModel

/// Where a connection comes from, as a user names it.
public enum TrafficSource: Hashable, Sendable, CustomStringConvertible {
    case pod(PodRef)
    case address(IPAddress)
    /// A node's host network (kubelet probes, host-network pods).
    case node(String)

    public var description: String {
        switch self {
        case let .pod(ref): "\(ref)"
        case let .address(address): "\(address)"
        case let .node(name): "host/\(name)"
        }
    }
}

public enum IPFamily: Hashable, Sendable {
    case ipv4, ipv6

    func holds(_ address: IPAddress) -> Bool { address.isIPv4 == (self == .ipv4) }
}

/// The reference evaluator: the decision of policy-semantics.md taken
/// straight from the snapshot, without any map. It backs `podgate explain`,
/// and tests hold the compiled maps (`MapLookup`) to it.
public enum Decision {
    /// nil when the destination is not a pod of the snapshot.
    /// - Parameter family: which of the pods' addresses the connection uses.
    public static func evaluate(_ snapshot: ClusterSnapshot, settings: AgentSettings, from source: TrafficSource,
                                to target: PodRef, port: Int, transport: TransportProtocol,
                                family: IPFamily = .ipv4) -> Verdict? {
        guard let pod = snapshot.pods[target] else { return nil }
        if pod.hostNetwork { return Verdict(allowed: true, basis: .notATarget) }
        let peer = Peer(source, snapshot: snapshot, settings: settings, family: family)

        // 1. Loopback, or the pod reaching itself.
        if peer.isLoopback || peer.pod?.ref == target || peer.address.map(pod.addresses.contains) == true {
            return Verdict(allowed: true, basis: .samePod)
        }
        // 2. From the node the pod runs on.
        if let node = peer.node, node == ClusterFacts.node(of: pod, settings: settings), settings.allowFromHost {
            return Verdict(allowed: true, basis: .fromHost)
        }
        // 3. Valid policies that select the pod and cover the port: authorized-only.
        let covering = snapshot.policies.values
            .filter { $0.namespace == pod.namespace && $0.target.matches(pod.labels) && covers($0, pod, port, transport) }
            .sorted { $0.ref < $1.ref }
        if !covering.isEmpty {
            let refs = covering.map(\.ref)
            if let match = covering.first(where: { policy in
                policy.sources.contains { matches($0, peer, policyNamespace: policy.namespace, snapshot) }
            }) {
                return Verdict(allowed: true, basis: .policy, policiesConsidered: refs, matchedPolicy: match.ref)
            }
            return Verdict(allowed: false, reason: .notAuthorized, basis: .policy, policiesConsidered: refs)
        }
        // 4. The pod's default inbound policy.
        let policy = ClusterFacts.defaultPolicy(of: pod, in: snapshot, settings: settings).policy
        let inCluster = peer.address.map { address in settings.clusterNetworks.contains { $0.contains(address) } } ?? false
        let isKnownPod = peer.pod != nil
        let refusal: DecisionReason? = switch policy {
        case .allUnauthenticated: nil
        case .clusterUnauthenticated: inCluster ? nil : .notCluster
        case .allAuthenticated: isKnownPod ? nil : .notAuthenticated
        case .clusterAuthenticated: !isKnownPod ? .notAuthenticated : (inCluster ? nil : .notCluster)
        case .deny, .audit: .defaultDeny
        }
        if policy == .audit {
            return Verdict(allowed: true, reason: .defaultDeny, audited: true, basis: .defaultPolicy(policy))
        }
        return Verdict(allowed: refusal == nil, reason: refusal ?? .none, basis: .defaultPolicy(policy))
    }

    /// Whether one policy's `ports` cover (port, protocol) on this pod.
    static func covers(_ policy: Policy, _ pod: Pod, _ port: Int, _ transport: TransportProtocol) -> Bool {
        if policy.ports.isEmpty { return true }
        return policy.ports.contains { entry in
            guard entry.transport == transport else { return false }
            switch entry.port {
            case let .number(low, endPort): return (low...(endPort ?? low)).contains(port)
            case let .named(name):
                return pod.ports.contains { $0.name == name && $0.transport == transport && $0.port == port }
            }
        }
    }

    /// One `sources` entry: every field it holds must match.
    static func matches(_ entry: PolicySource, _ peer: Peer, policyNamespace: String, _ snapshot: ClusterSnapshot) -> Bool {
        if entry.hasPodFields {
            // Host-network pods and external addresses are not pods here.
            guard let pod = peer.pod else { return false }
            guard SourceMatching.podFieldsMatch(entry, namespace: pod.namespace, labels: pod.labels,
                                                serviceAccount: pod.serviceAccount,
                                                namespaceLabels: ClusterFacts.namespaceLabels(pod.namespace, in: snapshot),
                                                policyNamespace: policyNamespace) else { return false }
            // With `networks`, the pod's own addresses must be inside (all of
            // them, as NetworkPlacement keys identities: fail closed).
            if let blocks = entry.networks, !NetworkPlacement.inside(pod.addresses, blocks) { return false }
        }
        if let blocks = entry.networks {
            guard let address = peer.address, blocks.contains(where: { $0.contains(address) }) else { return false }
        }
        return true
    }

    /// The source as the decision sees it: a known pod, a node, or neither
    /// (an external address), and the address it sends from.
    struct Peer {
        var pod: Pod?
        var node: String?
        var address: IPAddress?
        var isLoopback = false

        init(_ source: TrafficSource, snapshot: ClusterSnapshot, settings: AgentSettings, family: IPFamily) {
            switch source {
            case let .pod(ref):
                guard let pod = snapshot.pods[ref] else { return }
                address = pod.addresses.first(where: family.holds)
                if pod.hostNetwork { node = ClusterFacts.node(of: pod, settings: settings) } else { self.pod = pod }
            case let .address(address):
                self.address = address
                isLoopback = address.isLoopback
                switch ClusterFacts.addressOwners(snapshot, settings: settings).owners[address] {
                case let .pod(ref)?: pod = snapshot.pods[ref]
                case let .node(name)?: node = name
                case nil: break
                }
            case let .node(name):
                node = name
                if name == settings.nodeName {
                    address = settings.nodeAddresses.first(where: family.holds)
                }
                if address == nil {
                    address = snapshot.pods.values.sorted { $0.ref < $1.ref }
                        .first { $0.hostNetwork && ClusterFacts.node(of: $0, settings: settings) == name }?
                        .addresses.first(where: family.holds)
                }
            }
        }
    }
}
