import Foundation
import Testing
import PodgateModel
@testable import PodgateKube

@Suite struct KubeConfigTests {
    /// A scratch directory with the given files.
    static func directory(_ files: [String: String]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("podgate-kc-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: "\(path)/\(name)", atomically: true, encoding: .utf8) }
        return path
    }

    // kubeconfig is YAML; JSON is YAML too, so JSONDocument stands in for the YAML parser here.
    static func kubeconfig(users: String, clusterExtra: String = "", current: String = "kind") -> String {
        """
        {"apiVersion":"v1","kind":"Config","current-context":"\(current)",
         "clusters":[{"name":"kind-cluster","cluster":{"server":"https://127.0.0.1:6443"\(clusterExtra)}},
                     {"name":"other","cluster":{"server":"https://10.0.0.1"}}],
         "contexts":[{"name":"kind","context":{"cluster":"kind-cluster","user":"admin","namespace":"demo"}},
                     {"name":"other","context":{"cluster":"other"}}],
         "users":[{"name":"admin","user":\(users)}]}
        """
    }

    @Test func inClusterUsesTheServiceAccount() throws {
        let dir = try Self.directory(["token": "abc\n", "ca.crt": "PEM", "namespace": "podgate\n"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = try KubeConfig.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"],
                                              serviceAccountDirectory: dir)
        #expect(config.server == "https://10.96.0.1:443")
        #expect(config.token == .file("\(dir)/token"))
        #expect(config.certificateAuthority == .file("\(dir)/ca.crt"))
        #expect(config.namespace == "podgate")
        #expect(try config.currentToken() == "abc")
        let v6 = try KubeConfig.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "fd00:10:96::1", "KUBERNETES_SERVICE_PORT": "443"],
                                          serviceAccountDirectory: dir)
        #expect(v6.server == "https://[fd00:10:96::1]:443")
    }

    @Test func inClusterErrorsNameWhatIsMissing() throws {
        let dir = try Self.directory(["ca.crt": "PEM"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: KubeError.configuration(file: "in-cluster configuration", field: "KUBERNETES_SERVICE_HOST",
                                                message: "is not set: not running in a pod? pass --kubeconfig FILE")) {
            try KubeConfig.inCluster(environment: [:], serviceAccountDirectory: dir)
        }
        do {
            _ = try KubeConfig.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "h", "KUBERNETES_SERVICE_PORT": "443"], serviceAccountDirectory: dir)
            Issue.record("expected an error")
        } catch let error as KubeError {
            #expect("\(error)".contains("\(dir)/token"))
        }
    }

    @Test func kubeconfigWithInlineDataAndToken() throws {
        let ca = Data("CA PEM".utf8).base64EncodedString()
        let text = Self.kubeconfig(users: #"{"token":"s3cret"}"#, clusterExtra: #","certificate-authority-data":"\#(ca)""#)
        let dir = try Self.directory(["config": text])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = try KubeConfig.load(path: "\(dir)/config", parse: JSONDocument.parse)
        #expect(config.server == "https://127.0.0.1:6443")
        #expect(config.certificateAuthority == .data(Array("CA PEM".utf8)))
        #expect(config.token == .literal("s3cret"))
        #expect(config.namespace == "demo")
        #expect(config.insecureSkipTLSVerify == false)
    }

    @Test func kubeconfigWithRelativeFilesAndClientCertificate() throws {
        let text = Self.kubeconfig(users: #"{"client-certificate":"client.crt","client-key":"client.key","tokenFile":"tok"}"#,
                                   clusterExtra: #","certificate-authority":"ca.crt","insecure-skip-tls-verify":true"#)
        let dir = try Self.directory(["config": text, "ca.crt": "x", "client.crt": "x", "client.key": "x"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = try KubeConfig.load(path: "\(dir)/config", parse: JSONDocument.parse)
        #expect(config.certificateAuthority == .file("\(dir)/ca.crt"))
        #expect(config.clientCertificate == .file("\(dir)/client.crt"))
        #expect(config.clientKey == .file("\(dir)/client.key"))
        #expect(config.token == .file("\(dir)/tok"))
        #expect(config.insecureSkipTLSVerify)
        let other = try KubeConfig.load(path: "\(dir)/config", context: "other", parse: JSONDocument.parse)
        #expect(other.server == "https://10.0.0.1" && other.token == .none)
    }

    @Test(arguments: [
        ("missing-context", "contexts", "has no entry named missing-context"),
        ("bad-data", "clusters[name=kind-cluster].cluster.certificate-authority-data", "is not valid base64"),
        ("missing-file", "clusters[name=kind-cluster].cluster.certificate-authority", "cannot be read"),
        ("exec", "users[name=admin].user.exec", "is not supported"),
        ("cert-without-key", "users[name=admin].user", "without a key"),
    ])
    func kubeconfigErrorsNameFileAndField(case name: String, field: String, message: String) throws {
        var users = #"{"token":"t"}"#
        var extra = ""
        var current = "kind"
        switch name {
        case "missing-context": current = "missing-context"
        case "bad-data": extra = #","certificate-authority-data":"!!!not base64""#
        case "missing-file": extra = #","certificate-authority":"/nonexistent/ca.crt""#
        case "exec": users = #"{"exec":{"command":"aws"}}"#
        default: users = #"{"client-certificate-data":"eA=="}"#
        }
        let dir = try Self.directory(["config": Self.kubeconfig(users: users, clusterExtra: extra, current: current)])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            _ = try KubeConfig.load(path: "\(dir)/config", parse: JSONDocument.parse)
            Issue.record("expected an error for \(name)")
        } catch let KubeError.configuration(file, errorField, errorMessage) {
            #expect(file == "\(dir)/config")
            #expect(errorField == field)
            #expect(errorMessage.contains(message))
        }
    }

    @Test func unreadableAndUnparsableFiles() throws {
        #expect(throws: KubeError.configuration(file: "/nonexistent/config", field: "", message: "cannot be read")) {
            try KubeConfig.load(path: "/nonexistent/config", parse: JSONDocument.parse)
        }
        let dir = try Self.directory(["config": "{not json"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            _ = try KubeConfig.load(path: "\(dir)/config", parse: JSONDocument.parse)
            Issue.record("expected an error")
        } catch let KubeError.configuration(file, _, message) {
            #expect(file == "\(dir)/config" && message.hasPrefix("is not valid YAML"))
        }
    }
}
