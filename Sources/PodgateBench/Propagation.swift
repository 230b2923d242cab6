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
    static func run(topology: BenchTopology, changes: Int) throws -> [BenchRecord] {
        let sandbox = topology.sandbox
        let manifests = sandbox.tmp + "/manifests"
        let state = sandbox.tmp + "/agent-state"
        try Host.makeDirectories(manifests)
        try Host.makeDirectories(state)
        try Host.writeFile(manifests + "/cluster.yaml", clusterYAML)
        let pin = sandbox.pin("-agent")
        let log = sandbox.tmp + "/agent.log"
        let agent = try Child.spawn(topology.executable, ["bench-helper", "exec", "--cgroup", sandbox.cgroupRoot + "/agent", "--",
                                                          topology.executable, "agent", "--manifests", manifests,
                                                          "--cgroup-root", topology.podsCgroup, "--pin-dir", pin,
                                                          "--state-dir", state, "--node-name", "bench-node"],
                                    logFile: log)
        defer {
            agent.stop()
            try? DatapathLoader.detachAndRemove(pinDirectory: pin)
        }
        // Ready when the client is refused on the spot (client-side EPERM).
        let deadline = Host.seconds + 20
        while true {
            try Interrupts.check()
            if let result = try? topology.deniedConnect(count: 1, timeoutMs: 50, port: BenchTopology.port), result.first?.errno == EPERM { break }
            guard Host.seconds < deadline else {
                throw BenchError("the agent did not enforce within 20 s; its log:\n\((try? Host.read(log))?.suffix(1500) ?? "")")
            }
            usleep(20_000)
        }
        Host.log("propagation: agent enforcing; \(changes) changes")
        let result = try Child.run(topology.executable, ["bench-helper", "flip", "--cgroup", topology.clientCgroup,
                                                         "--netns", topology.clientNetns, "--to", BenchTopology.serverAddress,
                                                         "--port", String(BenchTopology.port), "--changes", String(changes),
                                                         "--allow", manifests + "/policy.yaml", "--allow-text", policyYAML])
        let times = result.output.split(separator: "\n").compactMap { Double($0) }.map { $0 / 1e6 }
        guard !times.isEmpty else { throw BenchError("propagation printed nothing: \(result.output)") }
        let median = Statistics.median(times) ?? .nan
        let p99 = Statistics.percentile(times, 99)
        Host.log("  median \(ReportFormat.fixed(median, digits: 2)) ms, p99 \(ReportFormat.fixed(p99 ?? .nan, digits: 2)) ms")
        return [BenchRecord(suite: "propagation", configuration: "agent, local mode", size: "\(times.count) changes",
                            metric: "ms to first connection", median: median, p99: p99, runs: times.count,
                            note: "goal p99 < 100 ms; max \(ReportFormat.fixed(times.max() ?? .nan, digits: 1)) ms")]
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
