import Foundation

/// The one gate of every kernel suite (BPF, cgroups, network namespaces,
/// helper processes): they need root and the built `podgate` executable.
/// Outside CI a missing prerequisite skips the suite LOUDLY (on stderr);
/// under CI=true the suite runs anyway and fails on it, never skips.
public enum KernelGate {
    public static var inCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// nil when the kernel suites may run; otherwise why not.
    public static var missing: String? {
        if geteuid() != 0 { return "needs root (BPF programs, cgroups, network namespaces)" }
        if PodgateExecutable.path == nil { return PodgateExecutable.missing }
        return nil
    }

    /// Evaluated once per test process, so the warning is printed once.
    public static let enabled: Bool = {
        guard let missing else { return true }
        if !inCI {
            FileHandle.standardError.write(Data("""
                *** SKIPPING the kernel suites: \(missing) (and CI is not "true"). \
                Run as root to exercise the datapath. ***\n
                """.utf8))
        }
        return inCI  // in CI: run, and fail on the missing prerequisite
    }()

    /// The `podgate` executable, or a thrown reason (the test fails: under
    /// CI, or as root with no build).
    public static func executable() throws -> String {
        guard let path = PodgateExecutable.path else { throw CommandError(message: PodgateExecutable.missing) }
        return path
    }
}
