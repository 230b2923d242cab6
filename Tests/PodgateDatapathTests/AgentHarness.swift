import Foundation
import PodgateCgroups
import PodgateTestSupport
import Testing
@testable import PodgateDatapath

/// A real `podgate agent` (the built executable) in local mode over a
/// KernelSandbox: pods are cgroups `<sandbox>/demo_<name>` and addresses in
/// two namespaces joined by a veth. Clients (10.201.0.1, .3, .5, .6) sit in
/// namespace a, servers (10.201.0.2, .4) in namespace b. Everything it
/// creates is removed by `tearDown()` (the sandbox's, plus its files).
final class AgentHarness: @unchecked Sendable {  // used from one test at a time
    static var executable: String? { PodgateExecutable.path }

    let sandbox: KernelSandbox
    let directory: String
    let manifests: String
    let state: String
    let clients: String
    let servers: String
    private(set) var agent: AgentProcess?
    private var generation = 0
    var extraArguments: [String] = []
    /// Added to the agent's environment.
    var extraEnvironment: [String: String] = [:]

    init() throws {
        guard Self.executable != nil else {
            throw CommandError(message: "the agent tests: " + PodgateExecutable.missing)
        }
        sandbox = try KernelSandbox()
        directory = "/tmp/podgate-agent-test-\(sandbox.tag)"
        manifests = directory + "/manifests"
        state = directory + "/state"
        try FileManager.default.createDirectory(atPath: manifests, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        (clients, servers) = try sandbox.makeVethPair()
        for address in ["10.201.0.3", "10.201.0.5", "10.201.0.6"] {
            try Command.run(["ip", "-n", clients, "addr", "add", "\(address)/24", "dev", "pgA\(sandbox.tag.prefix(8))"])
        }
        try Command.run(["ip", "-n", servers, "addr", "add", "10.201.0.4/24", "dev", "pgB\(sandbox.tag.prefix(8))"])
    }

    func tearDown() {
        stopAgent()
        sandbox.tearDown()  // kills children, deletes namespaces, cleans pins
        // Pod cgroups below the sandbox cgroup are removed with it (Cgroups.remove is recursive).
        try? FileManager.default.removeItem(atPath: directory)
    }

    func cgroup(_ pod: String) -> String { sandbox.cgroupPath + "/demo_" + pod }

    func makePodCgroup(_ pod: String) throws { try Cgroups.create(cgroup(pod)) }

    /// Writes the objects (file name -> YAML) and bumps the generation.
    func write(_ files: [String: String]) throws {
        for (name, text) in files { try text.write(toFile: manifests + "/" + name, atomically: true, encoding: .utf8) }
        generation += 1
        try "\(generation)\n".write(toFile: manifests + "/.podgate-generation", atomically: true, encoding: .utf8)
    }

    func startAgent() throws {
        agent = try AgentProcess(executable: Self.executable!,
                                 arguments: ["--manifests", manifests, "--cgroup-root", sandbox.cgroupPath,
                                             "--pin-dir", sandbox.pinDirectory, "--state-dir", state, "--node-name", "test-node",
                                             "--events-file", directory + "/events.jsonl", "--health-address", "127.0.0.1:0"] + extraArguments,
                                 logPath: directory + "/agent.log", environment: extraEnvironment)
    }

    /// SIGKILL: no shutdown code runs, exactly like a crash or an OOM kill.
    func killAgent() { agent?.stopNow() }

    func stopAgent() { agent?.stopBlocking(grace: 3) }

    var appliedGeneration: Int {
        (try? String(contentsOfFile: state + "/applied-generation", encoding: .utf8))
            .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
    }

    func waitApplied(timeout: Double = 10) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while appliedGeneration < generation {
            if let agent, !agent.isRunning { throw CommandError(message: "the agent exited:\n\(log)") }
            if Date() > deadline { throw CommandError(message: "generation \(generation) not applied in \(timeout) s:\n\(log)") }
            usleep(5_000)
        }
    }

    /// `waitApplied`, sleeping without blocking a thread of the cooperative pool.
    func waitAppliedAsync(timeout: Double = 30) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while appliedGeneration < generation {
            if let agent, !agent.isRunning { throw CommandError(message: "the agent exited:\n\(log)") }
            if Date() > deadline { throw CommandError(message: "generation \(generation) not applied in \(timeout) s:\n\(log)") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    var log: String { (try? String(contentsOfFile: directory + "/agent.log", encoding: .utf8)) ?? "" }

    func script(in pod: String, namespace: String, _ arguments: [String]) throws -> HelperProcess {
        try sandbox.session(cgroup: cgroup(pod), namespace: namespace, arguments)
    }

    /// Starts a continuous prober; returns it once it is ready.
    func loop(from pod: String, source: String, to destination: String, allowedPort: Int, deniedPort: Int, stopFile: String) throws -> HelperProcess {
        let prober = try script(in: pod, namespace: clients, ["loop", source, destination, "\(allowedPort)", "\(deniedPort)", stopFile, "300"])
        _ = prober.nextLine()
        guard prober.nextLine() == "ready" else { throw CommandError(message: "prober did not start") }
        return prober
    }

    func server(_ pod: String, address: String, ports: [Int]) throws {
        let server = try script(in: pod, namespace: servers, ["accept-loop", address] + ports.map(String.init))
        _ = server.nextLine()
        guard server.nextLine() == "ready" else { throw CommandError(message: "server \(pod) did not start") }
    }

    static func counts(_ line: String) -> [String: Int] { UpgradeAndCleanupTests.counts(line) }
    /// The counts line of a prober's output.
    static func summary(_ lines: [String]) -> [String: Int] {
        counts(lines.first { $0.contains("allowed_ok=") } ?? "")
    }
}

enum Manifests {
    static func namespace(defaultPolicy: String? = nil) -> String {
        let annotation = defaultPolicy.map { "\n  annotations: {config.linkerd.io/default-inbound-policy: \($0)}" } ?? ""
        return "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\(annotation)\n"
    }

    static func pod(_ name: String, ip: String, labels: [String: String], ports: [Int] = []) -> String {
        let labelText = labels.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        let portText = ports.isEmpty ? "" : ", ports: [" + ports.map { "{containerPort: \($0)}" }.joined(separator: ", ") + "]"
        return """
            apiVersion: v1
            kind: Pod
            metadata: {name: \(name), namespace: demo, uid: uid-\(name), labels: {\(labelText)}}
            spec: {containers: [{name: c\(portText)}]}
            status: {podIPs: [{ip: \(ip)}]}

            """
    }

    static func policy(_ name: String, target: String, ports: [Int], sources: [String]) -> String {
        let portText = ports.map { "{port: \($0)}" }.joined(separator: ", ")
        return """
            apiVersion: policy.linkerd.io/v1alpha1
            kind: NetworkAuthenticationPolicy
            metadata: {name: \(name), namespace: demo}
            spec:
              target: {selector: {matchLabels: {app: \(target)}}}
              ports: [\(portText)]
              sources:
              - podSelector:
                  matchExpressions: [{key: app, operator: In, values: [\(sources.joined(separator: ", "))]}]

            """
    }
}
