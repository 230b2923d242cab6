import Testing
import PodgateModel
import PodgateManifests
@testable import PodgateCompiler

/// Every scenario of Tests/scenarios: the compiled maps (read the way
/// the kernel reads them) agree with the reference evaluator and with the
/// verdicts the scenario expects, after every step.
@Suite struct ScenarioTests {
    static let directory: String = {
        // Tests/PodgateCompilerTests/<file> -> Tests/scenarios (copies of the shared examples).
        let parts = "\(#filePath)".split(separator: "/").dropLast(2)
        return "/" + parts.joined(separator: "/") + "/scenarios"
    }()

    static let files: [ManifestFile] = (try? ManifestDirectory.readFiles(at: directory)) ?? []

    @Test func scenariosAreThere() { #expect(Self.files.count >= 10, "no scenarios in \(Self.directory)") }

    @Test(arguments: files.map(\.name))
    func mapsAgreeWithTheContract(_ name: String) throws {
        let file = try #require(Self.files.first { $0.name == name })
        let scenario = try #require(try YAMLParser.parse(bytes: file.bytes).first)
        let world = try ScenarioWorld(scenario)
        var snapshot = ManifestSet(text: scenario["manifests"]?.string ?? "", fileName: name).snapshot
        var compilation: Compilation?
        var checked = 0
        for (index, step) in ([scenario] + (scenario["steps"]?.list ?? [])).enumerated() {
            if index > 0 { world.apply(step, to: &snapshot) }
            let addressed = world.assignAddresses(snapshot)
            let next = PolicyCompiler.compile(addressed, settings: world.settings, localCgroups: cgroups(addressed),
                                              previous: compilation?.allocation ?? Allocation())
            if let previous = compilation {
                #expect(previous.state.applying(StateDiff.operations(from: previous.state, to: next.state)) == next.state)
            }
            compilation = next
            for expectation in step["expect"]?.list ?? [] {
                try world.check(expectation, snapshot: addressed, state: next.state, step: index)
                checked += 1
            }
        }
        #expect(checked > 0)
    }
}

/// What a scenario adds to its manifests: agent flags, external addresses,
/// and the addresses the simulator would give the pods.
struct ScenarioWorld {
    var settings: AgentSettings
    var externals: [String: IPAddress] = [:]
    static let nodeV4 = ip("10.0.0.1")
    static let nodeV6 = ip("fd00:ffff::1")

    init(_ scenario: DocumentValue) throws {
        let agent = scenario["agent"]
        settings = AgentSettings(
            defaultInboundPolicy: agent?["defaultInboundPolicy"]?.string.flatMap(DefaultInboundPolicy.init) ?? .allUnauthenticated,
            clusterNetworks: (agent?["clusterNetworks"]?.list ?? []).compactMap { $0.string.flatMap(CIDR.init) },
            nodeName: "a", nodeAddresses: [Self.nodeV4, Self.nodeV6])
        for external in scenario["externals"]?.list ?? [] {
            let name = try #require(external["name"]?.string)
            externals[name] = try #require(external["ip"]?.string.flatMap(IPAddress.init))
        }
    }

    /// Pods in PodRef order get 10.244.0.10, .11...; dual-stack ones also fd00:10:244::10...
    func assignAddresses(_ snapshot: ClusterSnapshot) -> ClusterSnapshot {
        var result = snapshot
        for (index, ref) in snapshot.pods.keys.sorted().enumerated() {
            guard var pod = result.pods[ref], pod.addresses.isEmpty, !pod.hostNetwork else { continue }
            pod.addresses = [ip("10.244.0.\(10 + index)")]
            if pod.annotations["sim.podgate.io/dual-stack"] == "true" { pod.addresses.append(ip("fd00:10:244::\(10 + index)")) }
            result.pods[ref] = pod
        }
        return result
    }

