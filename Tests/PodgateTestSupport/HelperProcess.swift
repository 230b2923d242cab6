import Foundation

/// A running `podgate sim-helper session ...` (or any child) and its output,
/// line by line; stdout and stderr together.
public final class HelperProcess: @unchecked Sendable {  // read from one test at a time
    public let process: Process
    private let output: FileHandle
    private var buffer = Data()

    public init(executable: String, arguments: [String]) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        output = pipe.fileHandleForReading
        try process.run()
    }

    /// The helper's pid, once its "pid N" line was read.
    public private(set) var pid: Int32 = 0

    /// The next output line (blocking; the helper bounds its own waits).
    public func nextLine() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                if line.hasPrefix("pid ") { pid = Int32(line.dropFirst(4)) ?? 0 }
                return line
            }
            let chunk = output.availableData
            if chunk.isEmpty { return buffer.isEmpty ? nil : String(decoding: buffer, as: UTF8.self) }
            buffer.append(chunk)
        }
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
        process.waitUntilExit()
        return (pid, lines.filter { !$0.hasPrefix("pid ") })
    }

    /// `finish()`, waiting for the exit without blocking a thread (for
    /// output that fits the pipe: a few lines).
    public func finishedAsync() async throws -> (pid: Int32, lines: [String]) {
        while process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        return finish()
    }

    public var isRunning: Bool { process.isRunning }

    /// SIGKILL and reap (teardown).
    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
