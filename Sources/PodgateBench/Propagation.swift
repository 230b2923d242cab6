import PodgateLab
import PodgateBenchCore
import PodgateDatapath
#if canImport(Glibc)
import Glibc
#endif

/// Policy propagation in local mode with the real agent: the time from a
/// manifest change (a policy file appearing, renamed into place) to the first
/// connection that succeeds, polling every millisecond from the client pod.
/// The server denies by default, so each change flips the client from EPERM
/// to connected; then the file is removed and the client waits to be refused
/// again before the next change.
enum PropagationBench {
    static func run(topology: BenchTopology, changes: Int, otherPods: [Int]) throws -> [BenchRecord] {
        var records: [BenchRecord] = []
        for count in otherPods {
            records += try run(topology: topology, changes: changes, otherPods: count)
        }
        return records
    }

    /// `otherPods` more pods (on other nodes) in the manifest directory: the
    /// agent re-reads and recompiles everything on each change.
    static func run(topology: BenchTopology, changes: Int, otherPods: Int) throws -> [BenchRecord] {
        let sandbox = topology.sandbox
        let manifests = sandbox.tmp + "/manifests-\(otherPods)"
        let state = sandbox.tmp + "/agent-state-\(otherPods)"
        try Files.makeDirectories(manifests)
        try Files.makeDirectories(state)
        try Files.write(manifests + "/cluster.yaml", clusterYAML, atomically: false)
        if otherPods > 0 { try Files.write(manifests + "/others.yaml", othersYAML(otherPods), atomically: false) }
        let pin = sandbox.pin("-agent")
        let log = sandbox.tmp + "/agent.log"
        let agent = try InPodHelper.start(executable: topology.executable, cgroup: sandbox.cgroupRoot + "/agent",
                                          [topology.executable, "agent", "--manifests", manifests,
                                           "--cgroup-root", topology.podsCgroup, "--pin-dir", pin,
                                           "--state-dir", state, "--node-name", "bench-node"],
                                          log: log)
        defer {
            Processes.stop(agent.pid, grace: 0)
            _ = try? DatapathLoader.detachAndRemove(pinDirectory: pin)
        }
        // Ready when the client is refused on the spot (client-side EPERM).
        let deadline = Monotonic.seconds + 20
        while true {
            try Interrupts.check()
            if let result = try? topology.deniedConnect(count: 1, timeoutMs: 50, port: BenchTopology.port), result.first?.errno == EPERM { break }
            guard Monotonic.seconds < deadline else {
                throw LabError("the agent did not enforce within 20 s; its log:\n\((try? Files.read(log))?.suffix(1500) ?? "")")
            }
            usleep(20_000)
        }
        Bench.log("propagation (\(otherPods) other pods): agent enforcing; \(changes) changes")
        let output = try Processes.check(topology.executable, ["sim-helper", "flip", "--cgroup", topology.clientCgroup,
                                                         "--netns", topology.clientNetns, "--to", BenchTopology.serverAddress,
                                                         "--port", String(BenchTopology.port), "--changes", String(changes),
                                                         "--allow", manifests + "/policy.yaml", "--allow-text", policyYAML])
        let times = output.split(separator: "\n").compactMap { Double($0) }.map { $0 / 1e6 }
        guard !times.isEmpty else { throw LabError("propagation printed nothing: \(output)") }
        let median = Statistics.median(times) ?? .nan
        let p99 = Statistics.percentile(times, 99)
        Bench.log("  median \(ReportFormat.fixed(median, digits: 2)) ms, p99 \(ReportFormat.fixed(p99 ?? .nan, digits: 2)) ms")
        return [BenchRecord(suite: "propagation", configuration: "agent, local mode", size: "pods=\(ReportFormat.count(otherPods + 2))",
                            metric: "ms to first connection", median: median, p99: p99, runs: times.count,
                            note: "polled every 1 ms; max \(ReportFormat.fixed(times.max() ?? .nan, digits: 1)) ms")]
    }

    static let clusterYAML = """
    apiVersion: v1
    kind: Namespace
    metadata:
      name: bench
    ---
    apiVersion: v1
    kind: Pod
    metadata:
      name: client
      namespace: bench
      labels:
        app: client
    spec:
      containers:
        - name: client
          image: bench
    status:
      podIP: \(BenchTopology.clientAddress)
    ---
    apiVersion: v1
    kind: Pod
    metadata:
      name: server
      namespace: bench
      labels:
        app: server
      annotations:
        config.linkerd.io/default-inbound-policy: deny
    spec:
      containers:
        - name: server
          image: bench
          ports:
            - containerPort: \(BenchTopology.port)
              name: http
    status:
      podIP: \(BenchTopology.serverAddress)

    """

    /// Pods of other nodes in other namespaces, one document each.
    static func othersYAML(_ count: Int) -> String {
        var text = ""
        text.reserveCapacity(count * 260)
        for i in 0..<count {
            let n = 0x0A40_0000 + UInt32(i) + 1  // 10.64.0.1 upwards
            text += """
            apiVersion: v1
            kind: Pod
            metadata:
              name: other-\(i)
              namespace: other-\(i % 50)
              labels:
                app: app-\(i % 200)
            spec:
              nodeName: node-\(i / 110)
              containers:
                - name: c
                  image: other
            status:
              podIP: \(n >> 24).\((n >> 16) & 255).\((n >> 8) & 255).\(n & 255)
            ---

            """
        }
        return text
    }

    static let policyYAML = """
    apiVersion: policy.linkerd.io/v1alpha1
    kind: NetworkAuthenticationPolicy
    metadata:
      name: client-to-server
      namespace: bench
    spec:
      target:
        selector:
          matchLabels:
            app: server
      ports:
        - port: \(BenchTopology.port)
      sources:
        - podSelector:
            matchLabels:
              app: client

    """
}
