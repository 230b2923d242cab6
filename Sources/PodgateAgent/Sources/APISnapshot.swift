import PodgateCompiler
import PodgateKube
import PodgateManifests
import PodgateModel

/// API objects -> the snapshot the compiler sees, with the same decoder as
/// the manifests (identity from what a pod cannot forge: namespace from
/// metadata, service account from the spec).
///
/// Each object is decoded once, when the watch delivers it, and only its
/// decoded form is kept (a Pod value, not the JSON tree: at 150k pods the
/// tree is most of the agent's memory). The snapshot of the accepted objects
/// is kept up to date change by change, so a pass costs what changed, not
/// the size of the cluster.
struct APISnapshot {
    /// An object of one resource.
    struct Source: Hashable, Comparable {
        var resource: String
        var key: PodgateKube.ObjectKey
        static func < (a: Self, b: Self) -> Bool { (a.resource, a.key) < (b.resource, b.key) }
    }

    /// Where a decoded result sits in the snapshot.
    enum Slot: Hashable {
        case namespace(String)
        case pod(PodRef)
        case policy(PolicyRef)
        case invalidPolicy(PolicyRef)
    }

    /// Where each object's results sit in `accepted`, per resource (the
    /// results themselves are there, not kept twice).
    private var decoded: [String: [PodgateKube.ObjectKey: [Slot]]] = [:]
    private var synced: Set<String> = []
    /// Every accepted result, without fallbacks to the kernel's snapshot.
    private var accepted = ClusterSnapshot()
    /// Which object put each entry of `accepted` there: an object deleted
    /// after its namesake (a pod recreated under the same name) was added
    /// must not take the newcomer's entry with it.
    private var origin: [Slot: Source] = [:]
    /// The (few) objects with problems, and those rejected.
    private var problemsBySource: [Source: [Diagnostic]] = [:]
    private var rejectedBySource: [Source: [ManifestKey]] = [:]
    /// The entries of `accepted` changed since the last `takeChanged`.
    private var changed: Set<Slot> = []
    /// The pods of `accepted` scheduled to `node`: this node's pods are
    /// found without walking the cluster.
    let node: String?
    private(set) var podsOnNode: Set<PodRef> = []

    init(node: String? = nil) { self.node = node }

    /// The entries changed since the last call (what a pass must look at).
    mutating func takeChanged() -> Set<Slot> {
        defer { changed = [] }
        return changed
    }

    /// True once every one of `resources` was listed completely: before
    /// that the agent must not enforce from a partial picture.
    func hasSynced(_ resources: [KubeResource]) -> Bool {
        resources.allSatisfy { synced.contains($0.name) }
    }

    /// Objects of `resource` held now.
    func count(of resource: KubeResource) -> Int { decoded[resource.name]?.count ?? 0 }

    /// Decodes `object` as `resource` says it is: what `apply` takes. Pure,
    /// so the watch threads decode outside any lock. The server validated
    /// every object against its schema, and may be newer than the agent: a
    /// field the agent does not know is not an error.
    static func decode(_ object: DocumentValue, as resource: KubeResource) -> [ManifestObject] {
        ManifestDecoder(unknownFields: .ignore).decode(object, as: ObjectType(apiVersion: resource.apiVersion, kind: resource.kind))
    }

    /// One change of a resource, its objects already decoded.
    typealias Change = DecodedChange<[ManifestObject]>

    /// A change as the list/watch delivers it, decoded.
    static func decoded(_ change: ResourceChange, as resource: KubeResource) -> Change {
        switch change {
        case let .synced(objects): .synced(objects.mapValues { decode($0, as: resource) })
        case let .upsert(key, object): .upsert(key, decode(object, as: resource))
        case let .delete(key): .delete(key)
        }
    }

    mutating func apply(_ change: Change, to resource: KubeResource) {
        switch change {
        case let .synced(objects):
            for key in (decoded[resource.name] ?? [:]).keys where objects[key] == nil { remove(Source(resource: resource.name, key: key)) }
            // Sorted, so that two objects of one name (a stale one the list
            // still shows) resolve the same way every time.
            for key in objects.keys.sorted() { put(Source(resource: resource.name, key: key), objects[key]!) }
            synced.insert(resource.name)
        case let .upsert(key, results):
            put(Source(resource: resource.name, key: key), results)
        case let .delete(key):
            remove(Source(resource: resource.name, key: key))
        }
    }

