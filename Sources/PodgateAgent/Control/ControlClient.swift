import Foundation
import PodgateModel

/// The CLI side of the control socket.
public enum ControlClient {
    public static func socketPath(stateDirectory: String) -> String { AgentDefaults.controlSocket(stateDirectory: stateDirectory) }

    /// The agent is not listening at `path`: tell the user what still works.
    public struct NotRunning: Error, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String {
            "the agent is not running or not reachable at \(path) (\(reason)); point --state-dir at the agent's "
                + "--state-dir, or start it; `podgate maps dump` still works from the pinned maps without it"
        }
    }

    /// Connects, sends one request; the caller reads the reply lines.
    public static func open(stateDirectory: String, _ request: ControlRequest) throws -> Int32 {
        let path = socketPath(stateDirectory: stateDirectory)
        let fd: Int32
        do {
            fd = try SocketIO.connectUnix(path: path)
        } catch let AgentError.system(_, code, _) {
            throw NotRunning(path: path, reason: String(cString: strerror(code)))
        }
        guard SocketIO.send(fd, ControlServer.encode(request) + "\n") else {
            close(fd)
            throw NotRunning(path: path, reason: "the connection closed at once")
        }
        return fd
    }

    /// One request, one response; a response carrying an error throws it.
    public static func call(stateDirectory: String, _ request: ControlRequest) throws -> ControlResponse {
        let fd = try open(stateDirectory: stateDirectory, request)
        defer { close(fd) }
        var reader = LineReader(fd: fd, maximumLine: 64 << 20)
        guard let line = reader.next() else {
            throw AgentError.configuration("the agent closed the connection without answering \(request.op.rawValue)")
        }
        let response = try JSONDecoder().decode(ControlResponse.self, from: Data(line.utf8))
        if let error = response.error { throw AgentError.configuration("the agent says: \(error)") }
        return response
    }
}
