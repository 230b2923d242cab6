#if canImport(Glibc)
import Glibc
#endif
import PodgateModel

/// One scenario, start to finish: plan, build, agents, rounds of probes, report, cleanup.
enum SimRunner {
    static func progress(_ text: String) { Files.standardError("podgate sim: \(text)\n") }

    static func run(file: String, options: SimOptions, parseDocuments: @escaping Sim.ParseDocuments) -> Int32 {
        let plan: ScenarioPlan
        do {
            plan = try load(file: file, parseDocuments: parseDocuments)
        } catch {
            Files.standardError("podgate sim: \(error)\n")
            return 2
        }

        let run: SimRun
        do { run = try SimRun.open() } catch {
            Files.standardError("podgate sim: \(error)\n")
            return 2
        }
        let code = run.guarded(prefix: "podgate sim: \(plan.scenario.name): ", errorCode: 2) {
            try execute(plan, run: run.id, state: run.state, ip: run.ip, options: options)
        }
        if options.keep {
            progress("--keep: run \(run.id) left in place; remove it with `podgate sim --cleanup`")
            return code
        }
        let started = Clock.now
        let problems = run.removeAll()
        problems.forEach { progress("cleanup: \($0)") }
        progress("cleaned up in \(Int((Clock.now - started) * 1000)) ms")
        // Under --hold an interrupt is how a finished run ends, not a failure.
        if let signal = Interrupts.signal, !(options.hold && code < 128) { return 128 + signal }
        return problems.isEmpty ? code : max(code, 2)
    }

    static func load(file: String, parseDocuments: Sim.ParseDocuments) throws -> ScenarioPlan {
        let name = file.split(separator: "/").last.map(String.init) ?? file
        let text = try Files.read(file)
        let documents: [DocumentValue]
        do { documents = try parseDocuments(text) } catch {
            throw Diagnostic(object: name, field: "", message: "is not valid YAML: \(error)")
        }
        guard let document = documents.first(where: { !$0.isNull }) else {
            throw Diagnostic(object: name, field: "", message: "is empty")
        }
        let scenario = try ScenarioDecoder.decode(document, file: name)
        return try ScenarioPlan(scenario: scenario, file: name, parseDocuments: parseDocuments)
    }

