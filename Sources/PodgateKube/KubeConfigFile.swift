#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PodgateModel

extension KubeConfig {
    /// Reads a kubeconfig file: the named (or current) context, its cluster and
    /// user. The file is YAML, so the caller passes the YAML parser (it lives
    /// in PodgateManifests); JSON kubeconfigs work with `JSONDocument.parse`.
    /// Relative file paths are resolved against the kubeconfig's directory.
    public static func load(path: String, context requested: String? = nil,
                            parse: (String) throws -> DocumentValue) throws -> KubeConfig {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw KubeError.configuration(file: path, field: "", message: "cannot be read")
        }
        let document: DocumentValue
        do { document = try parse(text) } catch {
            throw KubeError.configuration(file: path, field: "", message: "is not valid YAML: \(error)")
        }
        var file = KubeconfigReader(path: path, document: document)
        return try file.config(context: requested)
    }
}

/// One kubeconfig document, with errors that name the file and the field.
private struct KubeconfigReader {
    let path: String
    let document: DocumentValue

    mutating func config(context requested: String?) throws -> KubeConfig {
        let contextName: String
        if let requested { contextName = requested } else {
            guard let current = document["current-context"]?.string, !current.isEmpty else {
                throw fail("current-context", "is not set: pass a context name")
            }
            contextName = current
        }
        let context = try named("contexts", contextName, body: "context")
        let contextField = "contexts[name=\(contextName)].context"
        guard let clusterName = context["cluster"]?.string else { throw fail("\(contextField).cluster", "is missing") }
        let userName = context["user"]?.string
        let cluster = try named("clusters", clusterName, body: "cluster")
        let clusterField = "clusters[name=\(clusterName)].cluster"

        guard let server = cluster["server"]?.string, server.hasPrefix("https://") || server.hasPrefix("http://") else {
            throw fail("\(clusterField).server", "must be an http(s) URL, found \(cluster["server"]?.string ?? "nothing")")
        }
        var config = KubeConfig(server: server, origin: path)
        config.namespace = context["namespace"]?.string
        config.insecureSkipTLSVerify = cluster["insecure-skip-tls-verify"]?.bool ?? false
        config.certificateAuthority = try pem(cluster, "certificate-authority", field: clusterField)

        guard let userName else { return config }
        let user = try named("users", userName, body: "user")
        let userField = "users[name=\(userName)].user"
        for unsupported in ["exec", "auth-provider", "username"] where user[unsupported] != nil {
            throw fail("\(userField).\(unsupported)", "is not supported: use a token, tokenFile or client certificate")
        }
        if let token = user["token"]?.string {
            config.token = .literal(token)
        } else if let tokenFile = user["tokenFile"]?.string {
            config.token = .file(resolve(tokenFile))
        }
        config.clientCertificate = try pem(user, "client-certificate", field: userField)
        config.clientKey = try pem(user, "client-key", field: userField)
        if (config.clientCertificate == nil) != (config.clientKey == nil) {
            throw fail(userField, "has a client certificate without a key, or a key without a certificate")
        }
        return config
    }

    /// `clusters: [{name: X, cluster: {...}}]` -> the body of entry X.
    private func named(_ list: String, _ name: String, body: String) throws -> DocumentValue {
        guard let entries = document[list]?.list else { throw fail(list, "is missing") }
        guard let entry = entries.first(where: { $0["name"]?.string == name }) else {
            throw fail(list, "has no entry named \(name)")
        }
        guard let value = entry[body], value.mapEntries != nil else { throw fail("\(list)[name=\(name)].\(body)", "is missing") }
        return value
    }

    /// `<key>` (a path) or `<key>-data` (base64 PEM) of a cluster or user.
    private func pem(_ map: DocumentValue, _ key: String, field: String) throws -> PEMSource? {
        if let encoded = map["\(key)-data"]?.string {
            let compact = encoded.filter { !$0.isWhitespace }
            guard let bytes = Data(base64Encoded: compact) else { throw fail("\(field).\(key)-data", "is not valid base64") }
            return .data(Array(bytes))
        }
        if let file = map[key]?.string {
            let resolved = resolve(file)
            guard FileManager.default.isReadableFile(atPath: resolved) else {
                throw fail("\(field).\(key)", "names \(resolved), which cannot be read")
            }
            return .file(resolved)
        }
        return nil
    }

    private func resolve(_ file: String) -> String {
        if file.hasPrefix("/") { return file }
        guard let slash = path.lastIndex(of: "/") else { return file }
        return String(path[...slash]) + file
    }

    private func fail(_ field: String, _ message: String) -> KubeError {
        .configuration(file: path, field: field, message: message)
    }
}
