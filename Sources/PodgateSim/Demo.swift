#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import PodgateModel

/// `podgate demo`: the seed walkthrough on one simulated node, told step by
/// step. The same machinery as `podgate sim` (real namespaces, cgroups,
/// listeners, the real agent), narrated instead of tabulated.
public enum Demo {
    static let namespaceManifest = """
        apiVersion: v1
        kind: Namespace
        metadata:
          name: demo
          annotations:
            config.linkerd.io/default-inbound-policy: deny
        """

    static let podManifests = """
        apiVersion: v1
        kind: Pod
        metadata: {name: frontend, namespace: demo, labels: {app: frontend}}
        spec:
          containers:
          - name: frontend
            image: nginx:latest
            ports: [{containerPort: 80}]
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: backend, namespace: demo, labels: {app: backend}}
        spec:
          containers:
          - name: backend
            image: example/backend
            ports: [{containerPort: 8080}, {containerPort: 9000}]
        """

    /// Exactly the manifest of policy-semantics.md.
    static let policyManifest = """
        apiVersion: policy.linkerd.io/v1alpha1
        kind: NetworkAuthenticationPolicy
        metadata:
          name: frontend-can-talk-to-backend
          namespace: demo
        spec:
          target:
            selector:
              matchLabels:
                app: backend
          ports:
            - port: 8080
          sources:
            - podSelector:
                matchLabels:
                  app: frontend
        """

    /// `podgate demo` (its arguments are the CLI's: there are none).
    public static func run(executable: String, parseDocuments: @escaping Sim.ParseDocuments) -> Int32 {
        guard getuid() == 0 else {
            Files.standardError("podgate demo: needs root: it creates network namespaces, cgroups and BPF programs (try: sudo podgate demo)\n")
            return 1
        }
        let frontend = PodRef(namespace: "demo", name: "frontend")
        let backend = PodRef(namespace: "demo", name: "backend")
        let scenario = Scenario(
            name: "demo",
            manifests: namespaceManifest + "\n---\n" + podManifests,
            expect: [Probe(from: .pod(frontend), to: backend, port: 8080, verdict: .deny)],
            steps: [Step(apply: policyManifest, expect: [
                Probe(from: .pod(frontend), to: backend, port: 8080, verdict: .allow),
                Probe(from: .pod(frontend), to: backend, port: 9000, verdict: .deny),
            ])])
        let plan: ScenarioPlan
        do {
            plan = try ScenarioPlan(scenario: scenario, file: "demo", parseDocuments: parseDocuments)
        } catch {
            Files.standardError("podgate demo: \(error)\n")
            return 2
        }
        Interrupts.install()
        Isolation.cleanUpWhenParentDies()
        let run: SimRun
        do { run = try SimRun.open() } catch {
            Files.standardError("podgate demo: \(error)\n")
            return 2
        }
        let code = run.guarded(prefix: "podgate demo: ", errorCode: 1) {
            try narrate(plan, run: run.id, state: run.state, ip: run.ip, executable: executable)
        }
        let problems = run.removeAll()
        problems.forEach { Files.standardError("podgate demo: cleanup: \($0)\n") }
        say("\nCleaned up: the namespaces, cgroups, BPF programs and processes of this demo are gone.")
        return problems.isEmpty ? code : max(code, 1)
    }

    static func say(_ text: String) { Files.standardOutput(text + "\n") }

    static func indented(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n")
    }

