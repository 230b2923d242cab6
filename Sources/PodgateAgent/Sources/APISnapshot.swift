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
        var rejected: [PodgateManifests.ObjectKey] = []
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
        return (snapshot, problems)
    }

    /// A local pod's addresses as its network namespace holds them are its
    /// addresses, at once (before the kubelet reports `status.podIPs`): on
    /// its own node, the kernel is the truth. Once the API reports addresses,
    /// a difference is reported, and an address the namespace does not hold
    /// is not used (a packet from it cannot be this pod's). Matched by UID,
    /// so a pod recreated under the same name never inherits the old one's.
    static func addNetnsAddresses(_ found: [String: [IPAddress]], nodeName: String,
                                  to snapshot: inout ClusterSnapshot) -> [Diagnostic] {
        var problems: [Diagnostic] = []
        for (ref, pod) in snapshot.pods where pod.nodeName == nodeName && !pod.hostNetwork {
            guard let held = found[pod.uid.lowercased()], !held.isEmpty else { continue }
            var updated = pod
            updated.netnsAddresses = held
            updated.addresses = held
            if !pod.addresses.isEmpty, Set(pod.addresses) != Set(held) {
                problems.append(Diagnostic(
                    object: "Pod \(ref)", field: "status.podIPs",
                    message: "\(pod.addresses.map(\.description).joined(separator: ", ")) differs from the addresses in its network namespace on this node (\(held.map(\.description).joined(separator: ", "))); the namespace's are used"))
            }
            snapshot.pods[ref] = updated
        }
        return problems
    }
}
