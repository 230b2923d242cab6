import PodgateModel

/// Gives a parsed document its Kubernetes meaning, by apiVersion and kind:
/// `v1` Namespace and Pod, `policy.linkerd.io/v1alpha1`
/// NetworkAuthenticationPolicy, and `List` (kubectl output) of those.
/// Other kinds are ignored; wrong types are errors. Unknown fields (and
/// misspelt kinds) are errors by default: a dropped `except` or `ports`
/// widens access (see FieldSchema for how deep each kind is checked). The
/// Kubernetes path passes `.ignore`: the API server has validated already,
/// and newer servers may add fields.
public struct ManifestDecoder: Sendable {
    public let unknownFields: UnknownFields

    public init(unknownFields: UnknownFields = .reject) { self.unknownFields = unknownFields }

    var strict: Bool { unknownFields == .reject }

    /// An object whose type is known from where it came: the items of a
    /// list or watch of one resource carry no `kind`/`apiVersion` (a real
    /// PodList's items have none: kubernetes/kubernetes#98925, API
    /// conventions "Lists and Simple kinds"). When present, they must match.
    public func decode(_ document: DocumentValue, as type: ObjectType) -> [ManifestObject] {
        let apiVersion = document["apiVersion"]?.string ?? ""
        let kind = document["kind"]?.string ?? ""
        let wrong: (field: String, value: String, expected: String)? =
            !kind.isEmpty && kind != type.kind ? ("kind", kind, type.kind)
            : !apiVersion.isEmpty && apiVersion != type.apiVersion ? ("apiVersion", apiVersion, type.apiVersion) : nil
        if let wrong {
            let metadata = document["metadata"]
            let name = metadata?["name"]?.string ?? ""
            let namespace = type.kind == "Namespace" ? "" : (metadata?["namespace"]?.string ?? "")
            let key = ManifestKey(kind: type.kind, namespace: namespace, name: name)
            let problem = Diagnostic(object: key.description, field: wrong.field,
                                     message: "\"\(wrong.value)\" is not \(wrong.expected), the type of the resource it came from")
            // Named: the caller keeps the object's last good version.
            return [name.isEmpty ? .malformed(kind: type.kind, [problem]) : .rejected(key, [problem])]
        }
        return decode(document, at: DocumentLocation(), apiVersion: type.apiVersion, kind: type.kind)
    }

    public func decode(_ document: DocumentValue, at location: DocumentLocation = DocumentLocation()) -> [ManifestObject] {
        decode(document, at: location, apiVersion: document["apiVersion"]?.string ?? "", kind: document["kind"]?.string ?? "")
    }

    private func decode(_ document: DocumentValue, at location: DocumentLocation, apiVersion: String, kind: String) -> [ManifestObject] {
        if document.isNull { return [] }
        guard document.mapEntries != nil else {
            return [.malformed(kind: "", [Diagnostic(object: location.description, field: "", message: "is not a map")])]
        }
        switch (apiVersion, kind) {
        case ("v1", "Namespace"):
            return [NamespaceDecoder(location: location, strict: strict).decode(document)]
        case ("v1", "Pod"):
            return [PodDecoder(location: location, strict: strict).decode(document)]
        case (ManifestKind.policyAPIVersion, ManifestKind.policy):
            return [decodePolicy(document, at: location)]
        case (_, ManifestKind.policy):
            let problem = Diagnostic(object: location.description, field: "apiVersion",
                                     message: "\"\(apiVersion)\" is not \(ManifestKind.policyAPIVersion)")
            return [.malformed(kind: kind, [problem])]
        case (_, "List"), (_, "PodList"), (_, "NamespaceList"):
            if strict {
                var reader = FieldReader(object: "\(location): \(kind)")
                FieldSchema.list.unknownFields(in: document, at: "", kind: kind, &reader)
                if !reader.problems.isEmpty { return [.malformed(kind: kind, reader.problems)] }
            }
            return decodeList(document, at: location)
        case ("", _), (_, ""):
            let problem = Diagnostic(object: location.description, field: apiVersion.isEmpty ? "apiVersion" : "kind",
                                     message: "is required")
            return [.malformed(kind: kind, [problem])]
        default:
            if strict, let problem = KnownKinds.misspelt(apiVersion: apiVersion, kind: kind, at: location) {
                return [.malformed(kind: kind, [problem])]
            }
            return [.ignored(apiVersion: apiVersion, kind: kind)]
        }
    }

