#if canImport(Glibc)
import Glibc
#endif
import PodgateModel

/// `podgate sim ...`: the public entry points the executable dispatches to.
public enum Sim {
    public typealias ParseDocuments = ScenarioPlan.ParseDocuments

    /// `podgate sim --cleanup`: removes what crashed runs left behind.
    /// Returns the process exit code: 0 all removed, 1 something stayed.
    public static func cleanup() -> Int32 {
        let result = RunState.cleanupLeftovers(log: { Files.standardError("podgate sim: \($0)\n") })
        result.problems.forEach { Files.standardError("podgate sim: \($0)\n") }
        Files.standardError("podgate sim: \(result.removed) leftover run(s) cleaned up\n")
        return result.problems.isEmpty ? 0 : 1
    }

    /// `podgate sim [options] FILE...`, the options parsed by the CLI.
    /// Returns the process exit code: 0 all held, 1 a probe failed, 2 an error, 130/143 interrupted.
    public static func run(files: [String], options: SimOptions, parseDocuments: @escaping ParseDocuments) -> Int32 {
        Interrupts.install()
        Isolation.cleanUpWhenParentDies()
        var worst: Int32 = 0
        for file in files {
            let code = SimRunner.run(file: file, options: options, parseDocuments: parseDocuments)
            worst = max(worst, code)
            if code >= 128 { break }
        }
        return worst
    }

    /// This process's own executable (for the CLI to pass as `executable`).
    public static func ownExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

public struct SimOptions: Sendable {
    public var executable: String
    public var startAgents = true
    public var concurrency = 32
    public var keep = false
    public var hold = false
    public var explain = false
    /// How long to wait for every agent to report a generation.
    public var agentTimeout: Double = 10
    public init(executable: String) { self.executable = executable }
}
