import PodgateModel

/// The change a reconcile pass applied, in words: what a `revoked` event
/// names as its cause ("policy demo/allow-web deleted"). Pure.
enum ChangeSummary {
    static let limit = 8

    static func describe(from old: ClusterSnapshot, to new: ClusterSnapshot) -> [String] {
        var lines: [String] = []
        for ref in Set(old.policies.keys).union(new.policies.keys).sorted() {
            switch (old.policies[ref], new.policies[ref]) {
            case (nil, _?): lines.append("policy \(ref) added")
            case (_?, nil): lines.append("policy \(ref) deleted")
            case let (a?, b?) where a != b: lines.append("policy \(ref) changed")
            default: break
            }
        }
        for name in Set(old.namespaces.keys).union(new.namespaces.keys).sorted() {
            let (a, b) = (old.namespaces[name], new.namespaces[name])
            if a == nil, b != nil { lines.append("namespace \(name) added") }
            else if a != nil, b == nil { lines.append("namespace \(name) deleted") }
            else if let a, let b, a.labels != b.labels || a.defaultInboundPolicy != b.defaultInboundPolicy {
                lines.append("namespace \(name) changed")
            }
        }
        // Pods: only what can change a decision (labels, identity, default
        // policy, addresses), not status churn.
        for ref in Set(old.pods.keys).union(new.pods.keys).sorted() {
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
