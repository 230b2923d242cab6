#if canImport(Glibc)
import Glibc
#endif
import PodgateModel

/// `podgate sim-helper SUBCOMMAND ...`: the processes the simulator places
/// inside a pod. Each one FIRST joins the cgroup (a socket's cgroup is fixed
/// when it is created, and `ip netns exec` would remount /sys) and THEN enters
/// the network namespace, then does its one job:
///
///     listen --cgroup DIR --netns NAME [--tcp P,P...] [--udp P,P...]
///         TCP and UDP echo on [::] (dual-stack); prints `ready` once bound.
///     probe --cgroup DIR|- --netns NAME --to ADDR --port N --protocol TCP|UDP
///           --family ipv4|ipv6|ipv4-mapped --timeout S
///         exit 0 allowed, 1 denied, 2 could not probe; one line says how.
///     hold (the probe's options) --seconds S
///         holds one connection open (see HoldClient): `open`, then `cut: HOW` (exit 1).
///     sysctl --netns NAME KEY=VALUE...
///         writes /proc/sys/KEY (dots as slashes) inside the namespace.
///     flood --cgroup DIR --netns NAME --to ADDR --port N [--rate R] [--seconds S] [--count N]
///         connects as fast as --rate allows, to benchmark event delivery.
///     exec --cgroup DIR [--netns NAME] -- PROGRAM ARGS...
///         runs PROGRAM there (the agents, so their cgroup can be cleaned up).
///     session [--netns-first] CGROUP|- NETNS MODE ARGS...
///         the kernel tests' socket experiments, one line per outcome (HelperSession).
public enum SimHelper {
    public static func main(arguments: [String]) -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        guard let command = arguments.first else {
            Files.standardError("usage: podgate sim-helper listen|probe|sysctl|exec ...\n")
            return 2
        }
        do {
            var options = try HelperOptions(Array(arguments.dropFirst()))
            switch command {
            case "listen": return try listen(&options)
            case "probe": return try probe(&options)
            case "hold": return try hold(&options)
            case "sysctl": return try sysctl(&options)
            case "exec": return try execute(&options)
            case "flood": return try FloodHelper.run(&options)
            case "session": return HelperSession.run(Array(arguments.dropFirst()))
            default: throw SimError("unknown sim-helper command \(command)")
            }
        } catch {
            Files.standardError("sim-helper \(command): \(error)\n")
            return 2
        }
    }

    static func enter(_ options: inout HelperOptions, cgroupRequired: Bool) throws {
        Isolation.dieWithParent()
        if let cgroup = try cgroupRequired ? options.required("--cgroup") : options.optional("--cgroup"), cgroup != "-" {
            try SimCgroups.join(cgroup)
        }
        if let netns = try options.optional("--netns") { try Isolation.enterNetns(netns) }
    }

    static func listen(_ options: inout HelperOptions) throws -> Int32 {
        try enter(&options, cgroupRequired: true)
        let tcp = try options.ports("--tcp")
        let udp = try options.ports("--udp")
        try options.finish()
        var server = EchoServer()
        for port in tcp { try server.add(port: port, type: Sockets.stream) }
        for port in udp { try server.add(port: port, type: Sockets.datagram) }
        Files.standardOutput("ready\n")
        server.run()
    }

    /// The connection `probe` and `hold` make: --to, --port, --protocol, --family, --timeout.
    struct Target {
        var address: IPAddress, port: Int, transport: TransportProtocol, family: AddressFamily, timeout: Double

        init(_ options: inout HelperOptions) throws {
            guard let address = IPAddress(try options.required("--to")) else { throw SimError("--to is not an address") }
            guard let port = Int(try options.required("--port")), (1...65535).contains(port) else { throw SimError("--port is not a port") }
            guard let transport = TransportProtocol(rawValue: try options.required("--protocol").uppercased()) else {
                throw SimError("--protocol is not TCP or UDP")
            }
            guard let family = AddressFamily(rawValue: try options.optional("--family") ?? "ipv4") else {
                throw SimError("--family is not ipv4, ipv6 or ipv4-mapped")
            }
            guard let timeout = Double(try options.optional("--timeout") ?? "1"), timeout > 0 else { throw SimError("--timeout is not a number") }
            (self.address, self.port, self.transport, self.family, self.timeout) = (address, port, transport, family, timeout)
        }
    }

    static func probe(_ options: inout HelperOptions) throws -> Int32 {
        try enter(&options, cgroupRequired: true)
        let target = try Target(&options)
        try options.finish()
        let outcome = ProbeClient(address: target.address, port: target.port, transport: target.transport, family: target.family,
                                  timeout: target.timeout).run()
        Files.standardOutput(outcome.line + "\n")
        return outcome.exitCode
    }

    static func hold(_ options: inout HelperOptions) throws -> Int32 {
        try enter(&options, cgroupRequired: true)
        let target = try Target(&options)
        guard let seconds = Double(try options.optional("--seconds") ?? "600"), seconds > 0 else { throw SimError("--seconds is not a number") }
        try options.finish()
        return HoldClient(address: target.address, port: target.port, transport: target.transport, family: target.family,
                          timeout: target.timeout, seconds: seconds).run()
    }

    static func sysctl(_ options: inout HelperOptions) throws -> Int32 {
        try enter(&options, cgroupRequired: false)
        for setting in options.remaining {
            let parts = setting.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].contains("..") else { throw SimError("\(setting) is not KEY=VALUE") }
            try Files.write("/proc/sys/" + parts[0].replacingDots, parts[1] + "\n", atomically: false)
        }
        return 0
    }

    static func execute(_ options: inout HelperOptions) throws -> Int32 {
        try enter(&options, cgroupRequired: true)
        let command = options.remaining.first == "--" ? Array(options.remaining.dropFirst()) : options.remaining
        guard let program = command.first else { throw SimError("exec needs -- PROGRAM ARGS...") }
        let argv = command.map { strdup($0) } + [nil]
        execv(program, argv)
        throw SimError("exec \(program): \(errnoText())")
    }
}

/// `--name value` pairs; what is left over (after `--` or unnamed) is `remaining`.
struct HelperOptions {
    private var values: [String: String] = [:]
    private(set) var remaining: [String] = []

    init(_ arguments: [String]) throws {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" { remaining += arguments[index...]; break }
            if argument.hasPrefix("--") {
                guard index + 1 < arguments.count else { throw SimError("\(argument) needs a value") }
                values[argument] = arguments[index + 1]
                index += 2
            } else {
                remaining.append(argument)
                index += 1
            }
        }
    }

    mutating func optional(_ name: String) throws -> String? { values.removeValue(forKey: name) }

    mutating func required(_ name: String) throws -> String {
        guard let value = values.removeValue(forKey: name) else { throw SimError("\(name) is required") }
        return value
    }

    mutating func ports(_ name: String) throws -> [Int] {
        guard let text = try optional(name), !text.isEmpty else { return [] }
        return try text.split(separator: ",").map {
            guard let port = Int($0), (1...65535).contains(port) else { throw SimError("\(name): \($0) is not a port") }
            return port
        }
    }

    func finish() throws {
        if let unknown = values.keys.sorted().first { throw SimError("unknown option \(unknown)") }
    }
}

extension String {
    var replacingDots: String { String(map { $0 == "." ? "/" : $0 }) }
}
