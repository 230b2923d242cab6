import Foundation
import PodgateBenchCore
import PodgateDatapath
import PodgateKube
import PodgateKubeFixtures
import PodgateLab
import PodgateModel
#if canImport(Glibc)
import Glibc
#endif

/// `podgate bench kube`: the real agent in Kubernetes mode (a child process)
/// lists and watches the fixture API server (PodgateKubeFixtures, written
/// from the API concepts page: paged lists at one version, watches with
/// bookmarks), which serves a synthetic cluster from this process. Reports
/// the agent's own memory (VmHWM, VmRSS), its time to /readyz, and the lag
/// from a pod written to the server to its address entry in the kernel map:
/// one change at a time, and under churn (adds and deletes at a fixed rate).
/// The lag includes the server's watch delivery (it polls its event log
/// every 5 ms), as a real API server's watch cache adds its own.
enum KubeBench {
    struct Options {
        var shapes = ClusterShape.standard
        var singles = 20
        var churnPerSecond = 100
        var churnSeconds = 60
    }

    static let node = "worker-1"

    static func run(sandbox: Sandbox, executable: String, options: Options) throws -> [BenchRecord] {
        var records: [BenchRecord] = []
        for shape in options.shapes {
            try Interrupts.check()
            records += try run(shape, sandbox: sandbox, executable: executable, options: options)
        }
        return records
    }

    static func uid(_ n: Int) -> String { String(format: "%08x-1111-4222-8333-%012x", n, n) }

    static func address(_ n: Int, base: Int = 64) -> String {
        "10.\(base + n / 65536).\((n / 256) % 256).\(n % 256)"
    }

    /// The cluster of `shape`: pods of `replicas`-pod apps spread over the
    /// namespaces and over nodes of 100 pods, policies letting one app reach
    /// the next on a port of 8000-8099.
    static func serve(_ shape: ClusterShape) throws -> FixtureCluster {
        let cluster = try FixtureCluster()
        let nodes = max(1, shape.pods / 100)
        let apps = max(1, shape.pods / shape.replicas)
        for n in 0..<shape.namespaces {
            cluster.put(KubeResource.namespaces.path, Fixtures.namespaceJSON("ns-\(n)", uid: uid(1_000_000 + n), resourceVersion: ""))
        }
        for n in 0..<shape.pods {
            cluster.put(KubeResource.pods.path, Fixtures.podJSON("pod-\(n)", namespace: "ns-\(n % shape.namespaces)", uid: uid(n),
                                                                 resourceVersion: "", app: "app-\(n % apps)", ip: address(n),
                                                                 node: "worker-\(1 + n % nodes)"))
        }
        for n in 0..<shape.policies {
            cluster.put(KubeResource.networkAuthenticationPolicies.path,
                        Fixtures.policyJSON("policy-\(n)", namespace: "ns-\(n % shape.namespaces)", uid: uid(2_000_000 + n),
                                            resourceVersion: "", target: "app-\(n % apps)", port: 8000 + n % 100,
                                            source: "app-\((n + 1) % apps)"))
        }
        return cluster
    }

