import PodgateModel

/// Where a document came from, for diagnostics: `pods.yaml (document 3)`.
public struct DocumentLocation: Hashable, Sendable, CustomStringConvertible {
    public var file: String?
    public var index: Int   // 1-based position in its stream

    public init(file: String? = nil, index: Int = 1) {
        self.file = file
        self.index = index
    }

    public var description: String { "\(file ?? "<input>") (document \(index))" }
}

/// One decoded Kubernetes object.
public enum ManifestObject: Hashable, Sendable {
    case namespace(Namespace)
    case pod(Pod)
    case policy(Policy)
    /// A NetworkAuthenticationPolicy that failed validation: reported, never enforced.
    case invalidPolicy(PolicyRef, [Diagnostic])
    /// A Namespace or Pod (or a document without kind) that could not be read: reported and dropped.
    case malformed(kind: String, [Diagnostic])
    /// A Namespace or Pod whose name is known but whose content is not
    /// readable: reported; the caller may keep its last good version.
    case rejected(ManifestKey, [Diagnostic])
    /// A kind the agent does not read (Deployment, Service...).
    case ignored(apiVersion: String, kind: String)

    /// Same kind, namespace and name: the same object (for duplicate detection).
    public var key: ManifestKey? {
        switch self {
        case let .namespace(namespace): ManifestKey(kind: "Namespace", namespace: "", name: namespace.name)
        case let .pod(pod): ManifestKey(kind: "Pod", namespace: pod.namespace, name: pod.name)
        case let .policy(policy): ManifestKey(kind: ManifestKind.policy, namespace: policy.namespace, name: policy.name)
        case let .invalidPolicy(ref, _): ManifestKey(kind: ManifestKind.policy, namespace: ref.namespace, name: ref.name)
        case let .rejected(key, _): key
        case .malformed, .ignored: nil
        }
    }

    public var diagnostics: [Diagnostic] {
        switch self {
        case let .invalidPolicy(_, problems), let .malformed(_, problems), let .rejected(_, problems): problems
        default: []
        }
    }
}

public struct ManifestKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var kind: String
    public var namespace: String
    public var name: String

    public init(kind: String, namespace: String, name: String) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }

    public var description: String { namespace.isEmpty ? "\(kind) \(name)" : "\(kind) \(namespace)/\(name)" }

    public static func < (a: Self, b: Self) -> Bool { (a.kind, a.namespace, a.name) < (b.kind, b.namespace, b.name) }
}

enum ManifestKind {
    static let policy = "NetworkAuthenticationPolicy"
    static let policyAPIVersion = "policy.linkerd.io/v1alpha1"
}