    static func narrate(_ plan: ScenarioPlan, run: String, state: RunState, ip: IPCommand, executable: String) throws -> Int32 {
        let tmp = "/tmp/podgate-sim-\(run)"
        try state.recordTmp(tmp)
        try Files.makeDirectories(tmp)
        var addresses = try AddressPlan(nodes: plan.nodes, externals: [], file: plan.file)
        try addresses.place(plan.rounds[0].pods, file: plan.file)
        let helper = HelperLauncher(executable: executable, logDirectory: tmp)
        let topology = Topology(run: run, ip: ip, state: state, helper: helper, plan: addresses, cgroup2: try SimCgroups.mountPoint())

        say("""
            podgate demo: the seed walkthrough, enforced in the kernel.

            Step 1. A namespace that denies inbound connections by default, and two pods in it.
            """)
        say(indented(namespaceManifest))
        let first = plan.rounds[0]
        try topology.buildBase()
        try SimRunner.sync(topology, to: first, helper: helper, state: state, removing: false)
        for pod in first.pods {
            let ports = pod.ports.map { "\($0.port)/\($0.transport.rawValue)" }.joined(separator: ", ")
            say("    pod \(pod.ref) at \(first.addresses[pod.ref]?.map(\.description).joined(separator: ", ") ?? "?")"
                + (ports.isEmpty ? "" : ", listening on \(ports)"))
        }
        say("  Each pod is a network namespace with its own cgroup; the node is a namespace of its own.")

        let directory = try AgentManifestDirectory(path: "\(tmp)/manifests")
        let fleet = AgentFleet(manifests: directory)
        try directory.write(first.manifests, placements: SimRunner.placements(first))
        try fleet.start(topology: topology, options: plan.scenario.agent, executable: executable, tmp: tmp, state: state)
        try fleet.waitForGeneration(timeout: 10)
        say("  The podgate agent is running: its BPF programs sit on the pods' cgroups and its maps hold the policy.\n")

        let runner = ProbeRunner(topology: topology, helper: helper, timeout: 1, concurrency: 4)
        var events = EventLog(files: fleet.eventFiles)
        var unexpected = 0

        say("Step 2. frontend connects to backend:8080, as `curl http://backend:8080` would.")
        events.mark()
        unexpected += try show(runner.run(first.probes), events: events)

        let second = plan.rounds[1]
        say("\nStep 3. Apply this NetworkAuthenticationPolicy: backend's port 8080 accepts frontend, and only frontend.")
        say(indented(policyManifest))
        try directory.write(second.manifests, placements: SimRunner.placements(second))
        let applied = Clock.now
        try fleet.waitForGeneration(timeout: 10)
        say("  The agent compiled it and updated the kernel's maps in \(Int((Clock.now - applied) * 1000)) ms.\n")

        say("Step 4. The same connection again, and one to backend:9000, which no policy opens.")
        events.mark()
        unexpected += try show(runner.run(second.probes), events: events)

        say(unexpected == 0
            ? "\nThat is the walkthrough: backend:8080 is open to frontend and nothing else; port 9000 stays closed."
            : "\n\(unexpected) connection(s) did not behave as the walkthrough expects: see above.")
        return unexpected == 0 ? 0 : 1
    }

    /// Prints each probe's outcome and, for refusals, the event the agent reported.
    static func show(_ results: [ProbeResult], events: EventLog) throws -> Int {
        var unexpected = 0
        for result in results {
            let target = "\(result.probe.to):\(result.probe.port)"
            switch result.allowed {
            case true?: say("  \(result.probe.from) -> \(target): ALLOWED (\(result.how))")
            case false?: say("  \(result.probe.from) -> \(target): REFUSED (\(result.how))")
            case nil: say("  \(result.probe.from) -> \(target): the probe could not run (\(result.how))")
            }
            if result.allowed != (result.probe.verdict == .allow) { unexpected += 1 }
            guard result.allowed == false else { continue }
            let deadline = Clock.now + 1
            var line: String?
            while line == nil, Clock.now < deadline {
                line = events.rawLinesSinceMark().first { raw in EventRecord(line: raw.utf8)?.concerns(result) == true }
                if line == nil { usleep(50_000) }
            }
            if let line, let event = EventRecord(line: line.utf8) {
                let process = event.pid.map { ", by process \(event.comm ?? "?") (pid \($0))" } ?? ""
                say("  The agent reported it: \(event.verdict.rawValue) at the \(event.where.rawValue), \(event.srcPod ?? event.src) -> "
                    + "\(event.dstPod ?? event.dst):\(event.dstPort), reason \(event.reason)\(process).")
                say("  As JSON (one object per line in --events-file):\n    \(line)")
            } else {
                say("  (no event arrived within a second)")
                unexpected += 1
            }
        }
        return unexpected
    }
}
