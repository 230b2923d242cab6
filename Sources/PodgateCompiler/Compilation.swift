import PodgateModel

/// The result of one compile: what the maps should hold, the numbers handed
/// out (pass `allocation` to the next compile), what went wrong, and the
/// tables tools need to turn numbers back into names.
public struct Compilation: Hashable, Sendable {
    public var state: DesiredState
    public var allocation: Allocation
    /// Invalid policies, unknown annotation values, address conflicts, in
    /// `canonicalOrder` (the full and the incremental compiler find them in
    /// different orders; both report them in this one).
    public var diagnostics: [Diagnostic]

    /// - Parameter diagnostics: in any order; kept in `canonicalOrder`.
    public init(state: DesiredState, allocation: Allocation, diagnostics: [Diagnostic]) {
        self.state = state
        self.allocation = allocation
        self.diagnostics = Self.canonicalOrder(diagnostics)
    }

    /// The one order of a compile's diagnostics: by text, then by field
    /// (two texts can only be equal when object and field split differently).
    public static func canonicalOrder(_ diagnostics: [Diagnostic]) -> [Diagnostic] {
        diagnostics.sorted { ($0.description, $0.object, $0.field) < ($1.description, $1.object, $1.field) }
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
        default:
            if let name = source.reservedName { return name }
            if let identity = identities[source] { return identity.description }
            if let prefix = cidrClasses[source] { return "cidr \(prefix)" }
            return "identity \(source)"
        }
    }
}
