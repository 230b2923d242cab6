#if canImport(Glibc)
import Glibc
#endif
import PodgateModel

/// One real `podgate agent` per simulated node, in local mode, reading the
/// run's manifest directory. Started through `sim-helper exec` so each sits in
/// its node's `agent` cgroup (found and stopped by cleanup even after a crash).
final class AgentFleet {
    struct Agent {
        let node: String
        let pid: pid_t
        let stateDirectory: String
        let pinDirectory: String
        let eventsFile: String
        let log: String
    }
    private(set) var agents: [Agent] = []
    let manifests: AgentManifestDirectory

    init(manifests: AgentManifestDirectory) { self.manifests = manifests }

    var eventFiles: [String] { agents.map(\.eventsFile) }

    func start(topology: Topology, options: ScenarioAgentOptions, executable: String, tmp: String, state: RunState) throws {
        for node in topology.plan.nodes {
            let dir = "\(tmp)/\(node)"
            let stateDirectory = "\(dir)/state"
            try Files.makeDirectories(stateDirectory)
            let pin = "\(AgentDefaults.pinDirectory)-sim-\(topology.run)-\(node)"
            try state.recordPin(pin)
            let addresses = topology.plan.nodeAddresses(node)!
            var arguments = ["agent", "--manifests", manifests.path, "--node-name", node,
                             "--cgroup-root", topology.podsCgroup(node), "--pin-dir", pin,
                             "--state-dir", stateDirectory, "--events-file", "\(dir)/events.jsonl",
                             "--health-address", "127.0.0.1:0",
                             "--node-address", addresses.ipv4.description, "--node-address", addresses.ipv6.description]
            arguments += options.arguments
            let log = "\(dir)/agent.log"
            let child = try Processes.spawn(executable, ["sim-helper", "exec", "--cgroup", "\(topology.nodeCgroup(node))/agent",
                                                         "--", executable] + arguments, stdout: .file(log), stderr: .file(log))
            state.recordProcess(child.pid)
            agents.append(Agent(node: node, pid: child.pid, stateDirectory: stateDirectory, pinDirectory: pin, eventsFile: "\(dir)/events.jsonl", log: log))
        }
    }

    /// Waits until every agent has written the current generation's maps.
    func waitForGeneration(timeout: Double) throws {
        let generation = manifests.generation
        let deadline = Clock.now + timeout
        var pending = agents
        while !pending.isEmpty {
            try Interrupts.check()
            pending.removeAll { agent in
                let text = (try? Files.read("\(agent.stateDirectory)/applied-generation")) ?? ""
                return Int(text.trimmingWhitespace).map { $0 >= generation } ?? false
            }
            for agent in pending {
                if let status = Processes.poll(agent.pid) {
                    throw SimError("agent of node \(agent.node) exited (\(status)) before applying generation \(generation):\n\(tail(agent.log))")
                }
            }
            if pending.isEmpty { break }
            if Clock.now > deadline {
                let agent = pending[0]
                throw SimError("agent of node \(agent.node) did not apply generation \(generation) within \(Int(timeout)) s:\n\(tail(agent.log))")
            }
            usleep(20_000)
        }
    }

    func tail(_ path: String, lines: Int = 20) -> String {
        let text = (try? Files.read(path)) ?? "(no log at \(path))"
        return text.split(separator: "\n").suffix(lines).map { "  | " + $0 }.joined(separator: "\n")
    }
}

/// The directory the agents read: one JSON file per object, then `.podgate-generation`.
final class AgentManifestDirectory {
    let path: String
    private(set) var generation = 0
    private var written: [String: String] = [:]

    init(path: String) throws {
        self.path = path
        try Files.makeDirectories(path)
    }

    /// Writes the round's objects (Pods with node and addresses filled in),
    /// removes files of deleted ones, and bumps the generation last.
    func write(_ manifests: ScenarioManifests, placements: [PodRef: (node: String, addresses: [IPAddress])]) throws {
        var wanted: [String: String] = [:]
        for (key, document) in manifests.documents {
            var value = document
            if key.kind == "Pod", let placed = placements[PodRef(namespace: key.namespace ?? "default", name: key.name)] {
                value = document.placingPod(node: placed.node, addresses: placed.addresses)
            }
            wanted[AgentManifestDirectory.fileName(key)] = JSONEmitter.emit(value) + "\n"
        }
        for (name, text) in wanted where written[name] != text { try Files.write("\(path)/\(name)", text) }
        for name in written.keys where wanted[name] == nil { unlink("\(path)/\(name)") }
        written = wanted
        generation += 1
        try Files.write("\(path)/.podgate-generation", "\(generation)\n")
    }

    static func fileName(_ key: ScenarioObjectKey) -> String {
        let raw = "\(key.kind)_\(key.namespace ?? "")_\(key.name)".lowercased()
        return String(raw.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "-" }) + ".json"
    }
}
