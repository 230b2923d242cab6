import Testing
import PodgateModel
@testable import PodgateCompiler

/// policy-semantics.md, "An error never widens access", last bullet, through
/// the incremental compiler: one pod changing re-decides the addresses it
/// claims, by the same rule as the full compile (lifecycle, API-reported,
/// netns holder, newest), and reports the same losers.
@Suite struct IncrementalOwnershipTests {
    static let address = ip("10.244.1.50")
    static let settings = AgentSettings(nodeName: "worker-1")

    static func pod(_ name: String, created: String? = "2024-05-02T10:00:00Z", phase: String? = "Running",
                    terminating: Bool = false, netns: Bool = false, addresses: [IPAddress] = [address]) -> Pod {
        Pod(namespace: "demo", name: name, uid: "uid-\(name)", labels: ["app": name], nodeName: "worker-1",
            addresses: addresses, phase: phase, isTerminating: terminating, creationTimestamp: created,
            netnsAddresses: netns ? [address] : [])
    }

    static func podID(_ compiler: IncrementalCompiler) -> PodRef? {
        guard let id = compiler.state.addresses[address]?.podID else { return nil }
        return compiler.allocation.pods.keysByID[id]
    }

    static func expectSameAsFull(_ compiler: IncrementalCompiler, _ comment: Comment) {
        let full = PolicyCompiler.compile(compiler.snapshot, settings: settings, previous: compiler.allocation)
        #expect(full.state == compiler.state, comment)
        #expect(full.diagnostics == compiler.diagnostics, comment)
    }

    // The attack: an old pod whose name sorts first keeps an address a new pod now holds.
    @Test func aPodTurningTerminatingLosesItsAddressAtOnce() {
        var compiler = IncrementalCompiler(settings: Self.settings)
        let old = Self.pod("aaa-old", created: "2024-05-02T12:00:00Z")
        let new = Self.pod("zzz-new", created: "2024-05-02T10:00:00Z")
        compiler.apply([.pod(old.ref, old), .pod(new.ref, new)])
        #expect(Self.podID(compiler) == old.ref, "both running: the newest wins")
        Self.expectSameAsFull(compiler, "both running")

        var leaving = old
        leaving.isTerminating = true
        compiler.apply(.pod(old.ref, leaving))
        #expect(Self.podID(compiler) == new.ref)
        #expect(compiler.diagnostics.map(\.description)
            == ["Pod demo/aaa-old: status.podIPs address 10.244.1.50 is already held by pod demo/zzz-new; ignored for this pod"])
        Self.expectSameAsFull(compiler, "terminating")

        var done = leaving
        done.phase = "Succeeded"
        compiler.apply(.pod(old.ref, done))
        #expect(Self.podID(compiler) == new.ref)
        #expect(compiler.diagnostics.isEmpty, "a finished pod is no conflict")
        Self.expectSameAsFull(compiler, "finished")
    }

    @Test func theNetnsHolderAndThenTheNewestWin() {
        var compiler = IncrementalCompiler(settings: Self.settings)
        let a = Self.pod("a", created: "2024-05-02T10:00:00Z")
        let b = Self.pod("b", created: "2024-05-02T11:00:00Z")
        compiler.apply([.pod(a.ref, a), .pod(b.ref, b)])
        #expect(Self.podID(compiler) == b.ref)
        var holder = a
        holder.netnsAddresses = [Self.address]
        compiler.apply(.pod(a.ref, holder))
        #expect(Self.podID(compiler) == a.ref, "the pod whose namespace holds the address")
        Self.expectSameAsFull(compiler, "netns holder")
        var unreported = holder
        unreported.addressesReported = false
        compiler.apply(.pod(a.ref, unreported))
        #expect(Self.podID(compiler) == b.ref, "a claim seen only in a namespace never beats one the API reports")
        Self.expectSameAsFull(compiler, "unreported")
    }

    @Test func anAddressListedTwiceInOnePodIsNoConflict() {
        var compiler = IncrementalCompiler(settings: Self.settings)
        let pod = Self.pod("twice", addresses: [Self.address, Self.address])
        compiler.apply(.pod(pod.ref, pod))
        #expect(Self.podID(compiler) == pod.ref)
        #expect(compiler.diagnostics.isEmpty, "\(compiler.diagnostics)")
        Self.expectSameAsFull(compiler, "twice")
        var once = pod
        once.addresses = [Self.address]
        compiler.apply(.pod(pod.ref, once))
        #expect(Self.podID(compiler) == pod.ref, "dropping the duplicate keeps the address")
        Self.expectSameAsFull(compiler, "once")
    }

    /// The random walk of `IncrementalEquivalenceTests` reaches every rule:
    /// contested addresses decided by each criterion, duplicates within a pod.
    @Test func theChangeGeneratorReachesEveryOwnershipRule() {
        var decidedBy: [String: Int] = [:]
        for seed in UInt64(1)...12 {
            var random = SeededRandom(seed: seed &* 7919)
            _ = ChangeGenerator.settings(&random)
            var generator = ChangeGenerator()
            var cluster = ClusterSnapshot()
            var cgroups: [PodRef: CgroupID] = [:]
            for _ in 0..<250 {
                let change = generator.next(cluster, cgroups, &random)
                ChangeGenerator.apply(change, to: &cluster, &cgroups)
                for pod in cluster.pods.values where Set(pod.addresses).count < pod.addresses.count { decidedBy["duplicate", default: 0] += 1 }
                for pod in cluster.pods.values where pod.isFinished && !pod.addresses.isEmpty { decidedBy["finished", default: 0] += 1 }
                let pods = cluster.pods.values.filter { !$0.isFinished && !$0.hostNetwork }
                for a in pods { for b in pods where a.ref < b.ref {
                    for address in Set(a.addresses).intersection(b.addresses) {
                        decidedBy[Self.criterion(a, b, address), default: 0] += 1
                    }
                } }
            }
        }
        for rule in ["duplicate", "finished", "live", "reported", "netns", "created", "name"] {
            #expect(decidedBy[rule, default: 0] > 0, "no step decided by \(rule): \(decidedBy)")
        }
    }

    /// The first criterion of `ClusterFacts.claimPrecedes` that tells two claims apart.
    static func criterion(_ a: Pod, _ b: Pod, _ address: IPAddress) -> String {
        if a.isLive != b.isLive { return "live" }
        if a.addressesReported != b.addressesReported { return "reported" }
        if a.netnsAddresses.contains(address) != b.netnsAddresses.contains(address) { return "netns" }
        if a.creationTimestamp != b.creationTimestamp { return "created" }
        return "name"
    }
}
