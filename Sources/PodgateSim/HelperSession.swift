#if canImport(Glibc)
import Glibc
#endif

/// `podgate sim-helper session CGROUP|- NETNS MODE ARGS...`: the kernel
/// tests' socket experiments (probes, listeners, forged packets, sniffers),
/// run as a process of a pod. It joins CGROUP first ("-": none), then enters
/// NETNS, prints `pid N`, then runs MODE, printing one line per outcome
/// (`connected`, `EPERM`, `refused`, `timeout`, `oserror N`, `sent`, ...).
/// `early-socket` alone makes its socket in NETNS BEFORE joining CGROUP.
/// A leading `--netns-first` enters NETNS before joining CGROUP, as a
/// container's process is already in its sandbox's namespace when it joins.
/// The modes are listed in `HelperSession.modes`; each file names its own.
enum HelperSession {
    typealias Mode = @Sendable (inout SessionArguments) throws -> Void

    static let modes: [String: Mode] = SessionProbes.modes
        .merging(SessionServers.modes) { a, _ in a }
        .merging(SessionForged.modes) { a, _ in a }
        .merging(SessionDatagrams.modes) { a, _ in a }

    static func run(_ arguments: [String]) -> Int32 {
        let netnsFirst = arguments.first == "--netns-first"
        let arguments = netnsFirst ? Array(arguments.dropFirst()) : arguments
        guard arguments.count >= 3 else {
            Files.standardError("usage: podgate sim-helper session [--netns-first] CGROUP|- NETNS MODE ARGS...\n")
            return 2
        }
        let (cgroup, netns, mode) = (arguments[0], arguments[1], arguments[2])
        guard let body = modes[mode] else {
            Files.standardError("sim-helper session: unknown mode \(mode); modes: \(modes.keys.sorted().joined(separator: " "))\n")
            return 2
        }
        var context = SessionArguments(mode: mode, Array(arguments.dropFirst(3)))
        do {
            if mode == "early-socket" {
                // A socket made in the pod's namespace BEFORE the process moves into the pod cgroup.
                try Isolation.enterNetns(netns)
                context.early = try SessionSocket(family: AF_INET, type: SessionSocket.stream)
                if cgroup != "-" { try SimCgroups.join(cgroup) }
            } else if netnsFirst {
                try Isolation.enterNetns(netns)
                if cgroup != "-" { try SimCgroups.join(cgroup) }
            } else {
                if cgroup != "-" { try SimCgroups.join(cgroup) }
                try Isolation.enterNetns(netns)
            }
            say("pid \(getpid())")
            try body(&context)
            return 0
        } catch {
            say("error \(mode): \(error)")
            return 1
        }
    }
}

/// One output line, written at once (the test reads line by line).
func say(_ line: String) { Files.standardOutput(line + "\n") }

/// A mode's positional arguments, read in order; errors name the mode.
struct SessionArguments {
    let mode: String
    private let values: [String]
    private(set) var index = 0
    /// The socket `early-socket` made before joining the cgroup.
    var early: SessionSocket?

    init(mode: String, _ values: [String]) { (self.mode, self.values) = (mode, values) }

    var remaining: [String] { Array(values[index...]) }
    var hasMore: Bool { index < values.count }

    mutating func string(_ what: String) throws -> String {
        guard index < values.count else { throw SimError("session \(mode): argument \(index + 1) (\(what)) is missing") }
        index += 1
        return values[index - 1]
    }

    mutating func int(_ what: String) throws -> Int {
        let text = try string(what)
        guard let value = Int(text) else { throw SimError("session \(mode): \(what) \(text) is not a number") }
        return value
    }

    mutating func double(_ what: String) throws -> Double {
        let text = try string(what)
        guard let value = Double(text) else { throw SimError("session \(mode): \(what) \(text) is not a number") }
        return value
    }
}
