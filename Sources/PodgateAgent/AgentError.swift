#if canImport(Glibc)
import Glibc
#endif

/// Errors of the agent's own shell (files, directories, the state it writes).
public enum AgentError: Error, CustomStringConvertible {
    case system(String, errno: Int32, path: String?)
    case configuration(String)

    public var description: String {
        switch self {
        case let .system(operation, code, path):
            let reason = String(cString: strerror(code))
            return path.map { "\(operation) \($0): \(reason)" } ?? "\(operation): \(reason)"
        case let .configuration(message):
            return message
        }
    }
}
