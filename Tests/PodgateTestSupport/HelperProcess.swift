#if canImport(Glibc)
import Glibc
#endif
import PodgateLab

/// A running `podgate sim-helper session ...` (or any child, started by the
/// lab's spawner) and its output, line by line; stdout and stderr together.
public final class HelperProcess: @unchecked Sendable {  // read from one test at a time
    private let child: ChildProcess
    private var exitStatus: Int32?
    /// False once the pipe is closed: its number may belong to another file by then.
    private var pipeOpen = true

    public init(executable: String, arguments: [String]) throws {
        child = try Processes.spawn(executable, arguments, stdout: .pipe, stderr: .pipe)
    }

    /// The child's process ID.
    public var processID: pid_t { child.pid }

    /// The helper's pid, once its "pid N" line was read.
    public private(set) var pid: Int32 = 0

    /// The next output line (blocking; the helper bounds its own waits).
    public func nextLine() -> String? {
        guard pipeOpen, let line = child.readLine() else { return nil }
        if line.hasPrefix("pid ") { pid = Int32(line.dropFirst(4)) ?? 0 }
        return line
    }

    /// The next line that is not the "pid N" line.
    public func nextReport() -> String? {
        while let line = nextLine() { if !line.hasPrefix("pid ") { return line } }
        return nil
    }

    /// Lines until exit, without the "pid N" line.
    public func finish() -> (pid: Int32, lines: [String]) {
        var lines: [String] = []
        while let line = nextLine() { lines.append(line) }
        reap()
        return (pid, lines.filter { !$0.hasPrefix("pid ") })
    }

    /// `finish()`, waiting for the exit without blocking a thread (for
    /// output that fits the pipe: a few lines).
    public func finishedAsync() async throws -> (pid: Int32, lines: [String]) {
        while isRunning { try await Task.sleep(for: .milliseconds(10)) }
        return finish()
    }

    public var isRunning: Bool {
        if exitStatus == nil { exitStatus = Processes.poll(child.pid) }
        return exitStatus == nil
    }

    /// SIGKILL and reap (teardown).
    public func stop() {
        guard isRunning else { return }
        kill(child.pid, SIGKILL)
        reap()
    }

    private func reap() {
        if exitStatus == nil { exitStatus = Processes.wait(child.pid) }
        if pipeOpen, let fd = child.output { close(fd) }
        pipeOpen = false
    }
}
