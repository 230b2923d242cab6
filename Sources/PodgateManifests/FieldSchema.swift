import PodgateModel

/// The fields each decoded kind has, so a misspelt one (`exept`, `prots`) is
/// an error instead of being silently dropped (a dropped `except` or `ports`
/// widens access). Where podgate checks:
/// - NetworkAuthenticationPolicy: every field, from daemonset/crd.yaml (the
///   CRD has no `status`).
/// - Pod and Namespace: the top-level keys, `metadata`, and the keys of
///   `spec`, `status`, containers and their ports, from the Kubernetes API
///   reference (core/v1 PodSpec, Container, ContainerPort, PodStatus,
///   NamespaceSpec, NamespaceStatus, ObjectMeta). Below that (probes, volumes,
///   affinity...) podgate reads nothing, so nothing is checked: a Pod with
///   `spec.restartPolicy` or `status.conditions` is fine.
indirect enum FieldSchema: Sendable {
    /// Not checked below this point.
    case any
    case map([String: FieldSchema])
    case list(FieldSchema)

    static func keys(_ names: [String], _ nested: [String: FieldSchema] = [:]) -> FieldSchema {
        var fields: [String: FieldSchema] = [:]
        for name in names { fields[name] = .any }
        fields.merge(nested) { _, new in new }
        return .map(fields)
    }

    static let objectMeta = keys(["name", "generateName", "namespace", "selfLink", "uid", "resourceVersion",
                                  "generation", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                                  "labels", "annotations", "ownerReferences", "finalizers", "managedFields"])

    static let selector = keys(["matchLabels"], ["matchExpressions": .list(keys(["key", "operator", "values"]))])

    static let policy = keys(["apiVersion", "kind"], [
        "metadata": objectMeta,
        "spec": keys([], [
            "target": keys([], ["selector": selector]),
            "ports": .list(keys(["port", "endPort", "protocol"])),
            "sources": .list(keys([], [
                "podSelector": selector,
                "namespaceSelector": selector,
                "serviceAccounts": .list(keys(["name", "namespace"])),
                "networks": .list(keys(["cidr", "except"])),
            ])),
        ]),
    ])

    static let container = keys(["args", "command", "env", "envFrom", "image", "imagePullPolicy", "lifecycle",
                                 "livenessProbe", "name", "readinessProbe", "resizePolicy", "resources",
                                 "restartPolicy", "securityContext", "startupProbe", "stdin", "stdinOnce",
                                 "terminationMessagePath", "terminationMessagePolicy", "tty", "volumeDevices",
                                 "volumeMounts", "workingDir"],
                                ["ports": .list(keys(["containerPort", "hostIP", "hostPort", "name", "protocol"]))])

    static let pod = keys(["apiVersion", "kind"], [
        "metadata": objectMeta,
        "spec": keys(["activeDeadlineSeconds", "affinity", "automountServiceAccountToken", "dnsConfig", "dnsPolicy",
                      "enableServiceLinks", "ephemeralContainers", "hostAliases", "hostIPC", "hostNetwork", "hostPID",
                      "hostUsers", "hostname", "imagePullSecrets", "initContainers", "nodeName", "nodeSelector", "os",
                      "overhead", "preemptionPolicy", "priority", "priorityClassName", "readinessGates",
                      "resourceClaims", "resources", "restartPolicy", "runtimeClassName", "schedulerName",
                      "schedulingGates", "securityContext", "serviceAccount", "serviceAccountName",
                      "setHostnameAsFQDN", "shareProcessNamespace", "subdomain", "terminationGracePeriodSeconds",
                      "tolerations", "topologySpreadConstraints", "volumes"],
                     ["containers": .list(container)]),
        "status": keys(["conditions", "containerStatuses", "ephemeralContainerStatuses", "hostIP", "hostIPs",
                        "initContainerStatuses", "message", "nominatedNodeName", "phase", "podIP", "qosClass",
                        "reason", "resize", "resourceClaimStatuses", "startTime"],
                       ["podIPs": .list(keys(["ip"]))]),
    ])

    static let namespace = keys(["apiVersion", "kind"], [
        "metadata": objectMeta,
        "spec": keys(["finalizers"]),
        "status": keys(["phase", "conditions"]),
    ])

    static let list = keys(["apiVersion", "kind", "metadata", "items"])

    /// Every field of `value` that `self` does not have, as "path: message" problems.
    func unknownFields(in value: DocumentValue?, at path: String, kind: String, _ reader: inout FieldReader) {
        guard let value else { return }
        switch self {
        case .any: return
        case let .list(item):
            for (index, element) in (value.list ?? []).enumerated() {
                item.unknownFields(in: element, at: "\(path)[\(index)]", kind: kind, &reader)
            }
        case let .map(fields):
            for entry in value.mapEntries ?? [] {
                let field = path.isEmpty ? entry.key : "\(path).\(entry.key)"
                guard let schema = fields[entry.key] else {
                    let hint = Spelling.nearest(entry.key, among: fields.keys).map { " (did you mean \($0)?)" } ?? ""
                    reader.fail(field, "is not a field of \(kind)\(hint)")
                    continue
                }
                schema.unknownFields(in: entry.value, at: field, kind: kind, &reader)
            }
        }
    }
}

/// Close spellings, for typo hints and misspelt kinds.
enum Spelling {
    static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a.lowercased().utf8), y = Array(b.lowercased().utf8)
        if x.isEmpty || y.isEmpty { return max(x.count, y.count) }
        var row = Array(0...y.count)
        for i in 1...x.count {
            var previous = row[0]
            row[0] = i
            for j in 1...y.count {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (x[i - 1] == y[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return row[y.count]
    }

    /// The closest candidate within a third of the word's length (at least 2, at most 3).
    static func nearest<S: Sequence<String>>(_ word: String, among candidates: S) -> String? {
        let limit = min(3, max(2, word.count / 3))
        return candidates.map { ($0, distance(word, $0)) }.filter { $0.1 <= limit }
            .min { ($0.1, $0.0) < ($1.1, $1.0) }?.0
    }
}
