import PodgateKube
import PodgateManifests
import PodgateModel

/// API objects -> the snapshot the compiler sees, with the same decoder as
/// the manifests (identity from what a pod cannot forge: namespace from
/// metadata, service account from the spec). Objects are decoded again only
/// when they changed, so a cgroup-only wake-up costs no decoding.
struct APISnapshot {
    private var decoded: [KubeResource: [PodgateKube.ObjectKey: (object: DocumentValue, decoded: [ManifestObject])]] = [:]

    /// A pod in one of these phases has stopped for good and its address is
    /// free for another pod: counting it would let a stale identity win the
    /// address (the compiler gives a contested address to the smallest PodRef).
    static let finishedPhases: Set<String> = ["Succeeded", "Failed"]

    static func isFinished(pod: DocumentValue) -> Bool {
        pod["status"]?["phase"]?.string.map(finishedPhases.contains) ?? false
    }

    /// `objects` per resource, as the cache holds them. An object the decoder
    /// rejects keeps its version from `previous` (the snapshot in the kernel).
    mutating func build(_ objects: [KubeResource: [PodgateKube.ObjectKey: DocumentValue]],
                        previous: ClusterSnapshot) -> (snapshot: ClusterSnapshot, problems: [Diagnostic]) {
        var snapshot = ClusterSnapshot()
        var problems: [Diagnostic] = []
        var rejected: [PodgateManifests.ObjectKey] = []
        let decoder = ManifestDecoder(unknownFields: .ignore)   // the API server validated: see UnknownFields
        for resource in objects.keys.sorted(by: { $0.name < $1.name }) {
            let current = objects[resource] ?? [:]
            var kept: [PodgateKube.ObjectKey: (object: DocumentValue, decoded: [ManifestObject])] = [:]
            for key in current.keys.sorted() {
                let object = current[key]!
                if resource == .pods, Self.isFinished(pod: object) { continue }
                let results: [ManifestObject]
                if let memo = decoded[resource]?[key], memo.object == object {
                    results = memo.decoded
                } else {
                    results = decoder.decode(object)
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
}