    static func run(_ shape: ClusterShape, sandbox: Sandbox, executable: String, options: Options) throws -> [BenchRecord] {
        Bench.log("kube: \(shape): generating the cluster")
        let generated = Monotonic.seconds
        let cluster = try serve(shape)
        defer { cluster.stop() }
        Bench.log("kube: \(shape): served in \(ReportFormat.fixed(Monotonic.seconds - generated, digits: 1)) s; starting the agent")

        let directory = sandbox.tmp + "/kube-\(shape.pods)"
        let state = directory + "/state"
        let cgroupRoot = sandbox.cgroupRoot + "/kube-\(shape.pods)"
        try Files.makeDirectories(state)
        try Files.makeDirectories(cgroupRoot)
        let kubeconfig = directory + "/kubeconfig"
        try Files.write(kubeconfig, """
        apiVersion: v1
        kind: Config
        current-context: bench
        contexts: [{name: bench, context: {cluster: bench, user: bench}}]
        clusters: [{name: bench, cluster: {server: "\(cluster.url)"}}]
        users: [{name: bench, user: {token: bench}}]

        """)
        let pin = sandbox.pin("-kube")
        let log = directory + "/agent.log"
        let started = Monotonic.seconds
        // In the sandbox's agent cgroup, as propagation's agent: removed with the sandbox.
        let agent = try InPodHelper.start(executable: executable, cgroup: sandbox.cgroupRoot + "/agent",
                                          [executable, "agent", "--kubeconfig", kubeconfig, "--cgroup-root", cgroupRoot,
                                           "--node-name", node, "--pin-dir", pin, "--state-dir", state,
                                           "--health-address", "127.0.0.1:0", "--edge-interfaces", "none"],
                                          log: log)
        defer {
            Processes.stop(agent.pid, grace: 1)
            _ = try? DatapathLoader.detachAndRemove(pinDirectory: pin)
        }
        let failed = { (what: String) in LabError("kube \(shape): \(what); the agent's log:\n\((try? Files.read(log))?.suffix(2000) ?? "")") }

        // Ready: /readyz answers 200 (every resource listed, the maps written).
        let deadline = started + 1_800
        var ready: Double?
        while ready == nil {
            try Interrupts.check()
            guard kill(agent.pid, 0) == 0 else { throw failed("the agent exited") }
            guard Monotonic.seconds < deadline else { throw failed("not ready within 30 minutes") }
            if let health = try? Files.read(state + "/health-address").trimmingCharacters(in: .whitespacesAndNewlines),
               let status = try? HTTPClient(config: KubeConfig(server: "http://" + health),
                                            timeouts: HTTPTimeouts(connectMilliseconds: 1_000, requestMilliseconds: 2_000))
                .getBlocking("/readyz", cancel: CancellationFlag()).status, status == 200 {
                ready = Monotonic.seconds - started
            } else {
                usleep(100_000)
            }
        }
        let readySeconds = ready ?? .nan
        Bench.log("kube: \(shape): ready after \(ReportFormat.fixed(readySeconds, digits: 1)) s")
        // A few seconds of steady state: the peak after the first sync, not during it only.
        sleep(5)
        let (hwm, rss) = Self.memory(agent.pid)
        let maps = try DatapathMaps(pinDirectory: pin, readOnly: true)

        // One change at a time: a new pod (another node's) with a new address.
        var singles: [Double] = []
        for i in 0..<options.singles {
            try Interrupts.check()
            let ip = IPAddress(address(i, base: 200))!
            let sent = Monotonic.seconds
            cluster.put(KubeResource.pods.path, Fixtures.podJSON("bench-single-\(i)", namespace: "ns-0", uid: uid(3_000_000 + i),
                                                                 resourceVersion: "", app: "app-1", ip: "\(ip)", node: "worker-2"))
            while try maps.addressEntry(ip) == nil {
                guard Monotonic.seconds - sent < 60 else { throw failed("bench-single-\(i) (\(ip)) not in the address map after 60 s") }
                usleep(200)
            }
            singles.append((Monotonic.seconds - sent) * 1000)
            usleep(50_000)
        }

        // Churn: one change every 1/rate s, alternately a new pod and the
        // deletion of the pod added 10 s earlier (before that: a relabel of a
        // pod of the cluster, not timed); each add and delete is timed until
        // the kernel map shows it (its address there, or gone). The 10 s keep
        // a pod's delete from overtaking the check of its add.
        var pending: [(ip: IPAddress, present: Bool, sent: Double)] = []
        var churn: [Double] = []
        var added: [Int: IPAddress] = [:]
        let interval = 1.0 / Double(options.churnPerSecond)
        let lifetime = max(1, options.churnPerSecond * 10 / 2)
        let (nodes, apps) = (max(1, shape.pods / 100), max(1, shape.pods / shape.replicas))
        let total = options.churnPerSecond * options.churnSeconds
        let cpuBefore = Self.cpuSeconds(agent.pid)
        let churnStart = Monotonic.seconds
        var k = 0
        var next = churnStart
        while k < total || !pending.isEmpty {
            try Interrupts.check()
            let now = Monotonic.seconds
            if k < total, now >= next {
                let n = k / 2
                if k % 2 == 0 {
                    let ip = IPAddress(address(n, base: 210))!
                    cluster.put(KubeResource.pods.path, Fixtures.podJSON("bench-churn-\(n)", namespace: "ns-\(n % shape.namespaces)",
                                                                         uid: uid(4_000_000 + n), resourceVersion: "", app: "app-\(n % 7)",
                                                                         ip: "\(ip)", node: "worker-2"))
                    added[n] = ip
                    pending.append((ip, true, now))
                } else if let ip = added.removeValue(forKey: n - lifetime) {
                    cluster.delete(KubeResource.pods.path, namespace: "ns-\((n - lifetime) % shape.namespaces)", name: "bench-churn-\(n - lifetime)")
                    pending.append((ip, false, now))
                } else {
                    let m = n % shape.pods
                    cluster.put(KubeResource.pods.path, Fixtures.podJSON("pod-\(m)", namespace: "ns-\(m % shape.namespaces)", uid: uid(m),
                                                                         resourceVersion: "", app: "app-\(m % apps)-churned", ip: address(m),
                                                                         node: "worker-\(1 + m % nodes)"))
                }
                k += 1
                next += interval
            }
            let checked = Monotonic.seconds
            var still: [(ip: IPAddress, present: Bool, sent: Double)] = []
            for change in pending {
                if (try maps.addressEntry(change.ip) != nil) == change.present {
                    churn.append((checked - change.sent) * 1000)
                } else if checked - change.sent > 120 {
                    throw failed("a churn change of \(change.ip) not in the kernel map after 120 s")
                } else {
                    still.append(change)
                }
            }
            pending = still
            usleep(200)
        }
        let churnWall = Monotonic.seconds - churnStart
        let cpu = (Self.cpuSeconds(agent.pid) - cpuBefore) / churnWall * 100
        let (hwmAfter, rssAfter) = Self.memory(agent.pid)

        let size = "pods=\(ReportFormat.count(shape.pods)) policies=\(ReportFormat.count(shape.policies)) ns=\(ReportFormat.count(shape.namespaces))"
        var records = [
            BenchRecord(suite: "kube", configuration: "agent", size: size, metric: "s to /readyz", median: readySeconds),
            BenchRecord(suite: "kube", configuration: "agent VmHWM", size: size, metric: "MiB", median: hwm,
                        note: "after churn: \(ReportFormat.fixed(hwmAfter, digits: 0)) MiB"),
            BenchRecord(suite: "kube", configuration: "agent VmRSS", size: size, metric: "MiB", median: rss,
                        note: "after churn: \(ReportFormat.fixed(rssAfter, digits: 0)) MiB"),
        ]
        records.append(lagRecord("pod written -> address map, one at a time", size: size, singles))
        var churnRecord = lagRecord("pod written -> address map, \(options.churnPerSecond) changes/s for \(options.churnSeconds) s", size: size, churn)
        churnRecord.note += "; agent CPU \(ReportFormat.fixed(cpu, digits: 0))% of a core"
        records.append(churnRecord)
        for record in records { Bench.log("  \(record.configuration): \(ReportFormat.figure(record.median)) \(record.metric) \(record.note)") }
        return records
    }