    private func decodeList(_ document: DocumentValue, at location: DocumentLocation) -> [ManifestObject] {
        guard let items = document["items"]?.list else {
            if document["items"].map({ $0.isNull }) ?? true { return [] }
            return [.malformed(kind: "List", [Diagnostic(object: location.description, field: "items", message: "must be a list")])]
        }
        return items.flatMap { decode($0, at: location) }
    }

    private func decodePolicy(_ document: DocumentValue, at location: DocumentLocation) -> ManifestObject {
        var identity = ObjectIdentity(kind: ManifestKind.policy, location: location)
        guard let (namespace, name) = identity.read(document) else {
            return .malformed(kind: ManifestKind.policy, identity.reader.problems)
        }
        var decoder = PolicyDecoder(namespace: namespace, name: name, strict: strict)
        return decoder.decode(document)
    }
}

/// What to do with a field the schema does not have.
public enum UnknownFields: Sendable {
    /// An error: the object is invalid (a policy) or rejected (a Pod or Namespace keeps its last good version).
    case reject
    /// Skipped (Kubernetes mode: the API server validated the object).
    case ignore
}

/// The kinds podgate can tell are misspelt: every kind of core `v1`, and the
/// kinds of `policy.linkerd.io`. Other groups are not podgate's to judge.
enum KnownKinds {
    static let core: Set<String> = ["Binding", "ComponentStatus", "ConfigMap", "Endpoints", "Event", "LimitRange",
                                    "Namespace", "Node", "PersistentVolume", "PersistentVolumeClaim", "Pod",
                                    "PodTemplate", "ReplicationController", "ResourceQuota", "Secret", "Service",
                                    "ServiceAccount", "List", "Status", "DeleteOptions", "Eviction"]
    static let linkerd: Set<String> = [ManifestKind.policy, "Server", "ServerAuthorization", "AuthorizationPolicy",
                                       "MeshTLSAuthentication", "NetworkAuthentication", "HTTPRoute", "GRPCRoute",
                                       "EgressNetwork", "HTTPLocalRateLimitPolicy"]

    static func misspelt(apiVersion: String, kind: String, at location: DocumentLocation) -> Diagnostic? {
        var known: Set<String> = []
        if apiVersion == "v1" {
            known = core.union(core.map { "\($0)List" })
        } else if apiVersion.hasPrefix("policy.linkerd.io/") {
            known = linkerd.union(linkerd.map { "\($0)List" })
        } else if Spelling.distance(kind, ManifestKind.policy) <= 3 {
            known = [ManifestKind.policy]   // a near miss of podgate's kind, whatever the group
        } else {
            return nil
        }
        guard !known.contains(kind) else { return nil }
        let hint = Spelling.nearest(kind, among: known).map { " (did you mean \($0)?)" } ?? ""
        return Diagnostic(object: location.description, field: "kind",
                          message: "\"\(kind)\" is not a kind of \(apiVersion)\(hint); the document is ignored")
    }
}

/// The kind and apiVersion an object has by where it came from (a list or
/// watch of one resource).
public struct ObjectType: Hashable, Sendable {
    public var apiVersion: String
    public var kind: String
    public init(apiVersion: String, kind: String) { self.apiVersion = apiVersion; self.kind = kind }
}

/// Reads `metadata.name` and `metadata.namespace` (default "default"), the
/// minimum an object needs to be reported by name.
struct ObjectIdentity {
    let kind: String
    let location: DocumentLocation
    var reader: FieldReader

    init(kind: String, location: DocumentLocation) {
        self.kind = kind
        self.location = location
        self.reader = FieldReader(object: "\(location): \(kind)")
    }

    mutating func read(_ document: DocumentValue, namespaced: Bool = true) -> (namespace: String, name: String)? {
        let metadata = reader.map(document["metadata"], "metadata")
        let name = reader.requiredString(metadata?["name"], "metadata.name")
        let namespace = namespaced ? (reader.string(metadata?["namespace"], "metadata.namespace") ?? "default") : ""
        guard let name, reader.problems.isEmpty else { return nil }
        return (namespace.isEmpty ? "default" : namespace, name)
    }

    /// "pods.yaml: Pod demo/web": the object name for every later problem.
    func objectName(namespace: String, name: String) -> String {
        let file = location.file.map { "\($0): " } ?? ""
        return namespace.isEmpty ? "\(file)\(kind) \(name)" : "\(file)\(kind) \(namespace)/\(name)"
    }
}
