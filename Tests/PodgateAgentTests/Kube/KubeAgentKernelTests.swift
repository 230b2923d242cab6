import Foundation
import PodgateTestSupport
import Testing
import PodgateCgroups
import PodgateDatapath
import PodgateKubeFixtures
import PodgateModel
#if canImport(Glibc)
import Glibc
#endif

/// Everything the end-to-end test creates, removed by `tearDown` whatever
/// happened: the agent process, the pins (links detach with them), the fake
/// kubelet cgroup tree, the temp directory, the fixture API server.
final class KubeAgentEnvironment: @unchecked Sendable {
    // @unchecked: driven from one test at a time.
    let directory: String
    let cgroupRoot: String
    let pinDirectory: String
    let stateDirectory: String
    let cluster: FixtureCluster
    var agent: AgentProcess?

    init(cluster: FixtureCluster) throws {
        self.cluster = cluster
        directory = try makeTemporaryDirectory("podgate-e2e")
        let suffix = String(directory.suffix(6))
        cgroupRoot = try Cgroups.mountPoint() + "/podgate-test-kube-\(suffix)"
        pinDirectory = "/sys/fs/bpf/podgate-test-kube-\(suffix)"
        stateDirectory = directory + "/state"
        try Cgroups.create(cgroupRoot)
    }

    /// A pod cgroup (and the directories above it) below the test's root.
    @discardableResult
    func makeCgroup(_ relative: String) throws -> CgroupID {
        var path = cgroupRoot
        for part in relative.split(separator: "/") {
            path += "/\(part)"
            try Cgroups.create(path)
        }
        return try Cgroups.id(of: path)
    }

    func startAgent(executable: String, extra: [String] = []) throws -> AgentProcess {
        let kubeconfig = try writeKubeconfig(server: cluster.url, in: directory)
        let process = try AgentProcess(executable: executable, arguments: [
            "--kubeconfig", kubeconfig, "--cgroup-root", cgroupRoot, "--node-name", "worker-1",
            "--pin-dir", pinDirectory, "--state-dir", stateDirectory, "--health-address", "127.0.0.1:0",
            // This agent runs in the test machine's own network namespace: the
            // Kubernetes-mode default (auto) would filter its real interfaces.
            "--edge-interfaces", "none",
        ] + extra, logPath: directory + "/agent.log")
        agent = process
        return process
    }