    static func lagRecord(_ configuration: String, size: String, _ samples: [Double]) -> BenchRecord {
        BenchRecord(suite: "kube", configuration: configuration, size: size, metric: "ms", median: Statistics.median(samples) ?? .nan,
                    p99: Statistics.percentile(samples, 99), runs: samples.count,
                    note: "max \(ReportFormat.fixed(samples.max() ?? .nan, digits: 1)) ms, n=\(samples.count)")
    }

    /// VmHWM and VmRSS of `pid`, in MiB.
    static func memory(_ pid: pid_t) -> (hwm: Double, rss: Double) {
        let text = (try? Files.read("/proc/\(pid)/status")) ?? ""
        func field(_ name: String) -> Double {
            let line = text.split(separator: "\n").first { $0.hasPrefix(name + ":") } ?? ""
            return (Double(line.split(separator: " ").dropFirst().first ?? "") ?? .nan) / 1024
        }
        return (field("VmHWM"), field("VmRSS"))
    }

    /// User plus system CPU time of `pid` so far, in seconds (/proc/PID/stat fields 14 and 15).
    static func cpuSeconds(_ pid: pid_t) -> Double {
        let text = (try? Files.read("/proc/\(pid)/stat")) ?? ""
        // The command name (field 2) may hold spaces: count from after its ')'.
        guard let close = text.lastIndex(of: ")") else { return .nan }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return .nan }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