    private mutating func put(_ source: Source, _ results: [ManifestObject]) {
        remove(source)
        var problems: [Diagnostic] = []
        var rejected: [ManifestKey] = []
        var slots: [Slot] = []
        for result in results {
            problems += result.diagnostics
            if case let .rejected(key, _) = result { rejected.append(key) }
            accepted.add(result)
            if let slot = Self.slot(of: result) {
                origin[slot] = source
                changed.insert(slot)
                slots.append(slot)
            }
            if case let .pod(pod) = result, let node, pod.nodeName == node { podsOnNode.insert(pod.ref) }
        }
        decoded[source.resource, default: [:]][source.key] = slots
        if !problems.isEmpty { problemsBySource[source] = problems }
        if !rejected.isEmpty { rejectedBySource[source] = rejected }
    }

    private mutating func remove(_ source: Source) {
        guard let old = decoded[source.resource]?.removeValue(forKey: source.key) else { return }
        problemsBySource[source] = nil
        rejectedBySource[source] = nil
        for slot in old {
            guard origin[slot] == source else { continue }
            origin[slot] = nil
            changed.insert(slot)
            switch slot {
            case let .namespace(name): accepted.namespaces[name] = nil
            case let .pod(ref):
                accepted.pods[ref] = nil
                podsOnNode.remove(ref)
            case let .policy(ref): accepted.policies[ref] = nil
            case let .invalidPolicy(ref): accepted.invalidPolicies[ref] = nil
            }
        }
    }

    private static func slot(of result: ManifestObject) -> Slot? {
        switch result {
        case let .namespace(namespace): .namespace(namespace.name)
        case let .pod(pod): .pod(pod.ref)
        case let .policy(policy): .policy(policy.ref)
        case let .invalidPolicy(ref, problems): problems.isEmpty ? nil : .invalidPolicy(ref)
        case .malformed, .rejected, .ignored: nil
        }
    }

    /// The snapshot to compile. An object the decoder rejects keeps its
    /// version from `previous` (the snapshot in the kernel). Pods in every
    /// phase are kept: the compiler decides who owns a contested address.
    func build(previous: ClusterSnapshot) -> (snapshot: ClusterSnapshot, problems: [Diagnostic]) {
        var snapshot = accepted
        let problems = problemsBySource.keys.sorted().flatMap { problemsBySource[$0]! }
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
        // A policy updated into an invalid one stays enforced in its last
        // valid version (policy-semantics.md, "An error never widens access");
        // a new invalid one was never enforced and is not now.
        snapshot = snapshot.keepingLastValidPolicies(from: previous)
        for key in rejected where key.kind == "NetworkAuthenticationPolicy" {
            let ref = PolicyRef(namespace: key.namespace, name: key.name)
            if snapshot.policies[ref] == nil { snapshot.policies[ref] = previous.policies[ref] }
        }
        return (snapshot, problems)
    }

    /// The objects the decoder rejected (they keep their version from the kernel's snapshot).
    var rejected: [ManifestKey] { rejectedBySource.keys.sorted().flatMap { rejectedBySource[$0]! } }

    /// Every object of every resource as given, replacing what was known (tests).
    mutating func build(_ objects: [KubeResource: [PodgateKube.ObjectKey: DocumentValue]],
                        previous: ClusterSnapshot) -> (snapshot: ClusterSnapshot, problems: [Diagnostic]) {
        for (resource, current) in objects { apply(Self.decoded(.synced(current), as: resource), to: resource) }
        return build(previous: previous)
    }

