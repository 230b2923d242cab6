import PodgateModel

/// Keeps of an API object only the fields the agent reads, before it is
/// cached: a real Pod is mostly fields podgate never looks at (managedFields,
/// volumes, container images, conditions), and the cache holds every pod of
/// the cluster. client-go's informers offer the same (a TransformFunc that
/// drops managedFields). What is dropped can neither matter to a decision
/// nor make an object unreadable: unknown fields from the API are ignored.
extension KubeResource {
    public func trimmed(_ object: DocumentValue) -> DocumentValue {
        guard case let .map(entries) = object else { return object }
        var kept: [(key: String, value: DocumentValue)] = []
        for entry in entries {
            switch entry.key {
            case "kind", "apiVersion": kept.append(entry)
            case "metadata": kept.append((entry.key, Self.keep(entry.value, Self.metadataFields) { key, value in
                key == "annotations" ? Self.withoutLastApplied(value) : value
            }))
            case "spec" where kind == "Pod": kept.append((entry.key, Self.keep(entry.value, Self.podSpecFields) { key, value in
                key == "containers" ? Self.containerPorts(value) : value
            }))
            case "status" where kind == "Pod": kept.append((entry.key, Self.keep(entry.value, Self.podStatusFields)))
            case "spec" where kind != "Namespace" && kind != "Pod": kept.append(entry)   // a policy: all of it
            default: break
            }
        }
        return .map(kept)
    }

    static let metadataFields: Set<String> = ["name", "namespace", "uid", "resourceVersion", "labels", "annotations",
                                              "creationTimestamp", "deletionTimestamp"]
    static let podSpecFields: Set<String> = ["containers", "hostNetwork", "nodeName", "serviceAccountName", "serviceAccount"]
    static let podStatusFields: Set<String> = ["phase", "podIP", "podIPs", "qosClass"]

    static func keep(_ value: DocumentValue, _ fields: Set<String>,
                     _ transform: (String, DocumentValue) -> DocumentValue = { $1 }) -> DocumentValue {
        guard case let .map(entries) = value else { return value }
        return .map(entries.filter { fields.contains($0.key) }.map { ($0.key, transform($0.key, $0.value)) })
    }

    /// kubectl's copy of the whole object: often the largest annotation.
    static func withoutLastApplied(_ value: DocumentValue) -> DocumentValue {
        guard case let .map(entries) = value else { return value }
        return .map(entries.filter { $0.key != "kubectl.kubernetes.io/last-applied-configuration" })
    }

    /// Each container reduced to its ports (the only part the decoder reads).
    static func containerPorts(_ value: DocumentValue) -> DocumentValue {
        guard case let .list(containers) = value else { return value }
        return .list(containers.map { keep($0, ["ports"]) })
    }
}
