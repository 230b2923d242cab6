import PodgateLab

/// A command a test runs to completion (ip, the podgate CLI): argument
/// arrays, never a shell; stdout and stderr together. The lab's runner.
public enum Command {
    /// Runs `arguments` (PATH lookup through /usr/bin/env): the exit status and the output.
    public static func status(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try status(executable: "/usr/bin/env", arguments)
    }

    /// `executable` with `arguments`: the exit status and the output.
    public static func status(executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        try Processes.run(executable, arguments)
    }

    /// Runs `arguments` (PATH lookup); its output, or a thrown error naming the command.
    @discardableResult
    public static func run(_ arguments: [String]) throws -> String { try run(executable: "/usr/bin/env", arguments) }

    /// `executable` with `arguments`; its output, or a thrown error naming the command.
    @discardableResult
    public static func run(executable: String, _ arguments: [String]) throws -> String {
        let (status, text) = try Self.status(executable: executable, arguments)
        guard status == 0 else { throw CommandError(message: "\(arguments.joined(separator: " ")) failed (exit \(status)): \(text)") }
        return text
    }
}

public struct CommandError: Error, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
