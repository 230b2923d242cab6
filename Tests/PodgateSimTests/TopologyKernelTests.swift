import PodgateTestSupport
#if canImport(Glibc)
import Glibc
#endif
import Testing
import PodgateModel
@testable import PodgateSim

/// Real namespaces, veths, cgroups and helper processes; no agent, so every
/// connection must get through, in every family, both protocols, every direction.
extension KernelSuites {
@Suite struct TopologyKernelTests {
    struct Built {
        let run: String
        let state: RunState
        let topology: Topology
        let helper: HelperLauncher
        let ip: IPCommand
    }

    static let pods = [
        SimPod(ref: PodRef(namespace: "n1", name: "web"), node: "a", dualStack: true,
               ports: [ContainerPort(port: 80), ContainerPort(port: 53, transport: .udp)]),
        SimPod(ref: PodRef(namespace: "n1", name: "db"), node: "b", dualStack: true,
               ports: [ContainerPort(port: 5432), ContainerPort(port: 5432, transport: .udp)]),
        SimPod(ref: PodRef(namespace: "n2", name: "v4only"), node: "a",
               ports: [ContainerPort(port: 8080), ContainerPort(port: 8080, transport: .udp)]),
        SimPod(ref: PodRef(namespace: "n2", name: "client"), node: "b", dualStack: true),
    ]
    static let externals = [External(name: "internet", address: IPAddress("198.51.100.9")!),
                            External(name: "partner", address: IPAddress("2001:db8::9")!)]

    /// Builds the topology; on a throw midway, removes what was built before rethrowing.
    func build(failAfterFirstPod: Bool = false) throws -> Built {
        let executable = try KernelGate.executable()
        #expect(KernelGate.missing == nil)
        let run = SimRunner.randomRunID()
        let ip = try IPCommand()
        let state = try RunState(run: run)
        do {
            let tmp = "/tmp/podgate-sim-\(run)"
            try state.recordTmp(tmp)
            try Files.makeDirectories(tmp)
            var plan = try AddressPlan(nodes: ["a", "b"], externals: Self.externals)
            try plan.place(Self.pods)
            let helper = HelperLauncher(executable: executable, logDirectory: tmp)
            let topology = Topology(run: run, ip: ip, state: state, helper: helper, plan: plan, cgroup2: try SimCgroups.mountPoint())
            try topology.buildBase()
            for pod in Self.pods {
                let handle = try topology.addPod(pod, addresses: plan.pods[pod.ref]!)
                if let pid = try helper.startListener(handle, state: state) { topology.setListener(pid, for: pod.ref) }
                if failAfterFirstPod { throw SimError("failing on purpose after the first pod") }
            }
            return Built(run: run, state: state, topology: topology, helper: helper, ip: ip)
        } catch {
            state.removeAll(ip: ip)
            throw error
        }
    }

    func leftovers(_ run: String) -> [String] {
        var found: [String] = []
        found += Files.list("/run/netns").filter { $0.hasPrefix("podgate-\(run)") }
        let cgroup2 = (try? SimCgroups.mountPoint()) ?? "/sys/fs/cgroup"
        found += Files.list(cgroup2).filter { $0 == "podgate-sim-\(run)" }
        found += Files.list("/tmp").filter { $0 == "podgate-sim-\(run)" }
        found += Files.list(RunState.directory).filter { $0.hasPrefix(run) }
        return found
    }

    @Test func everyPairConnectsInEveryFamilyWithoutAnAgent() throws {
        let started = Clock.now
        let built = try build()
        let buildTime = Clock.now - started
        defer {
            let teardown = Clock.now
            let problems = built.state.removeAll(ip: built.ip)
            let message = "topology: built in \(Int(buildTime * 1000)) ms, removed in \(Int((Clock.now - teardown) * 1000)) ms\n"
            _ = message.withCString { write(2, $0, strlen($0)) }
            #expect(problems.isEmpty)
            #expect(leftovers(built.run).isEmpty)
        }
        var sources: [Endpoint] = Self.pods.map { .pod($0.ref) } + [.host(node: "a"), .host(node: "b")]
        sources += Self.externals.map { .external($0.name) }
        var probes: [Probe] = []
        for source in sources {
            for target in Self.pods {
                let to = built.topology.pods[target.ref]!
                for port in target.ports {
                    for family in AddressFamily.allCases {
                        let wantsIPv6 = family == .ipv6
                        guard to.addresses.contains(where: { $0.isIPv4 != wantsIPv6 }) else { continue }
                        switch source {
                        case .pod(let ref):
                            guard ref != target.ref, built.topology.pods[ref]!.addresses.contains(where: { $0.isIPv4 != wantsIPv6 }) else { continue }
                        case .external(let name):
                            guard Self.externals.first(where: { $0.name == name })!.address.isIPv4 != wantsIPv6 else { continue }
                        case .host: break
                        }
                        probes.append(Probe(from: source, to: target.ref, port: port.port, transport: port.transport,
                                            family: family, verdict: .allow, field: "\(source)->\(target.ref):\(port.port)/\(port.transport.rawValue)/\(family.rawValue)"))
                    }
                }
            }
        }
        // Below the 1 s SYN retransmit: a first packet lost to neighbour trouble fails the test.
        let runner = ProbeRunner(topology: built.topology, helper: built.helper, timeout: 0.8)
        let results = try runner.run(probes)
        #expect(results.count == probes.count)
        #expect(probes.count > 60)
        for result in results where result.allowed != true {
            Issue.record("\(result.probe.field): \(result.how)")
        }
    }

    @Test func cleanupAfterAThrowMidwayLeavesNothing() throws {
        let statesBefore = Set(simStateFiles())
        let netnsBefore = Set(simNamespaces())
        #expect(throws: SimError.self) { try build(failAfterFirstPod: true) }
        #expect(Set(simStateFiles()).subtracting(statesBefore).isEmpty)
        #expect(Set(simNamespaces()).subtracting(netnsBefore).isEmpty)
    }

    @Test func cleanupCommandRemovesTheLeftoversOfARunThatDidNotCleanUp() throws {
        let built = try build()
        // As after a crash: processes and objects in place, only the state file knows them.
        let leftoverPids = built.state.pids.map(\.pid)
        let result = RunState.cleanupLeftovers(log: { _ in })
        #expect(result.problems.isEmpty)
        #expect(leftovers(built.run).isEmpty)
        for pid in leftoverPids { #expect(Processes.poll(pid) != nil || kill(pid, 0) != 0) }
    }

    @Test func probesOfPortsWithoutAListenerAreRefusedNotAllowed() throws {
        let built = try build()
        defer { built.state.removeAll(ip: built.ip) }
        let probes = [Probe(from: .pod(PodRef(namespace: "n2", name: "client")), to: PodRef(namespace: "n1", name: "web"),
                            port: 81, verdict: .deny, field: "closed-port")]
        let results = try ProbeRunner(topology: built.topology, helper: built.helper, timeout: 1).run(probes)
        #expect(results[0].allowed == false)
        #expect(results[0].how.contains("refused"))
    }
}
}