    func apply(_ step: DocumentValue, to snapshot: inout ClusterSnapshot) {
        if let text = step["apply"]?.string {
            let applied = ManifestSet(text: text).snapshot
            snapshot.namespaces.merge(applied.namespaces) { $1 }
            snapshot.pods.merge(applied.pods) { $1 }
            snapshot.policies.merge(applied.policies) { $1 }
        }
        for item in step["delete"]?.list ?? [] {
            let ref = PodRef(namespace: item["namespace"]?.string ?? "default", name: item["name"]?.string ?? "")
            switch item["kind"]?.string {
            case "Pod": snapshot.pods[ref] = nil
            case "Namespace": snapshot.namespaces[ref.name] = nil
            default: snapshot.policies[ref] = nil
            }
        }
    }

    func check(_ expectation: DocumentValue, snapshot: ClusterSnapshot, state: DesiredState, step: Int) throws {
        let from = try #require(expectation["from"]?.string)
        let to = try #require(expectation["to"]?.string)
        let port = try #require(expectation["port"]?.integer)
        let transport = expectation["protocol"]?.string.flatMap(TransportProtocol.init) ?? .tcp
        let familyText = expectation["family"]?.string ?? "ipv4"
        let family: IPFamily = familyText == "ipv6" ? .ipv6 : .ipv4
        let allowed = expectation["verdict"]?.string == "allow"
        let reason = expectation["event"]?["reason"]?.string
        let label = "step \(step): \(from) -> \(to):\(port)/\(transport.rawValue) \(familyText)"

        let targetRef = try Self.ref(to)
        let target = try #require(snapshot.pods[targetRef], "\(label)")
        let local = cgroups(snapshot)
        let (source, sourceAddress) = try self.source(from, snapshot: snapshot, family: family)
        let wireAddress = familyText == "ipv4-mapped" ? ip("::ffff:\(sourceAddress)") : sourceAddress

        let verdict = try #require(Decision.evaluate(snapshot, settings: settings, from: source, to: targetRef, port: port,
                                                     transport: transport, family: family), "\(label)")
        #expect(verdict.allowed == allowed, "Decision \(label): \(verdict)")
        if let reason { #expect(verdict.reason.description == reason, "Decision \(label): \(verdict)") }
        if reason != nil && allowed { #expect(verdict.audited, "\(label)") }

        let server = MapLookup.server(state, target: try #require(local[targetRef]), source: wireAddress,
                                      port: UInt16(port), transport: transport)
        #expect(server.allowed == verdict.allowed && server.reason == verdict.reason && server.audited == verdict.audited,
                "server \(label): \(server) vs \(verdict)")
        if case let .pod(ref) = source, let cgroup = local[ref],
           let destination = target.addresses.first(where: { $0.isIPv4 == (family == .ipv4) }),
           let client = MapLookup.client(state, source: cgroup, destination: destination, port: UInt16(port), transport: transport) {
            #expect(client.allowed == verdict.allowed && client.reason == verdict.reason, "client \(label): \(client)")
        }
    }

    func source(_ text: String, snapshot: ClusterSnapshot, family: IPFamily) throws -> (TrafficSource, IPAddress) {
        if text.hasPrefix("external/") {
            let address = try #require(externals[String(text.dropFirst("external/".count))], "\(text)")
            return (.address(address), address)
        }
        if text.hasPrefix("host/") {
            return (.node(String(text.dropFirst("host/".count))), family == .ipv4 ? Self.nodeV4 : Self.nodeV6)
        }
        let ref = try Self.ref(text)
        let pod = try #require(snapshot.pods[ref], "\(text)")
        let address = try #require(pod.addresses.first { $0.isIPv4 == (family == .ipv4) }, "\(text) has no address")
        return (.pod(ref), address)
    }

    static func ref(_ text: String) throws -> PodRef {
        let parts = text.split(separator: "/")
        try #require(parts.count == 2, "\(text)")
        return PodRef(namespace: String(parts[0]), name: String(parts[1]))
    }
}
