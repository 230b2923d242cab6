#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// PEM material for TLS: a path libcurl reads, or bytes handed over in memory
/// (kubeconfig `*-data` fields), which never touch the disk.
public enum PEMSource: Sendable, Equatable {
    case file(String)
    case data([UInt8])
}

/// How requests authenticate with a bearer token.
public enum BearerToken: Sendable, Equatable {
    case none
    case literal(String)
    /// Read again for every request: the kubelet rotates projected
    /// service-account tokens in place, and a cached token expires.
    case file(String)
}

/// Everything needed to reach one API server, from the pod's service
/// account (`inCluster`) or a kubeconfig file (`load`).
public struct KubeConfig: Sendable, Equatable {
    /// `https://host:port` (IPv6 hosts bracketed), no trailing slash.
    public var server: String
    public var certificateAuthority: PEMSource?
    public var clientCertificate: PEMSource?
    public var clientKey: PEMSource?
    public var token: BearerToken
    public var insecureSkipTLSVerify: Bool
    /// The context's or the service account's namespace, when known.
    public var namespace: String?
    /// Where this came from, for messages: a file path or "in-cluster".
    public var origin: String

    public init(server: String, certificateAuthority: PEMSource? = nil, clientCertificate: PEMSource? = nil,
                clientKey: PEMSource? = nil, token: BearerToken = .none, insecureSkipTLSVerify: Bool = false,
                namespace: String? = nil, origin: String = "") {
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.certificateAuthority = certificateAuthority
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
        self.token = token
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.namespace = namespace
        self.origin = origin
    }

    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// The configuration every pod gets: `KUBERNETES_SERVICE_HOST/PORT` and the
    /// mounted service-account token, CA and namespace.
    public static func inCluster(environment: [String: String],
                                 serviceAccountDirectory directory: String = serviceAccountDirectory) throws -> KubeConfig {
        let origin = "in-cluster configuration"
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty else {
            throw KubeError.configuration(file: origin, field: "KUBERNETES_SERVICE_HOST",
                                          message: "is not set: not running in a pod? pass --kubeconfig FILE")
        }
        guard let port = environment["KUBERNETES_SERVICE_PORT"], let number = Int(port), (1...65535).contains(number) else {
            throw KubeError.configuration(file: origin, field: "KUBERNETES_SERVICE_PORT",
                                          message: "is not a port number: \(environment["KUBERNETES_SERVICE_PORT"] ?? "unset")")
        }
        let tokenPath = directory + "/token"
        let caPath = directory + "/ca.crt"
        for path in [tokenPath, caPath] where !FileManager.default.isReadableFile(atPath: path) {
            throw KubeError.configuration(file: path, field: "", message: "cannot be read: is the service account token mounted?")
        }
        let namespace = (try? String(contentsOfFile: directory + "/namespace", encoding: .utf8)).map(trimmed)
        // An IPv6 literal must be bracketed in a URL.
        let authority = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return KubeConfig(server: "https://\(authority):\(number)", certificateAuthority: .file(caPath),
                          token: .file(tokenPath), namespace: namespace, origin: origin)
    }

    /// The current bearer token, read from its file when it has one.
    func currentToken() throws -> String? {
        switch token {
        case .none: return nil
        case let .literal(value): return value
        case let .file(path):
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw KubeError.configuration(file: path, field: "", message: "cannot be read (bearer token file)")
            }
            let value = Self.trimmed(text)
            guard !value.isEmpty else { throw KubeError.configuration(file: path, field: "", message: "is empty (bearer token file)") }
            return value
        }
    }

    private static func trimmed(_ text: String) -> String {
        String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