    static func randomRunID() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<4).map { _ in alphabet.randomElement()! })
    }

    static func execute(_ plan: ScenarioPlan, run: String, state: RunState, ip: IPCommand, options: SimOptions) throws -> Int32 {
        let tmp = "/tmp/podgate-sim-\(run)"
        try state.recordTmp(tmp)
        try Files.makeDirectories(tmp)
        let cgroup2 = try SimCgroups.mountPoint()
        var addresses = try AddressPlan(nodes: plan.nodes, externals: plan.scenario.externals, file: plan.file)
        try addresses.place(plan.rounds[0].pods, file: plan.file)
        let helper = HelperLauncher(executable: options.executable, logDirectory: tmp)
        let topology = Topology(run: run, ip: ip, state: state, helper: helper, plan: addresses, cgroup2: cgroup2)

        let first = plan.rounds[0]
        progress("\(plan.scenario.name): building \(first.pods.count) pods on \(plan.nodes.count) nodes (run \(run))...")
        var started = Clock.now
        try topology.buildBase()
        try sync(topology, to: first, helper: helper, state: state, removing: false)
        progress("topology ready in \(Int((Clock.now - started) * 1000)) ms")

        let directory = try AgentManifestDirectory(path: "\(tmp)/manifests")
        let fleet = AgentFleet(manifests: directory)
        try directory.write(first.manifests, placements: placements(first))
        if options.startAgents {
            started = Clock.now
            try fleet.start(topology: topology, options: plan.scenario.agent, executable: options.executable, tmp: tmp, state: state)
            try fleet.waitForGeneration(timeout: options.agentTimeout)
            progress("\(plan.nodes.count) agent(s) ready in \(Int((Clock.now - started) * 1000)) ms")
        }

        var report = ""
        var failures: [String] = []
        var passed = 0
        let runner = ProbeRunner(topology: topology, helper: helper, timeout: plan.scenario.probeTimeoutSeconds,
                                 concurrency: options.concurrency)
        let heldRunner = HeldRunner(topology: topology, helper: helper, timeout: plan.scenario.probeTimeoutSeconds)
        for (index, round) in plan.rounds.enumerated() {
            if index > 0 {
                // Held connections open in the state before the change.
                let holdings = try heldRunner.open(round.held, runner: runner, state: state)
                try sync(topology, to: round, helper: helper, state: state, removing: false)
                try directory.write(round.manifests, placements: placements(round))
                if options.startAgents { try fleet.waitForGeneration(timeout: options.agentTimeout) }
                if !holdings.isEmpty {
                    let held = heldRunner.check(holdings, title: round.title)
                    passed += held.passed
                    failures += held.failures
                    report += held.lines.map { $0 + "\n" }.joined()
                }
                try sync(topology, to: round, helper: helper, state: state, removing: true)
            }
            progress("round \(index + 1) (\(round.title)): \(round.probes.count) probes")
            var events = EventLog(files: fleet.eventFiles)
            events.mark()
            let results = try runner.run(round.probes)
            let checked = try checkEvents(results, events: events)
            for item in checked {
                if let line = item.failureLine { failures.append(line) } else { passed += 1 }
            }
            if options.explain && options.startAgents {
                let explained = try ExplainCheck(executable: options.executable, topology: topology, fleet: fleet).check(results)
                failures += explained
                progress("round \(index + 1): podgate explain agreed with \(results.count - explained.count) of \(results.count) probes")
            }
            report += MatrixReport.render(title: "round \(index + 1) (\(round.title))", checked: checked)
        }
        for line in failures { Files.standardOutput(line + "\n") }
        Files.standardOutput("\(plan.scenario.name): . allowed  X denied  ! not as expected  ? probe failed  - not probed\n")
        Files.standardOutput(report)
        Files.standardOutput("\(passed) passed, \(failures.count) failed\n")
        if options.hold { try hold(fleet, topology: topology) }
        return failures.isEmpty ? 0 : 1
    }

    /// `--hold`: keeps everything up until SIGINT/SIGTERM, saying how to reach each agent.
    static func hold(_ fleet: AgentFleet, topology: Topology) throws {
        var text = "holding the cluster up; press Ctrl-C (or send SIGTERM) to clean up and exit\n"
        for agent in fleet.agents {
            let health = ((try? Files.read(AgentDefaults.healthAddressFile(stateDirectory: agent.stateDirectory))) ?? "").trimmingWhitespace
            text += "node \(agent.node): --pin-dir \(agent.pinDirectory) --state-dir \(agent.stateDirectory)\n"
                + "  socket \(agent.stateDirectory)/agent.sock, metrics http://\(health)/metrics, log \(agent.log)\n"
        }
        for (ref, pod) in topology.pods.sorted(by: { $0.key < $1.key }) {
            text += "pod \(ref) on \(pod.pod.node): \(pod.addresses.map(\.description).joined(separator: " ")) --cgroup \(pod.cgroup) --netns \(pod.netns)\n"
        }
        Files.standardOutput(text)
        while Interrupts.signal == nil {
            for agent in fleet.agents {
                if let status = Processes.poll(agent.pid) {
                    throw SimError("agent of node \(agent.node) exited (\(status)) while holding:\n\(fleet.tail(agent.log))")
                }
            }
            usleep(100_000)
        }
    }

    static func placements(_ round: Round) -> [PodRef: (node: String, addresses: [IPAddress])] {
        var out: [PodRef: (node: String, addresses: [IPAddress])] = [:]
        for pod in round.pods { out[pod.ref] = (pod.node, round.addresses[pod.ref] ?? []) }
        return out
    }

    /// Brings the topology's pods to the round's: additions before the agents
    /// hear of them (their cgroups must exist), removals after.
    static func sync(_ topology: Topology, to round: Round, helper: HelperLauncher, state: RunState, removing: Bool) throws {
        let wanted = Dictionary(uniqueKeysWithValues: round.pods.map { ($0.ref, $0) })
        for (ref, handle) in topology.pods {
            let stale = wanted[ref] == nil || wanted[ref] != handle.pod || round.addresses[ref] != handle.addresses
            if stale && (removing || wanted[ref] != nil) { try topology.removePod(ref) }
        }
        guard !removing else { return }
        // A deleted pod whose address a new pod takes goes first, or the new
        // pod's routes collide with its own (`route add ...: File exists`).
        let incoming = Set(round.pods.filter { topology.pods[$0.ref] == nil }.flatMap { round.addresses[$0.ref] ?? [] })
        for (ref, handle) in topology.pods where wanted[ref] == nil && !incoming.isDisjoint(with: handle.addresses) {
            try topology.removePod(ref)
        }
        for pod in round.pods where topology.pods[pod.ref] == nil {
            let handle = try topology.addPod(pod, addresses: round.addresses[pod.ref] ?? [])
            if let pid = try helper.startListener(handle, state: state) { topology.setListener(pid, for: pod.ref) }
        }
    }

    /// Pairs each result with the event it asked for; waits up to 1 s for late events.
    static func checkEvents(_ results: [ProbeResult], events: EventLog) throws -> [Checked] {
        let wanted = results.filter { $0.probe.event != nil }
        var seen = events.eventsSinceMark()
        let deadline = Clock.now + 1
        while !wanted.allSatisfy({ result in seen.contains { $0.matches(result.probe.event!, of: result) } }), Clock.now < deadline {
            try Interrupts.check()
            usleep(50_000)
            seen = events.eventsSinceMark()
        }
        return results.map { result in
            guard let check = result.probe.event else { return Checked(result: result, eventProblem: nil) }
            if seen.contains(where: { $0.matches(check, of: result) }) { return Checked(result: result, eventProblem: nil) }
            let related = seen.filter { $0.concerns(result) }.map(\.checkLine)
            let verdict = result.probe.verdict == .allow ? "audit" : "denied"
            return Checked(result: result, eventProblem: "expected a \(check.side.rawValue) \(verdict) \(check.reason) event; saw "
                           + (related.isEmpty ? "none for \(result.destination):\(result.probe.port)" : related.joined(separator: "; ")))
        }
    }
}
