import PodgateLab
#if canImport(Glibc)
import Glibc
#endif

/// Two pods, the same for every configuration: each a network namespace
/// (eth0 of one veth pair joins them, 10.99.0.1 and 10.99.0.2) and its own
/// cgroup below `<sandbox>/pods`, named as local mode names pod cgroups
/// (`<namespace>_<name>`), so the real agent can run on it too.
final class BenchTopology {
    static let clientAddress = "10.99.0.1"
    static let serverAddress = "10.99.0.2"
    static let port = 8080
    static let deniedPort = 9090

    let sandbox: Sandbox
    let executable: String
    let clientNetns: String
    let serverNetns: String
    let podsCgroup: String
    let clientCgroup: String
    let serverCgroup: String
    /// The CPUs the client and the server are pinned to (nil: not pinned).
    var clientCPU: Int?
    var serverCPU: Int?

    init(sandbox: Sandbox, executable: String) {
        self.sandbox = sandbox
        self.executable = executable
        clientNetns = sandbox.id + "-cli"
        serverNetns = sandbox.id + "-srv"
        podsCgroup = sandbox.cgroupRoot + "/pods"
        clientCgroup = podsCgroup + "/bench_client"
        serverCgroup = podsCgroup + "/bench_server"
    }

    func build() throws {
        try Files.makeDirectories(clientCgroup)
        try Files.makeDirectories(serverCgroup)
        try Files.makeDirectories(sandbox.cgroupRoot + "/agent")
        try sandbox.addNetns(clientNetns)
        try sandbox.addNetns(serverNetns)
        try sandbox.ip.addVethPair(VethEnd(netns: clientNetns, link: "eth0", addresses: [Self.clientAddress + "/24"]),
                                   VethEnd(netns: serverNetns, link: "eth0", addresses: [Self.serverAddress + "/24"]))
        // The client opens tens of thousands of connections: every port, and reuse of TIME_WAIT ones.
        try sysctl(clientNetns, ["net.ipv4.ip_local_port_range=1024 65000", "net.ipv4.tcp_tw_reuse=1"])
        try sysctl(serverNetns, ["net.core.somaxconn=4096"])
        try startServer()
    }

    func sysctl(_ netns: String, _ settings: [String]) throws {
        try InPodHelper.sysctl(executable: executable, netns: netns, settings)
    }

    /// Runs a tool (a firewall loader) inside a pod's network namespace, through the in-pod helper.
    func inPod(_ netns: String, _ command: [String]) throws {
        try Processes.check(executable, ["sim-helper", "exec", "--cgroup", "-", "--netns", netns, "--"] + command)
    }

    /// The servers join their cgroup before they open their listeners: one on
    /// the allowed port, one on the denied port (a cgroup program only sees a
    /// SYN that reaches a listening socket of its cgroup).
    func startServer() throws {
        for port in [Self.port, Self.deniedPort] {
            try InPodHelper.startServing(executable: executable, ["serve", "--cgroup", serverCgroup, "--netns", serverNetns,
                                                                  "--port", String(port)] + (serverCPU.map { ["--cpu", String($0)] } ?? []),
                                         what: "the bench server on port \(port)", log: "\(sandbox.tmp)/server-\(port).log")
        }
    }

    /// One client process in the client pod; returns its output line's numbers.
    /// `cpu`: the CPU time (ns) the client and the server used during the measured part.
    func client(_ mode: String, seconds: Double, warmup: Double = 0, to address: String = BenchTopology.serverAddress,
                port: Int = BenchTopology.port) throws -> (count: Double, nanoseconds: Double, errors: Double, cpu: Double) {
        try Interrupts.check()
        let output = try Processes.check(executable, ["sim-helper", mode, "--cgroup", clientCgroup, "--netns", clientNetns,
                                                      "--to", address, "--port", String(port), "--seconds", String(seconds)]
                                                     + (warmup > 0 ? ["--warmup", String(warmup)] : [])
                                                     + (clientCPU.map { ["--cpu", String($0)] } ?? []))
        let numbers = output.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Double($0) }
        guard numbers.count >= 4 else { throw LabError("client \(mode) printed \(output)") }
        return (numbers[0], numbers[1], numbers[2], numbers[3])
    }

    /// Times `count` refused connects to the denied port: (median ms, what the client saw).
    func deniedConnect(count: Int, timeoutMs: Int, port: Int = BenchTopology.deniedPort) throws -> [(ms: Double, errno: Int32)] {
        try Interrupts.check()
        let output = try Processes.check(executable, ["sim-helper", "deny", "--cgroup", clientCgroup, "--netns", clientNetns,
                                                      "--to", Self.serverAddress, "--port", String(port),
                                                      "--count", String(count), "--timeout-ms", String(timeoutMs)])
        return output.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count == 2, let ns = Double(parts[0]), let code = Int32(parts[1]) else { return nil }
            return (ns / 1e6, code)
        }
    }
}
