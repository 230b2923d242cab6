import PodgateModel

/// iproute2, run with argument arrays. Every command names its namespace with
/// `-n`, so nothing here ever changes the machine's root namespace.
public struct IPCommand: Sendable {
    public let path: String

    public init() throws {
        guard let found = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first(where: Files.exists) else {
            throw LabError("iproute2's `ip` was not found in /usr/sbin, /sbin, /usr/bin or /bin")
        }
        path = found
    }

    /// `ip -n NETNS ARGS...`; the error carries the command and ip's own message.
    public func callAsFunction(_ netns: String, _ arguments: String...) throws {
        try run(["-n", netns] + arguments)
    }

    public func run(_ arguments: [String]) throws {
        try Interrupts.check()
        let result = try Processes.run(path, arguments)
        guard result.status == 0 else {
            throw LabError("ip \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.output.trimmingWhitespace)")
        }
    }

    /// A named namespace with its loopback up. Record it for cleanup first.
    public func addNetns(_ name: String) throws {
        try run(["netns", "add", name])
        try self(name, "link", "set", "lo", "up")
    }

    /// Deleting a namespace also destroys the veth ends inside it. nil, or the problem.
    public func deleteNetns(_ name: String) -> String? {
        guard Files.exists("/run/netns/" + name) else { return nil }
        guard let result = try? Processes.run(path, ["netns", "delete", name]), result.status == 0 else {
            return "ip netns delete \(name) failed"
        }
        return nil
    }

    /// A veth pair born with one end in each namespace.
    public func addVeth(_ name: String, in netns: String, peer: String, peerNetns: String) throws {
        try self(netns, "link", "add", name, "type", "veth", "peer", "name", peer, "netns", peerNetns)
    }
}

/// One end of a veth pair: the namespace it lives in, its name there, and the
/// addresses (CIDR text, `10.99.0.1/24`) it holds.
public struct VethEnd: Sendable {
    public var netns: String
    public var link: String
    public var addresses: [String]
    public init(netns: String, link: String, addresses: [String]) {
        self.netns = netns
        self.link = link
        self.addresses = addresses
    }
}

extension IPCommand {
    /// Joins two namespaces with a veth pair: each end gets its addresses and
    /// goes up. `nodad`: no duplicate address detection, so IPv6 works at once.
    public func addVethPair(_ a: VethEnd, _ b: VethEnd, nodad: Bool = false) throws {
        try addVeth(a.link, in: a.netns, peer: b.link, peerNetns: b.netns)
        for end in [a, b] {
            for address in end.addresses {
                try run(["-n", end.netns, "address", "add", address, "dev", end.link] + (nodad ? ["nodad"] : []))
            }
            try self(end.netns, "link", "set", end.link, "up")
        }
    }
}