    var healthAddress: String? {
        (try? String(contentsOfFile: AgentDefaults.healthAddressFile(stateDirectory: stateDirectory), encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func realized() throws -> RealizedState {
        try DatapathMaps(pinDirectory: pinDirectory, readOnly: true).realizedState()
    }

    func tearDown() {
        agent?.stopNow()
        cluster.stop()
        do { try DatapathLoader.detachAndRemove(pinDirectory: pinDirectory) } catch { Issue.record("cleanup of \(pinDirectory): \(error)") }
        do { try Cgroups.remove(cgroupRoot) } catch { Issue.record("cleanup of \(cgroupRoot): \(error)") }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Waits up to `seconds` for `condition`; true when it held. Sleeps without
/// blocking a thread: other suites share the cooperative pool (one thread per core).
func eventually(_ seconds: Double, pollMicroseconds: Int = 5_000, _ condition: () throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    repeat {
        if try condition() { return true }
        try await Task.sleep(for: .microseconds(pollMicroseconds))
    } while ContinuousClock.now < deadline
    return try condition()
}

/// Runs `body` while polling `condition` every 100 µs on a thread of its own
/// (not the shared cooperative pool, whose delays would inflate the figure):
/// the milliseconds from the end of `body` until `condition` held, or nil
/// after `seconds`.
func millisecondsUntil(_ seconds: Double, after body: @escaping @Sendable () throws -> Void,
                       _ condition: @escaping @Sendable () -> Bool) async throws -> Double? {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Double?, any Error>) in
        let thread = Thread {
            do { try body() } catch { return continuation.resume(throwing: error) }
            let started = DispatchTime.now()
            let deadline = started.uptimeNanoseconds + UInt64(seconds * 1e9)
            while DispatchTime.now().uptimeNanoseconds < deadline {
                if condition() {
                    return continuation.resume(returning: Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e6)
                }
                usleep(100)
            }
            continuation.resume(returning: nil)
        }
        thread.start()
    }
}

func systemdUID(_ uid: String) -> String { uid.replacingOccurrences(of: "-", with: "_") }

/// The real agent process in Kubernetes mode, against the fixture API
/// server and a fake kubelet tree of real cgroups for both drivers.
@Suite(.serialized, .kernel)
struct KubeAgentKernelTests {
    static func pod(_ name: String, _ n: Int, app: String, ip: String, node: String = "worker-1", qos: String = "BestEffort") -> String {
        Fixtures.podJSON(name, uid: uid(n), resourceVersion: FixtureCluster.rvPlaceholder, app: app, ip: ip, node: node, qos: qos)
    }

    static func rssKiB(_ pid: Int32) -> Int {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
    }

    @Test func agentEnforcesTheAPISnapshotAndKeepsItWhenTheAPIServerGoes() async throws {
        let executable = try KernelGate.executable()
        let cluster = try FixtureCluster(objects: [
            APIPath.namespaces: [Fixtures.namespaceJSON("demo", uid: uid(900), resourceVersion: FixtureCluster.rvPlaceholder)],
            APIPath.pods: [Self.pod("frontend", 101, app: "frontend", ip: "10.244.1.10", qos: "Burstable"),
                           Self.pod("backend", 102, app: "backend", ip: "10.244.1.11", qos: "Guaranteed"),
                           Self.pod("remote", 103, app: "frontend", ip: "10.244.2.12", node: "worker-2")],
            APIPath.policies: [Fixtures.policyJSON(uid: uid(901), resourceVersion: FixtureCluster.rvPlaceholder)],
        ])
        let env = try KubeAgentEnvironment(cluster: cluster)
        defer { env.tearDown() }
        // Both drivers in one tree: systemd (burstable, with a containerd scope) and cgroupfs (guaranteed).
        let frontendPath = "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod\(systemdUID(uid(101))).slice"
        let frontendID = try env.makeCgroup(frontendPath)
        let scopeID = try env.makeCgroup(frontendPath + "/cri-containerd-4f2a9c0d1e2b3a4f5e6d7c8b9a0f1e2d3c4b5a6f7e8d9c0b1a2f3e4d5c6b7a8f.scope")
        let backendID = try env.makeCgroup("kubepods/pod\(uid(102))")

        let agent = try env.startAgent(executable: executable)
        let synced = try await eventually(10) {
            let state = try? env.realized()
            return state?.endpoints[frontendID] != nil && state?.endpoints[backendID] != nil
        }
        #expect(synced, "the agent did not register the pods' cgroups; log:\n\(agent.log)")
        guard synced else { return }
        let state = try env.realized()
        #expect(state.endpoints.count == 2 && state.endpoints[scopeID] == nil, "container scopes need no entry: the BPF walks up to the pod")
        for address in ["10.244.1.10", "10.244.1.11", "10.244.2.12"] {
            #expect(state.addresses[IPAddress(address)!]?.kind == .pod, "no address entry for \(address)")
        }
        #expect(!state.policy.isEmpty, "the seed policy compiled to no entries")
        #expect(state.config?.denyUnknownPods == true)
        let health = try #require(env.healthAddress)
        #expect(httpStatus(health, path: "/readyz") == 200)

        // New pods: known from the API first (pre-registered: their address is
        // in the maps), then the kubelet makes the cgroup. Time mkdir -> endpoint.
        let layouts: [(String, (String) -> String)] = [
            ("Guaranteed", { "kubepods.slice/kubepods-pod\(systemdUID($0)).slice" }),
            ("BestEffort", { "kubepods/besteffort/pod\($0)" }),
            ("BestEffort", { "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod\(systemdUID($0)).slice" }),
            ("Burstable", { "kubepods/burstable/pod\($0)" }),
            ("Burstable", { "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod\(systemdUID($0)).slice" }),
            ("Guaranteed", { "kubepods/pod\($0)" }),
        ]
        let maps = try DatapathMaps(pinDirectory: env.pinDirectory, readOnly: true)
        var figures: [Double] = []
        for (index, (qos, layout)) in layouts.enumerated() {
            let n = 110 + index
            let ip = IPAddress("10.244.1.\(20 + index)")!
            cluster.put(APIPath.pods, Self.pod("late-\(index)", n, app: "backend", ip: "\(ip)", qos: qos))
            #expect(try await eventually(5) { try maps.realizedState().addresses[ip] != nil }, "late-\(index) never reached the address map")
            let relative = layout(uid(n))
            // The QoS directory may be new: made before the clock starts.
            try env.makeCgroup(String(relative[..<relative.lastIndex(of: "/")!]))
            let path = env.cgroupRoot + "/" + relative
            let elapsed = try await millisecondsUntil(5, after: { try Cgroups.create(path) }) {
                guard let id = try? Cgroups.id(of: path) else { return false }
                return (try? maps.realizedState().endpoints[id]) != nil
            }
            #expect(elapsed != nil, "late-\(index) (\(layout(uid(n)))) was not enforced within 5 s")
            if let elapsed { figures.append(elapsed) }
        }
        let sorted = figures.sorted()
        if !sorted.isEmpty {
            print(String(format: "pod cgroup mkdir -> endpoint entry in the kernel map: n=%d min %.1f ms, median %.1f ms, max %.1f ms",
                         sorted.count, sorted[0], sorted[sorted.count / 2], sorted[sorted.count - 1]))
        }

        // The kubelet removes a pod's cgroup: its endpoint entry goes with it.
        let gone = try env.makeCgroup(layouts[0].1(uid(110)))
        try Cgroups.remove(env.cgroupRoot + "/" + layouts[0].1(uid(110)))
        #expect(try await eventually(5) { try maps.realizedState().endpoints[gone] == nil }, "a removed pod cgroup kept its endpoint entry")

        // A pod known before the API server goes away.
        cluster.put(APIPath.pods, Self.pod("known-before", 130, app: "backend", ip: "10.244.1.40"))
        #expect(try await eventually(5) { try maps.realizedState().addresses[IPAddress("10.244.1.40")!] != nil })

        // The API server dies: the maps keep the last good state.
        let before = try env.realized().desiredStateShape
        cluster.goDown()
        try await Task.sleep(for: .milliseconds(1500))
        #expect(agent.isRunning, "the agent exited when the API server went away; log:\n\(agent.log)")
        #expect(try env.realized().desiredStateShape == before, "the maps changed after the API server went away")
        // Its pod's cgroup appears meanwhile: enforced from the last good picture.
        let knownID = try env.makeCgroup("kubepods/besteffort/pod\(uid(130))")
        #expect(try await eventually(5) { try maps.realizedState().endpoints[knownID] != nil }, "a known pod's new cgroup went unenforced while the API was down")

        // Meanwhile the cluster changes (the fixture's store still takes
        // writes): a pod is added, another deleted, and the history is
        // compacted, so the agent's watch will be answered 410 and relist.
        cluster.put(APIPath.pods, Self.pod("while-down", 131, app: "backend", ip: "10.244.1.41"))
        cluster.delete(APIPath.pods, name: "remote")
        cluster.compact()

        // Down for a while (API_DOWN_SECONDS, default 15): the agent retries
        // with backoff, and its memory stays flat.
        let downSeconds = ProcessInfo.processInfo.environment["API_DOWN_SECONDS"].flatMap { Int($0) } ?? 15
        let pid = agent.processID
        var samples: [Int] = [Self.rssKiB(pid)]
        let logBefore = agent.log.utf8.count
        for _ in 0..<downSeconds {
            try await Task.sleep(for: .seconds(1))
            samples.append(Self.rssKiB(pid))
        }
        let logGrowth = agent.log.utf8.count - logBefore
        print("API server down \(downSeconds) s: agent VmRSS \(samples.first!) KiB at the start, \(samples.min()!)..\(samples.max()!) KiB, "
              + "\(samples.last!) KiB at the end; log grew \(logGrowth) bytes")
        #expect(agent.isRunning, "log:\n\(agent.log)")
        #expect(samples.allSatisfy { $0 > 0 })
        #expect(samples.max()! - samples.first! < 16 * 1024, "the agent grew while the API server was down: \(samples)")
        #expect(logGrowth < 256 * 1024, "the log grew \(logGrowth) bytes in \(downSeconds) s")
        #expect(try env.realized().endpoints[knownID] != nil)
        #expect(try env.realized().addresses[IPAddress("10.244.1.41")!] == nil, "nothing changes before the API answers")
        #expect(try env.realized().addresses[IPAddress("10.244.2.12")!] != nil, "nothing is forgotten before the API answers")

        // An agent restarted while the API is still down adopts the pins and
        // reconciles nothing before a full list: nothing is flushed.
        let kept = try env.realized().desiredStateShape
        await agent.stop()
        try? FileManager.default.removeItem(atPath: AgentDefaults.healthAddressFile(stateDirectory: env.stateDirectory))
        let second = try env.startAgent(executable: executable)
        #expect(try await eventually(10) { env.healthAddress.flatMap { httpStatus($0, path: "/healthz") } == 200 }, "restarted agent not healthy; log:\n\(second.log)")
        try await Task.sleep(for: .milliseconds(1500))
        #expect(try env.realized().desiredStateShape == kept, "the restarted agent changed the maps without an API snapshot")
        #expect(env.healthAddress.flatMap { httpStatus($0, path: "/readyz") } == 503, "ready without a full sync")
        #expect(second.log.contains("waiting for the first complete list"), "log:\n\(second.log)")

        // The API server is back: what changed meanwhile is applied.
        try cluster.comeBack()
        #expect(try await eventually(30) {
            let state = try env.realized()
            return state.addresses[IPAddress("10.244.1.41")!] != nil && state.addresses[IPAddress("10.244.2.12")!] == nil
        }, "changes made while the API server was down were not applied after it came back; log:\n\(second.log)")
        #expect(try env.realized().endpoints[knownID] != nil)
        #expect(try await eventually(10) { env.healthAddress.flatMap { httpStatus($0, path: "/readyz") } == 200 })
    }
}
