import PodgateCompiler
import PodgateModel

/// The change a reconcile pass applied, in words: what a `revoked` event
/// names as its cause ("policy demo/allow-web deleted"). Pure.
enum ChangeSummary {
    static let limit = 8

    /// Every object of both snapshots compared: the reference for the form below.
    static func describe(from old: ClusterSnapshot, to new: ClusterSnapshot) -> [String] {
        describe(from: old, to: new, policies: Set(old.policies.keys).union(new.policies.keys),
                 namespaces: Set(old.namespaces.keys).union(new.namespaces.keys), pods: Set(old.pods.keys).union(new.pods.keys))
    }

    /// Only the objects `changes` names (the changes that lead from `old` to
    /// `new`, as the compile step applied them): the same lines, at the cost
    /// of the change and not of the cluster (at 150k pods the comparison of
    /// everything took half of each pass).
    static func describe(_ changes: [ClusterChange], from old: ClusterSnapshot, to new: ClusterSnapshot) -> [String] {
        var policies = Set<PolicyRef>(), namespaces = Set<String>(), pods = Set<PodRef>()
        for change in changes {
            switch change {
            case .policy(let ref, _): policies.insert(ref)
            case .namespace(let name, _): namespaces.insert(name)
            case .pod(let ref, _): pods.insert(ref)
            case .invalidPolicy, .localCgroup: break
            }
        }
        return describe(from: old, to: new, policies: policies, namespaces: namespaces, pods: pods)
    }

    private static func describe(from old: ClusterSnapshot, to new: ClusterSnapshot,
                                 policies: Set<PolicyRef>, namespaces: Set<String>, pods: Set<PodRef>) -> [String] {
        var lines: [String] = []
        for ref in policies.sorted() {
            switch (old.policies[ref], new.policies[ref]) {
            case (nil, _?): lines.append("policy \(ref) added")
            case (_?, nil): lines.append("policy \(ref) deleted")
            case let (a?, b?) where a != b: lines.append("policy \(ref) changed")
            default: break
            }
        }
        for name in namespaces.sorted() {
            let (a, b) = (old.namespaces[name], new.namespaces[name])
            if a == nil, b != nil { lines.append("namespace \(name) added") }
            else if a != nil, b == nil { lines.append("namespace \(name) deleted") }
            else if let a, let b, a.labels != b.labels || a.defaultInboundPolicy != b.defaultInboundPolicy {
                lines.append("namespace \(name) changed")
            }
        }
        // Pods: only what can change a decision (labels, identity, default
        // policy, addresses), not status churn.
        for ref in pods.sorted() {
            let (a, b) = (old.pods[ref], new.pods[ref])
            if a == nil, b != nil { lines.append("pod \(ref) added") }
            else if a != nil, b == nil { lines.append("pod \(ref) deleted") }
            else if let a, let b, a.labels != b.labels || a.defaultInboundPolicy != b.defaultInboundPolicy
                        || a.serviceAccount != b.serviceAccount || a.addresses != b.addresses || a.ports != b.ports {
                lines.append("pod \(ref) changed")
            }
        }
        guard lines.count > limit else { return lines }
        return Array(lines.prefix(limit)) + ["and \(lines.count - limit) more"]
    }
}
