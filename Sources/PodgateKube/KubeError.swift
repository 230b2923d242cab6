/// Everything that can go wrong talking to the API server, named by what
/// was being done: the file and field of a bad kubeconfig, the URL of a
/// failed request, the resource of a malformed answer.
public enum KubeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A kubeconfig or in-cluster file is missing or wrong: `file: field message`.
    case configuration(file: String, field: String, message: String)
    /// libcurl failed before an HTTP status arrived (connect, TLS, timeout, stall, cut).
    case transport(url: String, code: Int, message: String)
    /// The server answered with a status other than 200.
    case httpStatus(url: String, status: Int, message: String)
    /// The body was not what the API server sends.
    case malformed(url: String, message: String)
    /// The caller cancelled the request.
    case cancelled(url: String)

    public var description: String {
        switch self {
        case let .configuration(file, field, message):
            return field.isEmpty ? "\(file): \(message)" : "\(file): \(field) \(message)"
        case let .transport(url, code, message):
            return "GET \(url): \(message) (curl error \(code))"
        case let .httpStatus(url, status, message):
            return message.isEmpty ? "GET \(url): HTTP \(status)" : "GET \(url): HTTP \(status): \(message)"
        case let .malformed(url, message):
            return "GET \(url): \(message)"
        case let .cancelled(url):
            return "GET \(url): cancelled"
        }
    }
}
