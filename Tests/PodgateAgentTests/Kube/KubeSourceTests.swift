import Foundation
import Synchronization
import Testing
import PodgateCompiler
import PodgateKube
import PodgateKubeFixtures
import PodgateModel
@testable import PodgateAgent

/// A UUID as the API server hands them out, distinct per `n`.
func uid(_ n: Int) -> String { String(format: "%08x-1111-4222-8333-%012x", n, n) }

/// KubeSource against the stateful fixture API server: what the agent
/// would reconcile after list, watch updates, 410 relists, and before sync.
@Suite(.serialized) struct KubeSourceTests {
    static func pod(_ name: String, _ n: Int, app: String = "backend", ip: String, node: String = "worker-1",
                    phase: String = "Running") -> String {
        Fixtures.podJSON(name, uid: uid(n), resourceVersion: FixtureCluster.rvPlaceholder, app: app, ip: ip, node: node, phase: phase)
    }

    static func seedCluster() throws -> FixtureCluster {
        try FixtureCluster(objects: [
            APIPath.namespaces: [Fixtures.namespaceJSON("demo", uid: uid(900), resourceVersion: FixtureCluster.rvPlaceholder)],
            APIPath.pods: [pod("frontend", 1, app: "frontend", ip: "10.244.1.10"), pod("backend", 2, ip: "10.244.1.11"),
                           pod("elsewhere", 3, ip: "10.244.2.12", node: "worker-2")],
            APIPath.policies: [Fixtures.policyJSON(uid: uid(901), resourceVersion: FixtureCluster.rvPlaceholder)],
        ])
    }

