import PodgateModel

/// The per-pod map entries: `podgate_ipcache` (every address of the
/// cluster) and `podgate_endpts` (the pod cgroups of this node).
struct PodEntries {
    let snapshot: ClusterSnapshot
    let settings: AgentSettings
    let allocation: Allocation
    let identityOf: [PodRef: IdentityID]
    let classOf: [PodRef: TargetClassID]
    let defaults: [PodRef: DefaultInboundPolicy]

    func addresses(_ owners: [IPAddress: AddressOwner]) -> [IPAddress: AddressValue] {
        var result: [IPAddress: AddressValue] = [:]
        for (address, owner) in owners {
            switch owner {
            case let .node(name):
                result[address] = name == settings.nodeName
                    ? AddressValue(kind: .host, identity: .host)
                    : AddressValue(kind: .remoteNode, identity: .remoteNode)
            case let .pod(ref):
                guard let identity = identityOf[ref], let targetClass = classOf[ref] else { continue }
                result[address] = AddressValue(kind: .pod, identity: identity, targetClass: targetClass,
                                               podID: allocation.pods[ref] ?? 0, defaultPolicy: defaults[ref],
                                               namespaceClass: namespaceClass(ref))
            }
        }
        return result
    }

    /// The class of a pod's namespace (it has an identity, so its namespace has one).
    func namespaceClass(_ ref: PodRef) -> IdentityID {
        allocation.namespaceClasses[ref.namespace].map(IdentityID.init) ?? .none
    }

    /// Local pods only (`spec.nodeName` is this node, or unset). A host-network
    /// pod is registered as the node itself, not a policy target (class 0,
    /// all-unauthenticated), so it stays reachable when unknown cgroups are
    /// denied; the datapath leaves its outbound connections to the server.
    func endpoints(_ localCgroups: [PodRef: CgroupID], cidrs: DesiredState) -> [CgroupID: EndpointValue] {
        var result: [CgroupID: EndpointValue] = [:]
        for (ref, cgroup) in localCgroups {
            guard let pod = snapshot.pods[ref], ClusterFacts.node(of: pod, settings: settings) == settings.nodeName,
                  let podID = allocation.pods[ref] else { continue }
            guard !pod.hostNetwork, let identity = identityOf[ref], let targetClass = classOf[ref],
                  let policy = defaults[ref] else {
                result[cgroup] = EndpointValue(identity: .host, targetClass: TargetClassID(0), podID: podID,
                                               defaultPolicy: .allUnauthenticated)
                continue
            }
            var value = EndpointValue(identity: identity, targetClass: targetClass, podID: podID, defaultPolicy: policy,
                                      namespaceClass: namespaceClass(ref))
            // Its own addresses, the only sources it may send from (anti-spoofing).
            value.address4 = pod.addresses.first(where: \.isIPv4)
            value.address6 = pod.addresses.first(where: { !$0.isIPv4 })
            // The first address of each family is the one the pod sends from.
            if let v4 = pod.addresses.first(where: \.isIPv4), let match = cidrs.longestCIDRMatch(v4) {
                value.cidrClass4 = match.value.cidrClass
                value.inCluster4 = match.value.inCluster
            }
            if let v6 = pod.addresses.first(where: { !$0.isIPv4 }), let match = cidrs.longestCIDRMatch(v6) {
                value.cidrClass6 = match.value.cidrClass
                value.inCluster6 = match.value.inCluster
            }
            result[cgroup] = value
        }
        return result
    }
}
