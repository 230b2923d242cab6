/// A collection the agent lists and watches, cluster-wide.
public struct KubeResource: Sendable, Hashable, CustomStringConvertible {
    /// For messages and for the cache: "pods", "namespaces", ...
    public var name: String
    /// The collection's path, without query.
    public var path: String
    /// The type of its objects. A list's items do not say it (a PodList's
    /// items carry no kind/apiVersion: kubernetes/kubernetes#98925), so
    /// the resource a list or watch was made for does.
    public var apiVersion: String
    public var kind: String

    public init(name: String, path: String, apiVersion: String, kind: String) {
        self.name = name
        self.path = path
        self.apiVersion = apiVersion
        self.kind = kind
    }

    public var description: String { name }

    public static let pods = KubeResource(name: "pods", path: "/api/v1/pods", apiVersion: "v1", kind: "Pod")
    public static let namespaces = KubeResource(name: "namespaces", path: "/api/v1/namespaces", apiVersion: "v1", kind: "Namespace")
    public static let networkAuthenticationPolicies = KubeResource(
        name: "networkauthenticationpolicies", path: "/apis/policy.linkerd.io/v1alpha1/networkauthenticationpolicies",
        apiVersion: "policy.linkerd.io/v1alpha1", kind: "NetworkAuthenticationPolicy")

    /// Everything the agent reads.
    public static let agentResources: [KubeResource] = [.namespaces, .pods, .networkAuthenticationPolicies]

    func listQuery(limit: Int, continueToken: String?) -> String {
        var query = "\(path)?limit=\(limit)"
        if let continueToken { query += "&continue=\(Self.percentEncoded(continueToken))" }
        return query
    }

    func watchQuery(resourceVersion: String, timeoutSeconds: Int) -> String {
        "\(path)?watch=1&allowWatchBookmarks=true&resourceVersion=\(Self.percentEncoded(resourceVersion))&timeoutSeconds=\(timeoutSeconds)"
    }

    /// Continue tokens are base64 (`+`, `/`, `=`): encode all but unreserved characters.
    static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 15)]], as: UTF8.self)
            }
        }
        return out
    }
}
