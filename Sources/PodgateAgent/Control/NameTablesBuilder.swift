import PodgateCompiler
import PodgateModel

/// The numbers of the last compilation turned back into names, for `maps dump`.
enum NameTablesBuilder {
    static func build(_ state: PublishedState) -> NameTables {
        let compilation = state.compilation
        let snapshot = state.snapshot
        var tables = NameTables()
        var podsByIdentity: [IdentityKey: [String]] = [:]
        let placement = NetworkPlacement(snapshot)
        for pod in snapshot.pods.values where !pod.hostNetwork {
            podsByIdentity[placement.key(of: pod), default: []].append(pod.ref.description)
        }
        for (id, key) in compilation.identities {
            tables.identities[id.description] = .init(namespace: key.namespace, serviceAccount: key.serviceAccount,
                                                      labels: key.labels, pods: (podsByIdentity[key] ?? []).sorted())
        }
        for (id, cidr) in compilation.cidrClasses { tables.cidrClasses[id.description] = cidr.description }
        for (id, key) in compilation.targetClasses {
            let pods = tables.identities[key.identity.description]?.pods ?? []
            tables.targetClassPods[id.description] = pods
            let named = key.namedPorts.map { "\($0.name ?? "")=\($0.transport.rawValue)/\($0.port)" }
            tables.targetClasses[id.description] = "\(pods.isEmpty ? "identity \(key.identity)" : pods.joined(separator: ","))"
                + " default=\(key.defaultPolicy.rawValue)" + (named.isEmpty ? "" : " ports=\(named.joined(separator: ","))")
        }
        for (id, ref) in compilation.pods { tables.pods[id.description] = ref.description }
        for (cgroup, endpoint) in compilation.state.endpoints {
            tables.cgroups[cgroup.description] = compilation.pods[endpoint.podID]?.description ?? "pod #\(endpoint.podID)"
        }
        for (address, owner) in ClusterFacts.addressOwners(snapshot, settings: state.settings).owners {
            switch owner {
            case let .pod(ref): tables.addresses[address.description] = ref.description
            case let .node(name): tables.addresses[address.description] = "node \(name)"
            }
        }
        for (index, ref) in compilation.policies { tables.policies[index.description] = ref.description }
        return tables
    }
}