    /// A local pod's addresses as its network namespace holds them are its
    /// addresses at once, while the kubelet has not reported `status.podIPs`
    /// (the first packets, init containers). They are checked first: an
    /// address outside `clusterNetworks` (when set), or one the API reports
    /// for another live pod, is reported and not used (a pod allowed to add
    /// addresses to its own interface must not take a neighbour's). Once the
    /// API reports addresses they are the pod's; a difference is reported.
    /// Matched by UID, so a pod recreated under the same name never inherits
    /// the old one's namespace.
    /// `local`: this node's pods when the caller knows them (else every pod is looked at).
    static func addNetnsAddresses(_ found: [String: [IPAddress]], nodeName: String, clusterNetworks: [CIDR] = [],
                                  local: Set<PodRef>? = nil, to snapshot: inout ClusterSnapshot) -> [Diagnostic] {
        var problems: [Diagnostic] = []
        // Who reports each address, built only when a pod without reported
        // addresses needs it (walking every pod of the cluster is not free).
        var reportedBy: [IPAddress: PodRef]?
        let pods = snapshot.pods
        let candidates: [(key: PodRef, value: Pod)] = local.map {
            // Sorted: the problems come out in the same order at every pass.
            $0.sorted().compactMap { ref in pods[ref].map { (ref, $0) } }
        } ?? Array(pods)
        for (ref, pod) in candidates where pod.nodeName == nodeName && !pod.hostNetwork {
            guard let held = found[pod.uid.lowercased()], !held.isEmpty else { continue }
            var updated = pod
            updated.netnsAddresses = held
            let list = { (addresses: [IPAddress]) in addresses.map(\.description).joined(separator: ", ") }
            if pod.addresses.isEmpty {
                var usable: [IPAddress] = []
                for address in held {
                    if !clusterNetworks.isEmpty, !clusterNetworks.contains(where: { $0.contains(address) }) {
                        problems.append(Diagnostic(object: "Pod \(ref)", field: "status.podIPs",
                                                   message: "its network namespace holds \(address), outside --cluster-networks; not used"))
                    } else if let other = Self.reporter(of: address, in: pods, memo: &reportedBy), other != ref {
                        problems.append(Diagnostic(object: "Pod \(ref)", field: "status.podIPs",
                                                   message: "its network namespace holds \(address), which the API reports for pod \(other); not used"))
                    } else {
                        usable.append(address)
                    }
                }
                updated.addresses = usable
                updated.addressesReported = false
            } else if Set(pod.addresses) != Set(held) {
                problems.append(Diagnostic(
                    object: "Pod \(ref)", field: "status.podIPs",
                    message: "\(list(pod.addresses)) differs from the addresses in its network namespace on this node (\(list(held))); the API's are used"))
            }
            snapshot.pods[ref] = updated
        }
        return problems
    }

    private static func reporter(of address: IPAddress, in pods: [PodRef: Pod], memo: inout [IPAddress: PodRef]?) -> PodRef? {
        if memo == nil {
            var reportedBy: [IPAddress: PodRef] = [:]
            for pod in pods.values where pod.isLive { for address in pod.addresses { reportedBy[address] = pod.ref } }
            memo = reportedBy
        }
        return memo?[address]
    }

    /// Where two consecutive readings can differ: the entries the watch
    /// changed (`changed`), and where a reading adds to them, which may move
    /// without an API change: fallbacks to the kernel's versions for
    /// `rejected` objects, last valid policies, this node's pods (`local`,
    /// of both readings: addresses from their network namespaces).
    static func slotsToCompare(changed: Set<Slot>, local: Set<PodRef>, rejected: [ManifestKey],
                               old: ClusterSnapshot, new: ClusterSnapshot) -> Set<Slot> {
        var slots = changed
        for ref in local { slots.insert(.pod(ref)) }
        for ref in Set(old.invalidPolicies.keys).union(new.invalidPolicies.keys) {
            slots.insert(.policy(ref))
            slots.insert(.invalidPolicy(ref))
        }
        for key in rejected {
            switch key.kind {
            case "Pod": slots.insert(.pod(PodRef(namespace: key.namespace, name: key.name)))
            case "Namespace": slots.insert(.namespace(key.name))
            default: slots.insert(.policy(PolicyRef(namespace: key.namespace, name: key.name)))
            }
        }
        return slots
    }

    /// The changes from `old` to `new` at `slots` (elsewhere they are equal).
    static func changes(from old: ClusterSnapshot, to new: ClusterSnapshot, at slots: Set<Slot>) -> [ClusterChange] {
        slots.compactMap { slot in
            switch slot {
            case let .namespace(name):
                old.namespaces[name] == new.namespaces[name] ? nil : .namespace(name, new.namespaces[name])
            case let .pod(ref):
                old.pods[ref] == new.pods[ref] ? nil : .pod(ref, new.pods[ref])
            case let .policy(ref):
                old.policies[ref] == new.policies[ref] ? nil : .policy(ref, new.policies[ref])
            case let .invalidPolicy(ref):
                old.invalidPolicies[ref] == new.invalidPolicies[ref] ? nil : .invalidPolicy(ref, new.invalidPolicies[ref])
            }
        }
    }
}
