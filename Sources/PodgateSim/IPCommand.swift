/// iproute2, run with argument arrays. Every command names its namespace with
/// `-n`, so nothing here ever changes the machine's root namespace.
struct IPCommand: Sendable {
    let path: String

    init() throws {
        guard let found = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first(where: Files.exists) else {
            throw SimError("iproute2's `ip` was not found in /usr/sbin, /sbin, /usr/bin or /bin")
        }
        path = found
    }

    /// `ip -n NETNS ARGS...`; the error carries the command and ip's own message.
    func callAsFunction(_ netns: String, _ arguments: String...) throws {
        try run(["-n", netns] + arguments)
    }

    func run(_ arguments: [String]) throws {
        try Interrupts.check()
        let result = try Processes.run(path, arguments)
        guard result.status == 0 else {
            throw SimError("ip \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.output.trimmingWhitespace)")
        }
    }

    func addNetns(_ name: String) throws {
        try run(["netns", "add", name])
        try self(name, "link", "set", "lo", "up")
    }

    /// Deleting a namespace also destroys the veth ends inside it.
    func deleteNetns(_ name: String) -> String? {
        guard Files.exists("/run/netns/" + name) else { return nil }
        guard let result = try? Processes.run(path, ["netns", "delete", name]), result.status == 0 else {
            return "ip netns delete \(name) failed"
        }
        return nil
    }

    /// A veth pair born with one end in each namespace.
    func addVeth(_ name: String, in netns: String, peer: String, peerNetns: String) throws {
        try self(netns, "link", "add", name, "type", "veth", "peer", "name", peer, "netns", peerNetns)
    }
}
