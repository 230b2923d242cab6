#if canImport(Glibc)
import Glibc
#endif
import PodgateLab

/// `podgate agent` as a child process (the lab's spawner), its output
/// appended to a log file: the one way the tests run an agent.
public final class AgentProcess: @unchecked Sendable {
    // @unchecked: driven from one test at a time.
    private let child: ChildProcess
    private var exitStatus: Int32?
    public let logPath: String

    /// `arguments` follow `agent`; `environment` is added to the test's own.
    public init(executable: String, arguments: [String], logPath: String, environment: [String: String] = [:]) throws {
        self.logPath = logPath
        child = try Processes.spawn(executable, ["agent"] + arguments, stdout: .file(logPath), stderr: .file(logPath),
                                    environment: environment)
    }

    public var processID: pid_t { child.pid }

    public var isRunning: Bool {
        if exitStatus == nil { exitStatus = Processes.poll(child.pid) }
        return exitStatus == nil
    }

    public var log: String { (try? Files.read(logPath)) ?? "" }

    /// SIGTERM, then SIGKILL after `grace` seconds; waits for the exit without blocking a pool thread.
    public func stop(grace: Double = 2) async {
        guard isRunning else { return }
        kill(child.pid, SIGTERM)
        let deadline = ContinuousClock.now + .milliseconds(Int(grace * 1000))
        while isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(10)) }
        stopNow()
    }

    /// SIGTERM, then SIGKILL after `grace` seconds, blocking (teardown paths that cannot wait asynchronously).
    public func stopBlocking(grace: Double) {
        guard isRunning else { return }
        kill(child.pid, SIGTERM)
        let deadline = Monotonic.seconds + grace
        while isRunning, Monotonic.seconds < deadline { usleep(20_000) }
        stopNow()
    }

    /// SIGKILL, then reap: no shutdown code runs, exactly like a crash or an OOM kill.
    public func stopNow() {
        guard isRunning else { return }
        kill(child.pid, SIGKILL)
        exitStatus = Processes.wait(child.pid)
    }
}