    @Test func snapshotAfterListWithThisNodesPodCgroupsForBothDrivers() async throws {
        let cluster = try Self.seedCluster()
        defer { cluster.stop() }
        let harness = try KubeSourceHarness(server: cluster.url)
        // The kubelet made the frontend's cgroup (systemd, burstable) and the
        // backend's (cgroupfs, guaranteed); the other node's pod has none here.
        let frontendID = try harness.makePodDirectory("kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod\(uid(1).replacingOccurrences(of: "-", with: "_")).slice")
        let backendID = try harness.makePodDirectory("kubepods/pod\(uid(2))")
        try harness.makePodDirectory("kubepods/pod\(uid(2))/0123456789abcdef")   // a container: no entry of its own
        let reading = try await harness.read { $0.isReady }
        await harness.close()

        #expect(reading.isReady)
        #expect(Set(reading.snapshot.pods.keys.map(\.name)) == ["frontend", "backend", "elsewhere"])
        #expect(reading.snapshot.namespaces["demo"]?.defaultInboundPolicy == "deny")
        #expect(reading.snapshot.policies.keys.map(\.name) == ["frontend-can-talk-to-backend"])
        #expect(reading.localCgroups == [PodRef(namespace: "demo", name: "frontend"): frontendID,
                                         PodRef(namespace: "demo", name: "backend"): backendID])
        #expect(reading.problems.isEmpty, "\(reading.problems)")
        #expect(reading.generation == nil)
    }

    @Test func watchUpdatesAddModifyAndDelete() async throws {
        let cluster = try Self.seedCluster()
        defer { cluster.stop() }
        let harness = try KubeSourceHarness(server: cluster.url)
        _ = try await harness.read { $0.isReady }
        cluster.put(APIPath.pods, Self.pod("late", 4, ip: "10.244.1.13"))
        cluster.put(APIPath.pods, Self.pod("backend", 2, app: "backend-v2", ip: "10.244.1.11"))
        cluster.delete(APIPath.pods, name: "elsewhere")
        let reading = try await harness.read {
            $0.snapshot.pods.count == 3 && $0.snapshot.pods[PodRef(namespace: "demo", name: "backend")]?.labels["app"] == "backend-v2"
        }
        await harness.close()
        #expect(Set(reading.snapshot.pods.keys.map(\.name)) == ["frontend", "backend", "late"])
        #expect(reading.snapshot.pods[PodRef(namespace: "demo", name: "backend")]?.labels["app"] == "backend-v2")
        #expect(cluster.listCount(APIPath.pods) == 1, "updates came by watch, without a relist")
    }

    @Test func goneRelistsAndKeepsServing() async throws {
        let cluster = try Self.seedCluster()
        defer { cluster.stop() }
        let harness = try KubeSourceHarness(server: cluster.url)
        _ = try await harness.read { $0.isReady }
        // Compaction while watching: the open streams get an ERROR 410 event.
        cluster.compact()
        cluster.put(APIPath.pods, Self.pod("after-compaction", 5, ip: "10.244.1.14"))
        let reading = try await harness.read { $0.snapshot.pods[PodRef(namespace: "demo", name: "after-compaction")] != nil }
        let relisted = cluster.listCount(APIPath.pods)
        await harness.close()
        #expect(reading.snapshot.pods.count == 4)
        #expect(relisted == 2, "one list at start, one after 410 Gone")
        #expect(reading.isReady, "a relist never makes the source unready")
    }

    @Test func notReadyUntilEveryResourceIsListed() async throws {
        // Pods and namespaces answer; the policies list never does.
        let cluster = try Self.seedCluster()
        defer { cluster.stop() }
        let policiesHang = try FakeAPIServer { request, _ in
            if request.path == APIPath.policies { return .hang }
            return .json(status: 200, body: Fixtures.listJSON(kind: "List", items: [], resourceVersion: "5"))
        }
        defer { policiesHang.stop() }
        let harness = try KubeSourceHarness(server: policiesHang.url)
        // Every list asked for first (a loaded machine starts them late), then a second of waiting.
        let deadline = ContinuousClock.now + .seconds(30)
        while !Set(policiesHang.received.map(\.path)).isSuperset(of: [APIPath.pods, APIPath.namespaces, APIPath.policies]),
              ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let reading = try await harness.read(within: 1) { _ in false }
        let listed = Set(policiesHang.received.map(\.path))
        await harness.close()
        #expect(listed.isSuperset(of: [APIPath.pods, APIPath.namespaces, APIPath.policies]))
        #expect(!reading.isReady, "one resource not listed yet: nothing may be reconciled")
        #expect(reading.localCgroups.isEmpty && reading.syncedSources.isEmpty)
    }

    @Test func finishedPodsOwnNoAddressSoItGoesToTheLivePod() async throws {
        // "a-finished" would win the contested address by PodRef order if it counted.
        let cluster = try FixtureCluster(objects: [
            APIPath.namespaces: [Fixtures.namespaceJSON("demo", uid: uid(900), resourceVersion: FixtureCluster.rvPlaceholder)],
            APIPath.pods: [Self.pod("a-finished", 10, ip: "10.244.1.50", phase: "Succeeded"),
                           Self.pod("a-failed", 11, ip: "10.244.1.51", phase: "Failed"),
                           Self.pod("b-new", 12, app: "new", ip: "10.244.1.50"),
                           Self.pod("c-pending", 13, ip: "10.244.1.52", phase: "Pending")],
            APIPath.policies: [],
        ])
        defer { cluster.stop() }
        let harness = try KubeSourceHarness(server: cluster.url)
        let reading = try await harness.read { $0.isReady }
        await harness.close()
        #expect(reading.snapshot.pods[PodRef(namespace: "demo", name: "a-finished")]?.isFinished == true)
        let compilation = PolicyCompiler.compile(reading.snapshot, settings: AgentSettings(nodeName: "worker-1"))
        #expect(owner(of: "10.244.1.50", in: compilation) == PodRef(namespace: "demo", name: "b-new"))
        #expect(owner(of: "10.244.1.51", in: compilation) == nil, "a failed pod's address is free")
        #expect(owner(of: "10.244.1.52", in: compilation) == PodRef(namespace: "demo", name: "c-pending"))
        #expect(compilation.diagnostics.isEmpty, "a finished pod's address is no conflict: \(compilation.diagnostics)")
    }

    @Test func addressReusedByANewPodEndsWithTheNewIdentity() async throws {
        let cluster = try Self.seedCluster()
        defer { cluster.stop() }
        let harness = try KubeSourceHarness(server: cluster.url)
        var reading = try await harness.read { $0.isReady }
        var allocation = Allocation()
        var compilation = PolicyCompiler.compile(reading.snapshot, settings: AgentSettings(nodeName: "worker-1"), previous: allocation)
        allocation = compilation.allocation
        #expect(owner(of: "10.244.1.11", in: compilation) == PodRef(namespace: "demo", name: "backend"))

        // The backend finishes (it keeps its address), then is deleted; a pod
        // of another workload and service account gets the same address.
        cluster.put(APIPath.pods, Self.pod("backend", 2, ip: "10.244.1.11", phase: "Succeeded"))
        reading = try await harness.read { $0.snapshot.pods[PodRef(namespace: "demo", name: "backend")] == nil }
        compilation = PolicyCompiler.compile(reading.snapshot, settings: AgentSettings(nodeName: "worker-1"), previous: allocation)
        allocation = compilation.allocation
        #expect(owner(of: "10.244.1.11", in: compilation) == nil)

        cluster.delete(APIPath.pods, name: "backend")
        cluster.put(APIPath.pods, Fixtures.podJSON("aaa-newcomer", namespace: "demo", uid: uid(20), resourceVersion: FixtureCluster.rvPlaceholder,
                                                   app: "newcomer", ip: "10.244.1.11", serviceAccount: "newcomer"))
        reading = try await harness.read { $0.snapshot.pods[PodRef(namespace: "demo", name: "aaa-newcomer")] != nil }
        await harness.close()
        compilation = PolicyCompiler.compile(reading.snapshot, settings: AgentSettings(nodeName: "worker-1"), previous: allocation)
        #expect(owner(of: "10.244.1.11", in: compilation) == PodRef(namespace: "demo", name: "aaa-newcomer"))
        let identity = compilation.state.addresses[IPAddress("10.244.1.11")!].flatMap { compilation.identities[$0.identity] }
        #expect(identity?.description.contains("newcomer") == true, "identity: \(String(describing: identity))")
    }

    @Test func aTerminatingPodAndANewPodOnOneAddress() async throws {
        let cluster = try Self.seedCluster()
        defer { cluster.stop() }
        let harness = try KubeSourceHarness(server: cluster.url)
        _ = try await harness.read { $0.isReady }
        // The backend is being deleted (a finalizer holds it); its address is
        // handed to a new pod whose name sorts first and that was created earlier
        // in the fixture's clock than nothing: only the lifecycle decides.
        cluster.beginDeletion(APIPath.pods, namespace: "demo", name: "backend")
        cluster.put(APIPath.pods, Fixtures.podJSON("aaa-new", uid: uid(30), resourceVersion: FixtureCluster.rvPlaceholder, app: "new",
                                                   ip: "10.244.1.11", created: "2024-05-02T09:00:00Z"))
        let reading = try await harness.read {
            $0.snapshot.pods[PodRef(namespace: "demo", name: "backend")]?.isTerminating == true
                && $0.snapshot.pods[PodRef(namespace: "demo", name: "aaa-new")] != nil
        }
        await harness.close()
        let compilation = PolicyCompiler.compile(reading.snapshot, settings: AgentSettings(nodeName: "worker-1"))
        #expect(owner(of: "10.244.1.11", in: compilation) == PodRef(namespace: "demo", name: "aaa-new"))
        #expect(compilation.diagnostics.map(\.description).contains(
            "Pod demo/backend: status.podIPs address 10.244.1.11 is already held by pod demo/aaa-new; ignored for this pod"),
            "the loser is reported: \(compilation.diagnostics)")
    }

    @Test func aPodOfAnotherNodeIsASourceButNotALocalEndpoint() async throws {
        let cluster = try Self.seedCluster()
        defer { cluster.stop() }
        let harness = try KubeSourceHarness(server: cluster.url)
        // Even a cgroup with its UID here does not make it local.
        try harness.makePodDirectory("kubepods/pod\(uid(3))")
        let reading = try await harness.read { $0.isReady }
        await harness.close()
        let elsewhere = PodRef(namespace: "demo", name: "elsewhere")
        #expect(reading.localCgroups[elsewhere] == nil)
        let compilation = PolicyCompiler.compile(reading.snapshot, settings: AgentSettings(nodeName: "worker-1"),
                                                 localCgroups: reading.localCgroups)
        #expect(owner(of: "10.244.2.12", in: compilation) == elsewhere, "known as a source by its address")
        let podID = compilation.allocation.pods[elsewhere]
        #expect(!compilation.state.endpoints.values.contains { $0.podID == podID }, "not an endpoint on this node")
    }

    @Test func aRejectedObjectKeepsItsLastGoodVersion() async throws {
        let cluster = try Self.seedCluster()
        defer { cluster.stop() }
        let harness = try KubeSourceHarness(server: cluster.url)
        let before = try await harness.read { $0.isReady }
        let good = before.snapshot.pods[PodRef(namespace: "demo", name: "backend")]
        // An edit the decoder refuses (a port out of range).
        cluster.put(APIPath.pods, Self.pod("backend", 2, app: "broken", ip: "10.244.1.11")
            .replacingOccurrences(of: #""containerPort":8080"#, with: #""containerPort":70000"#))
        let after = try await harness.read { !$0.problems.isEmpty }
        await harness.close()
        #expect(after.problems.contains { $0.object.contains("Pod demo/backend") && $0.field.contains("containerPort") }, "\(after.problems)")
        #expect(after.snapshot.pods[PodRef(namespace: "demo", name: "backend")] == good)
    }

    @Test func aPolicyUpdatedIntoAnInvalidOneStaysEnforcedInItsLastValidVersion() async throws {
        let cluster = try Self.seedCluster()
        defer { cluster.stop() }
        let harness = try KubeSourceHarness(server: cluster.url)
        let before = try await harness.read { $0.isReady }
        let ref = PolicyRef(namespace: "demo", name: "frontend-can-talk-to-backend")
        let good = try #require(before.snapshot.policies[ref])
        // endPort below port: invalid (the CRD's CEL rule would refuse it; an older CRD may not).
        cluster.put(APIPath.policies, Fixtures.policyJSON(uid: uid(901), resourceVersion: FixtureCluster.rvPlaceholder)
            .replacingOccurrences(of: #""ports":[{"port":8080}]"#, with: #""ports":[{"port":8080,"endPort":80}]"#))
        cluster.put(APIPath.policies, Fixtures.policyJSON("new-and-invalid", uid: uid(903), resourceVersion: FixtureCluster.rvPlaceholder)
            .replacingOccurrences(of: #""ports":[{"port":8080}]"#, with: #""ports":[{"port":8080,"endPort":80}]"#))
        let after = try await harness.read { $0.snapshot.invalidPolicies.count == 2 }
        await harness.close()
        #expect(after.snapshot.policies[ref] == good, "the last valid version stays enforced")
        #expect(after.snapshot.policies[PolicyRef(namespace: "demo", name: "new-and-invalid")] == nil, "a new invalid policy is never enforced")
    }

    @Test func aNewPodCgroupWakesTheSourceAtOnce() async throws {
        let cluster = try Self.seedCluster()
        defer { cluster.stop() }
        let harness = try KubeSourceHarness(server: cluster.url)
        let counter = WakeupCounter(harness.wakeups)
        _ = try await harness.read { $0.isReady }
        // The QoS directory does not exist at start: it is watched once it appears.
        try harness.makePodDirectory("kubepods.slice/kubepods-besteffort.slice")
        try await Task.sleep(for: .milliseconds(300))
        let before = counter.count
        let started = ContinuousClock.now
        let id = try harness.makePodDirectory("kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod\(uid(2).replacingOccurrences(of: "-", with: "_")).slice")
        // The periodic resync is 30 s away: a wake-up now comes from inotify.
        while counter.count == before, ContinuousClock.now - started < .seconds(10) { try await Task.sleep(for: .milliseconds(1)) }
        let elapsed = ContinuousClock.now - started
        let reading = try harness.read()
        counter.stop()
        await harness.close()
        #expect(counter.count > before, "no wake-up within 10 s of the pod cgroup's mkdir")
        #expect(reading.localCgroups[PodRef(namespace: "demo", name: "backend")] == id)
        print("mkdir of a pod cgroup -> source wake-up: \(elapsed)")
    }

}

func owner(of address: String, in compilation: Compilation) -> PodRef? {
    guard let value = compilation.state.addresses[IPAddress(address)!], value.kind == .pod else { return nil }
    return compilation.pods[value.podID]
}

/// Counts a stream's elements on one long-lived task (cancelling a waiting
/// iterator would finish the stream).
final class WakeupCounter: Sendable {
    private let task: Task<Void, Never>

    init(_ stream: AsyncStream<Void>) {
        let box = Box()
        task = Task { for await _ in stream { box.value.withLock { $0 += 1 } } }
        self.box = box
    }

    final class Box: Sendable { let value = Mutex(0) }
    private let box: Box

    var count: Int { box.value.withLock { $0 } }
    func stop() { task.cancel() }
}
