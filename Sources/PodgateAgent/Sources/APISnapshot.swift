import PodgateKube
import PodgateManifests
import PodgateModel

/// API objects -> the snapshot the compiler sees, with the same decoder as
/// the manifests (identity from what a pod cannot forge: namespace from
/// metadata, service account from the spec). Objects are decoded again only
/// when they changed, so a cgroup-only wake-up costs no decoding.
struct APISnapshot {
    private var decoded: [KubeResource: [PodgateKube.ObjectKey: (object: DocumentValue, decoded: [ManifestObject])]] = [:]

    /// The server validated every object against its schema, and may be
    /// newer than the agent: a field the agent does not know is not an error.
    private let decoder = ManifestDecoder(unknownFields: .ignore)

    /// `objects` per resource, as the cache holds them. An object the decoder rejects keeps its version from
    /// `previous` (the snapshot in the kernel). Pods in every phase are kept:
    /// the compiler decides who owns a contested address.
    mutating func build(_ objects: [KubeResource: [PodgateKube.ObjectKey: DocumentValue]],
                        previous: ClusterSnapshot) -> (snapshot: ClusterSnapshot, problems: [Diagnostic]) {
        var snapshot = ClusterSnapshot()
        var problems: [Diagnostic] = []
        var rejected: [ManifestKey] = []
        for resource in objects.keys.sorted(by: { $0.name < $1.name }) {
            let current = objects[resource] ?? [:]
            let type = ObjectType(apiVersion: resource.apiVersion, kind: resource.kind)
            var kept: [PodgateKube.ObjectKey: (object: DocumentValue, decoded: [ManifestObject])] = [:]
            for key in current.keys.sorted() {
                let object = current[key]!
                let results: [ManifestObject]
                if let memo = decoded[resource]?[key], memo.object == object {
                    results = memo.decoded
                } else {
                    results = decoder.decode(object, as: type)
                }
                kept[key] = (object, results)
                for result in results {
                    problems += result.diagnostics
                    if case let .rejected(rejectedKey, _) = result { rejected.append(rejectedKey) }
                    snapshot.add(result)
                }
            }
            decoded[resource] = kept
        }
        for key in rejected {
            switch key.kind {
            case "Pod":
                let ref = PodRef(namespace: key.namespace, name: key.name)
                if snapshot.pods[ref] == nil { snapshot.pods[ref] = previous.pods[ref] }
            case "Namespace":
                if snapshot.namespaces[key.name] == nil { snapshot.namespaces[key.name] = previous.namespaces[key.name] }
            default: break
            }
        }
        // A policy updated into an invalid one stays enforced in its last
        // valid version (policy-semantics.md, "An error never widens access");
        // a new invalid one was never enforced and is not now.
        snapshot = snapshot.keepingLastValidPolicies(from: previous)
        for key in rejected where key.kind == "NetworkAuthenticationPolicy" {
            let ref = PolicyRef(namespace: key.namespace, name: key.name)
            if snapshot.policies[ref] == nil { snapshot.policies[ref] = previous.policies[ref] }
        }
        return (snapshot, problems)
    }

    /// A local pod's addresses as its network namespace holds them are its
    /// addresses at once, while the kubelet has not reported `status.podIPs`
    /// (the first packets, init containers). They are checked first: an
    /// address outside `clusterNetworks` (when set), or one the API reports
    /// for another live pod, is reported and not used (a pod allowed to add
    /// addresses to its own interface must not take a neighbour's). Once the
    /// API reports addresses they are the pod's; a difference is reported.
    /// Matched by UID, so a pod recreated under the same name never inherits
    /// the old one's namespace.
    static func addNetnsAddresses(_ found: [String: [IPAddress]], nodeName: String, clusterNetworks: [CIDR] = [],
                                  to snapshot: inout ClusterSnapshot) -> [Diagnostic] {
        var problems: [Diagnostic] = []
        var reportedBy: [IPAddress: PodRef] = [:]
        for pod in snapshot.pods.values where pod.isLive { for address in pod.addresses { reportedBy[address] = pod.ref } }
        for (ref, pod) in snapshot.pods where pod.nodeName == nodeName && !pod.hostNetwork {
            guard let held = found[pod.uid.lowercased()], !held.isEmpty else { continue }
            var updated = pod
            updated.netnsAddresses = held
            let list = { (addresses: [IPAddress]) in addresses.map(\.description).joined(separator: ", ") }
            if pod.addresses.isEmpty {
                var usable: [IPAddress] = []
                for address in held {
                    if !clusterNetworks.isEmpty, !clusterNetworks.contains(where: { $0.contains(address) }) {
                        problems.append(Diagnostic(object: "Pod \(ref)", field: "status.podIPs",
                                                   message: "its network namespace holds \(address), outside --cluster-networks; not used"))
                    } else if let other = reportedBy[address], other != ref {
                        problems.append(Diagnostic(object: "Pod \(ref)", field: "status.podIPs",
                                                   message: "its network namespace holds \(address), which the API reports for pod \(other); not used"))
                    } else {
                        usable.append(address)
                    }
                }
                updated.addresses = usable
                updated.addressesReported = false
            } else if Set(pod.addresses) != Set(held) {
                problems.append(Diagnostic(
                    object: "Pod \(ref)", field: "status.podIPs",
                    message: "\(list(pod.addresses)) differs from the addresses in its network namespace on this node (\(list(held))); the API's are used"))
            }
            snapshot.pods[ref] = updated
        }
        return problems
    }
}
