import PodgateModel

/// The result of one compile: what the maps should hold, the numbers handed
/// out (pass `allocation` to the next compile), what went wrong, and the
/// tables tools need to turn numbers back into names.
public struct Compilation: Hashable, Sendable {
    public var state: DesiredState
    public var allocation: Allocation
    /// Invalid policies, unknown annotation values, address conflicts. Sorted.
    public var diagnostics: [Diagnostic]

    public init(state: DesiredState, allocation: Allocation, diagnostics: [Diagnostic]) {
        self.state = state
        self.allocation = allocation
        self.diagnostics = diagnostics
    }

    public var identities: [IdentityID: IdentityKey] {
        Dictionary(uniqueKeysWithValues: allocation.identities.ids.map { (IdentityID($0.value), $0.key) })
    }
    public var targetClasses: [TargetClassID: TargetClassKey] {
        Dictionary(uniqueKeysWithValues: allocation.targetClasses.ids.map { (TargetClassID($0.value), $0.key) })
    }
    public var cidrClasses: [IdentityID: CIDR] {
        Dictionary(uniqueKeysWithValues: allocation.cidrClasses.ids.map { (IdentityID($0.value), $0.key) })
    }
    public var pods: [UInt32: PodRef] { allocation.pods.keysByID }
    public var policies: [UInt32: PolicyRef] { allocation.policies.keysByID }

    /// What a source number stands for, for `podgate maps dump` and events.
    public func describe(source: IdentityID) -> String {
        switch source {
        case .none: return "(covered)"
        case .host: return "host"
        case .world: return "world"
        case .remoteNode: return "remote-node"
        case .unknownPod: return "unknown-pod"
        default:
            if let identity = identities[source] { return identity.description }
            if let prefix = cidrClasses[source] { return "cidr \(prefix)" }
            return "identity \(source)"
        }
    }
}
