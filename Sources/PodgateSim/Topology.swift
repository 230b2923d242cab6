#if canImport(Glibc)
import Glibc
#endif
import PodgateModel

/// The simulated cluster as kernel objects. Layout (every name carries the run id):
///
///     podgate-RUN-fabric         joins nodes and externals; routes every pod
///                                address to its node's host address
///     podgate-RUN-node-NAME      a node: eth0 to the fabric holds 172.31.0.N and
///                                fd00:31::N; forwards to its pods' veths
///     podgate-RUN-pod-K          a pod: eth0 holds its /32 and /128, default
///                                route via 169.254.1.1 / fe80::1 (node side)
///     podgate-RUN-ext-K          an external: eth0 holds its one address
///
/// Every point-to-point link is the same: the upper side holds a gateway
/// address, the lower side its own addresses and default routes via the
/// gateway. Gateways are 169.254.1.1 / fe80::1 on a node's pod links and
/// 169.254.2.1 / fe80::2:1 on the fabric's: a node drops ARP requests whose
/// sender is one of its own addresses, so the fabric must not share the nodes'. Node-side routes to pods carry `src` = the node address, so `host/N`
/// probes come from the node. No link touches the root namespace.
final class Topology {
    let run: String
    let ip: IPCommand
    let state: CleanupRegistry
    let helper: HelperLauncher
    let plan: AddressPlan
    let cgroupRoot: String     // <cgroup2>/podgate-sim-RUN

    struct PodHandle {
        let pod: SimPod
        let index: Int
        let netns: String      // the node's for hostNetwork pods
        let cgroup: String
        let addresses: [IPAddress]
        var listener: pid_t?
    }
    private(set) var pods: [PodRef: PodHandle] = [:]
    private var nextPodIndex = 0

    init(run: String, ip: IPCommand, state: CleanupRegistry, helper: HelperLauncher, plan: AddressPlan, cgroup2: String) {
        self.run = run
        self.ip = ip
        self.state = state
        self.helper = helper
        self.plan = plan
        cgroupRoot = "\(cgroup2)/podgate-sim-\(run)"
    }

    var fabric: String { "podgate-\(run)-fabric" }
    func nodeNetns(_ node: String) -> String { "podgate-\(run)-node-\(node)" }
    func nodeCgroup(_ node: String) -> String { "\(cgroupRoot)/\(node)" }
    /// The agent's --cgroup-root: its programs attach here and see only this node's pods.
    func podsCgroup(_ node: String) -> String { "\(cgroupRoot)/\(node)/pods" }
    /// Host probes run here: inside the run's tree (so cleanup finds them) but outside `pods`.
    func hostCgroup(_ node: String) -> String { "\(cgroupRoot)/\(node)/host" }
    var externalCgroup: String { "\(cgroupRoot)/external" }
    func externalNetns(_ name: String) -> String? {
        plan.externals.firstIndex(where: { $0.name == name }).map { "podgate-\(run)-ext-\($0)" }
    }
    /// Interface names live inside our namespaces; still prefixed, and <= 15 characters.
    private func linkName(_ kind: Character, _ index: Int) -> String { "pg\(run)\(kind)\(index)" }

    /// Fabric, nodes and externals: everything but the pods.
    func buildBase() throws {
        try state.recordCgroup(cgroupRoot)
        try CgroupTree.create(externalCgroup)
        try addNetns(fabric, router: true)
        for (index, node) in plan.nodes.enumerated() {
            let addresses = plan.nodeAddresses(node)!
            let netns = nodeNetns(node)
            try addNetns(netns, router: true)
            for dir in [podsCgroup(node), hostCgroup(node), "\(nodeCgroup(node))/agent"] { try CgroupTree.create(dir) }
            let link = linkName("n", index)
            try connect(upper: fabric, link: link, lower: netns, addresses: [addresses.ipv4, addresses.ipv6])
        }
        for (index, external) in plan.externals.enumerated() {
            let netns = "podgate-\(run)-ext-\(index)"
            try addNetns(netns, router: false)
            try connect(upper: fabric, link: linkName("x", index), lower: netns, addresses: [external.address])
        }
    }

