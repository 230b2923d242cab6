extension IdentityID {
    /// The reserved identities (`enum podgate_identity` below the first pod)
    /// by the names maps dumps, explanations and events print; nil for
    /// `none`, pods and CIDR classes.
    public var reservedName: String? {
        switch self {
        case .host: "host"
        case .world: "world"
        case .remoteNode: "remote-node"
        case .unknownPod: "unknown-pod"
        default: nil
        }
    }

    public static let reserved: [IdentityID] = [.host, .world, .remoteNode, .unknownPod]
}

extension EventRecord.SourceKind {
    /// The kind of a source known only by its identity: a reserved one by
    /// its name, a pod identity as a pod, anything else as the world.
    public init(identity: IdentityID) {
        if identity.isPod { self = .pod; return }
        self = identity.reservedName.flatMap(Self.init(rawValue:)) ?? .world
    }
}
