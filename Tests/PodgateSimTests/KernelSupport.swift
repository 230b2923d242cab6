#if canImport(Glibc)
import Glibc
#endif
import PodgateTestSupport
import Testing

/// Kernel suites need root, and the built `podgate` executable for the helper
/// processes (listeners, probes): the test runner is not podgate, so the
/// launcher is given `<package>/.build/debug/podgate`, found from this file's
/// path. Run `swift build` before `swift test` (CI does). Under CI=true a
/// missing prerequisite fails the test; elsewhere it is skipped loudly.
enum KernelSupport {
    static var inCI: Bool { getenv("CI").map { String(cString: $0) } == "true" }

    static var packageRoot: String {
        let parts = "\(#filePath)".split(separator: "/").dropLast(3)
        return "/" + parts.joined(separator: "/")
    }

    static var podgateExecutable: String? { PodgateExecutable.path }

    /// nil when the kernel test may run; otherwise why not.
    static var missing: String? {
        if getuid() != 0 { return "needs root (network namespaces, cgroups)" }
        if podgateExecutable == nil { return PodgateExecutable.missing }
        return nil
    }

    static var enabled: Bool {
        guard let missing else { return true }
        if !inCI {
            let message = "SKIPPED kernel test: \(missing)\n"
            _ = message.withCString { write(2, $0, strlen($0)) }
        }
        return inCI  // in CI: run, and fail on the missing prerequisite
    }
}

/// Every suite that builds kernel objects sits in here: one at a time, since
/// they compare the machine's namespaces and state files before and after.
@Suite(.serialized, .enabled(if: KernelSupport.enabled))
enum KernelSuites {}
