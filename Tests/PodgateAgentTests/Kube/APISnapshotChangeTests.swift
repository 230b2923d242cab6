import Testing
import PodgateCompiler
import PodgateKube
import PodgateKubeFixtures
import PodgateManifests
import PodgateModel
@testable import PodgateAgent

/// Kubernetes mode keeps the snapshot up to date change by change (issue
/// 15, item 3): after any sequence of watch changes it must equal the
/// snapshot built afresh from every object the server holds, and the
/// changes it hands the compile step must lead from one reading to the next.
@Suite struct APISnapshotChangeTests {
    typealias Objects = [KubeResource: [PodgateKube.ObjectKey: DocumentValue]]

    static let resources: [KubeResource] = [.namespaces, .pods, .networkAuthenticationPolicies]

    /// One random object of `resource` named `name`: labels, addresses, nodes
    /// and ports from small pools so that changes collide; some unreadable.
    static func object(_ resource: KubeResource, name: String, namespace: String, uid: String,
                       using random: inout SplitMix64) throws -> DocumentValue {
        let pick = { (count: UInt64, random: inout SplitMix64) in Int(random.next() % count) }
        let text: String
        switch resource {
        case .namespaces:
            text = Fixtures.namespaceJSON(name, uid: uid, resourceVersion: "1")
                .replacingOccurrences(of: "\"deny\"", with: ["\"deny\"", "\"all-unauthenticated\"", "\"not-a-policy\""][pick(3, &random)])
        case .pods:
            let ip = ["10.244.1.\(pick(6, &random))", "10.244.2.\(pick(6, &random))", "bad-address", nil][pick(4, &random)]
            text = Fixtures.podJSON(name, namespace: namespace, uid: uid, resourceVersion: "1", app: "app-\(pick(3, &random))",
                                    ip: ip, node: "worker-\(1 + pick(2, &random))",
                                    phase: ["Running", "Pending", "Succeeded"][pick(3, &random)])
        default:
            // Port 0 is invalid: a policy updated into it keeps its last valid version.
            text = Fixtures.policyJSON(name, namespace: namespace, uid: uid, resourceVersion: "1", target: "app-\(pick(3, &random))",
                                       port: [0, 8080, 8081][pick(3, &random)], source: "app-\(pick(3, &random))")
        }
        return try JSONDocument.parse(text)
    }

    static func apply(_ changes: [ClusterChange], to snapshot: inout ClusterSnapshot) {
        for change in changes {
            switch change {
            case let .namespace(name, value): snapshot.namespaces[name] = value
            case let .pod(ref, value): snapshot.pods[ref] = value
            case let .policy(ref, value): snapshot.policies[ref] = value
            case let .invalidPolicy(ref, value): snapshot.invalidPolicies[ref] = value
            case .localCgroup: break
            }
        }
    }

    @Test(arguments: [UInt64(15), 16, 17])
    func changeByChangeEqualsAFreshBuildAndTheHandedChangesLeadFromReadingToReading(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        var incremental = APISnapshot(node: "worker-1")
        var objects: Objects = [:]
        var serial = 0
        for resource in Self.resources {
            objects[resource] = [:]
            incremental.apply(APISnapshot.decoded(.synced([:]), as: resource), to: resource)
        }
        var previous = ClusterSnapshot()
        var last: (snapshot: ClusterSnapshot, local: Set<PodRef>, rejected: [ManifestKey])?
        for step in 0..<400 {
            let resource = Self.resources[Int(random.next() % 3)]
            let held = (objects[resource] ?? [:]).keys.sorted()
            let change: ResourceChange
            if step % 97 == 96 {
                // A relist: every object, some changed, some gone.
                var all: [PodgateKube.ObjectKey: DocumentValue] = [:]
                for key in held where random.next() % 4 != 0 {
                    all[key] = try Self.object(resource, name: key.name, namespace: key.namespace ?? "", uid: key.uid, using: &random)
                }
                change = .synced(all)
            } else if let key = held.randomElement(using: &random), random.next() % 3 == 0 {
                change = .delete(key)
            } else {
                // A name not held, or a held one updated (same uid, as the API).
                let name = "o-\(random.next() % 8)"
                let namespace = resource == .namespaces ? nil : "ns-\(random.next() % 2)"
                let existing = held.first { $0.name == name && $0.namespace == namespace }
                serial += 1
                let key = existing ?? PodgateKube.ObjectKey(namespace: namespace, name: name, uid: "u-\(serial)")
                change = .upsert(key, try Self.object(resource, name: name, namespace: namespace ?? "", uid: key.uid, using: &random))
            }
            var store = ObjectStore()
            store.apply(.synced(objects[resource] ?? [:]))
            store.apply(change)
            objects[resource] = store.objects
            incremental.apply(APISnapshot.decoded(change, as: resource), to: resource)

            let built = incremental.build(previous: previous)
            var fresh = APISnapshot()
            let expected = fresh.build(objects, previous: previous)
            #expect(built.snapshot == expected.snapshot, "step \(step): \(change)")
            #expect(built.problems == expected.problems, "step \(step)")

            // This node's pods are found from the index.
            let onNode = Set(built.snapshot.pods.values.filter { $0.nodeName == "worker-1" }.map(\.ref))
            let rejected = incremental.rejected
            let rejectedPods = Set(rejected.filter { $0.kind == "Pod" }.map { PodRef(namespace: $0.namespace, name: $0.name) })
            let local = incremental.podsOnNode.union(rejectedPods).filter { built.snapshot.pods[$0]?.nodeName == "worker-1" }
            #expect(local == onNode, "step \(step)")

            let changed = incremental.takeChanged()
            if let last {
                let slots = APISnapshot.slotsToCompare(changed: changed, local: local.union(last.local), rejected: rejected + last.rejected,
                                                       old: last.snapshot, new: built.snapshot)
                var replayed = last.snapshot
                Self.apply(APISnapshot.changes(from: last.snapshot, to: built.snapshot, at: slots), to: &replayed)
                #expect(replayed == built.snapshot, "step \(step): the handed changes miss an entry after \(change)")
            }
            last = (built.snapshot, local, rejected)
            previous = built.snapshot
        }
    }

    @Test func aPodRecreatedUnderItsNameKeepsItsEntryWhenTheOldOneIsDeletedAfter() throws {
        var snapshot = APISnapshot(node: "worker-1")
        let old = PodgateKube.ObjectKey(namespace: "ns-0", name: "web", uid: "u-old")
        let new = PodgateKube.ObjectKey(namespace: "ns-0", name: "web", uid: "u-new")
        let resource = KubeResource.pods
        let pod = { (uid: String) in try JSONDocument.parse(Fixtures.podJSON("web", namespace: "ns-0", uid: uid, resourceVersion: "1")) }
        snapshot.apply(APISnapshot.decoded(.synced([old: try pod("u-old")]), as: resource), to: resource)
        // The new pod's ADDED arrives before the old one's DELETED.
        snapshot.apply(APISnapshot.decoded(.upsert(new, try pod("u-new")), as: resource), to: resource)
        snapshot.apply(.delete(old), to: resource)
        let ref = PodRef(namespace: "ns-0", name: "web")
        #expect(snapshot.build(previous: ClusterSnapshot()).snapshot.pods[ref]?.uid == "u-new")
    }
}
