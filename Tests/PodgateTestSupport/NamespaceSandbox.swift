import PodgateLab

/// The network namespaces and helper processes one kernel test makes, all
/// named with a `podgate-t-` prefix (the simulator's checks skip a test's
/// own) and removed by `tearDown()` (call it from a defer: also on failure).
public final class NamespaceSandbox: @unchecked Sendable {  // used from one test at a time
    public let tag = String(UInt32.random(in: 0...UInt32.max), radix: 36)
    public private(set) var namespaces: [String] = []
    public private(set) var helpers: [HelperProcess] = []

    public init() {}

    /// A network namespace with loopback up: `podgate-t-<tag>-<suffix>`.
    public func makeNamespace(_ suffix: String) throws -> String {
        let name = "podgate-t-\(tag)-\(suffix)"
        namespaces.append(name)  // recorded first: a half-made one is removed too
        try IPCommand().addNetns(name)
        return name
    }

    /// A veth between two namespaces, both ends up, with `addresses` (CIDR,
    /// one per end) if given; returns the interface names.
    @discardableResult
    public func link(_ a: String, _ b: String, names: (String, String), addresses: (String, String)? = nil) throws -> (a: String, b: String) {
        try IPCommand().addVethPair(VethEnd(netns: a, link: names.0, addresses: addresses.map { [$0.0] } ?? []),
                                    VethEnd(netns: b, link: names.1, addresses: addresses.map { [$0.1] } ?? []))
        return names
    }

    /// Starts `podgate sim-helper session CGROUP|- NETNS MODE ARGS...`: it
    /// joins `cgroup` (if any) FIRST, then enters `namespace`, prints
    /// `pid N`, then runs the mode (sockets belong to the cgroup they are made in).
    /// `netnsFirst`: enter the namespace before joining the cgroup (a container's process).
    public func session(cgroup: String?, namespace: String, netnsFirst: Bool = false, _ arguments: [String]) throws -> HelperProcess {
        let order = netnsFirst ? ["--netns-first"] : []
        let helper = try HelperProcess(executable: try KernelGate.executable(),
                                       arguments: ["sim-helper", "session"] + order + [cgroup ?? "-", namespace] + arguments)
        helpers.append(helper)
        return helper
    }

    /// Starts `podgate ARGUMENTS...` (a sim-helper of another kind, say), stopped in `tearDown()`.
    public func podgate(_ arguments: [String]) throws -> HelperProcess {
        let helper = try HelperProcess(executable: try KernelGate.executable(), arguments: arguments)
        helpers.append(helper)
        return helper
    }

    public func tearDown() {
        for helper in helpers { helper.stop() }
        helpers.removeAll()
        if let ip = try? IPCommand() { for namespace in namespaces { _ = ip.deleteNetns(namespace) } }
        namespaces.removeAll()
    }
}