    private func addNetns(_ name: String, router: Bool) throws {
        try state.recordNetns(name)
        try ip.addNetns(name)
        // No duplicate address detection on links made here later: a
        // tentative link-local address delays the first IPv6 packets by
        // about a second, longer than a probe waits.
        var settings = ["net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0"]
        if router {
            settings += [
                "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1",
                "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0",
            ]
        }
        try InPodHelper.sysctl(executable: helper.executable, netns: name, settings)
    }

    /// A point-to-point link: `upper` routes `addresses` down to `lower`, which
    /// holds them and sends everything else up.
    private func connect(upper: String, link: String, lower: String, addresses: [IPAddress],
                         upperSource: (ipv4: IPAddress, ipv6: IPAddress)? = nil) throws {
        let gateway = upper == fabric ? (ipv4: "169.254.2.1", ipv6: "fe80::2:1") : (ipv4: "169.254.1.1", ipv6: "fe80::1")
        try ip.addVethPair(VethEnd(netns: upper, link: link, addresses: [gateway.ipv4 + "/32", gateway.ipv6 + "/64"]),
                           VethEnd(netns: lower, link: "eth0", addresses: addresses.map(\.prefixText)), nodad: true)
        try ip(lower, "-4", "route", "add", "default", "via", gateway.ipv4, "dev", "eth0", "onlink")
        try ip(lower, "-6", "route", "add", "default", "via", gateway.ipv6, "dev", "eth0")
        for address in addresses {
            var route = [address.isIPv4 ? "-4" : "-6", "route", "add", address.prefixText, "dev", link]
            if let source = upperSource { route += ["src", (address.isIPv4 ? source.ipv4 : source.ipv6).description] }
            try ip.run(["-n", upper] + route)
        }
    }

    /// A pod: its cgroup, and (unless hostNetwork) its namespace, veth and routes on the node and fabric.
    func addPod(_ pod: SimPod, addresses: [IPAddress]) throws -> PodHandle {
        let index = nextPodIndex
        nextPodIndex += 1
        let cgroup = "\(podsCgroup(pod.node))/\(pod.ref.namespace)_\(pod.ref.name)"
        try CgroupTree.create(cgroup)
        var handle = PodHandle(pod: pod, index: index, netns: nodeNetns(pod.node), cgroup: cgroup, addresses: addresses)
        if !pod.hostNetwork {
            let netns = "podgate-\(run)-pod-\(index)"
            handle = PodHandle(pod: pod, index: index, netns: netns, cgroup: cgroup, addresses: addresses)
            try addNetns(netns, router: false)
            let node = plan.nodeAddresses(pod.node)!
            try connect(upper: nodeNetns(pod.node), link: linkName("p", index), lower: netns,
                        addresses: addresses, upperSource: node)
            let uplink = linkName("n", plan.nodes.firstIndex(of: pod.node)!)
            for address in addresses {
                try ip.run(["-n", fabric, address.isIPv4 ? "-4" : "-6", "route", "add", address.prefixText,
                            "via", (address.isIPv4 ? node.ipv4 : node.ipv6).description, "dev", uplink, "onlink"])
            }
        }
        pods[pod.ref] = handle
        return handle
    }

    func setListener(_ pid: pid_t, for ref: PodRef) { pods[ref]?.listener = pid }

    /// Takes a pod away (a step deleted or moved it): listener, routes, namespace, cgroup.
    func removePod(_ ref: PodRef) throws {
        guard let handle = pods.removeValue(forKey: ref) else { return }
        if let pid = handle.listener {
            Processes.stop(pid, grace: 0.5)
            state.forgetProcess(pid)
        }
        if !handle.pod.hostNetwork {
            for address in handle.addresses {
                try? ip.run(["-n", fabric, address.isIPv4 ? "-4" : "-6", "route", "del", address.prefixText])
            }
            if let problem = ip.deleteNetns(handle.netns) { throw LabError(problem) }
            state.forgetNetns(handle.netns)
        }
        CgroupTree.killAll(handle.cgroup)
        if let problem = CgroupTree.removeTree(handle.cgroup).first { throw LabError(problem) }
    }
}

extension IPAddress {
    /// `10.244.0.2/32`, `fd00::2/128`.
    var prefixText: String { isIPv4 ? "\(self)/32" : "\(self)/128" }
}
