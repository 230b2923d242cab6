import Testing
import PodgateModel
@testable import PodgateManifests

@Suite struct ObjectDecodingTests {
    @Test func decodesAPodWithEveryField() throws {
        let text = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: web
          namespace: shop
          uid: 1234-abcd
          labels: {app: web, version: 2}
          annotations: {config.linkerd.io/default-inbound-policy: deny, other: x}
        spec:
          serviceAccount: old-style
          hostNetwork: false
          nodeName: node-1
          containers:
          - name: c
            ports:
            - {name: http, containerPort: 8080}
            - {containerPort: 53, protocol: UDP}
            - {containerPort: 9, protocol: SCTP}
          - name: sidecar
            ports: [{containerPort: 4191, name: admin}]
        status:
          podIP: 10.244.0.5
          podIPs: [{ip: 10.244.0.5}, {ip: "fd00::5"}]
        """
        let set = ManifestSet(text: text)
        #expect(set.diagnostics.isEmpty)
        let pod = try #require(set.snapshot.pods[PodRef(namespace: "shop", name: "web")])
        #expect(pod.uid == "1234-abcd")
        #expect(pod.labels == ["app": "web", "version": "2"])
        #expect(pod.defaultInboundPolicy == "deny")
        #expect(pod.annotations["other"] == "x")
        #expect(pod.serviceAccount == "old-style")
        #expect(pod.nodeName == "node-1")
        #expect(pod.ports == [ContainerPort(name: "http", port: 8080), ContainerPort(port: 53, transport: .udp),
                              ContainerPort(name: "admin", port: 4191)])
        #expect(pod.addresses == [IPAddress("10.244.0.5")!, IPAddress("fd00::5")!])
    }

    @Test func podDefaults() throws {
        let set = ManifestSet(text: "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: x}]}\n")
        let pod = try #require(set.snapshot.pods[PodRef(namespace: "default", name: "p")])
        #expect(pod.uid == "" && pod.serviceAccount == "default" && !pod.hostNetwork && pod.nodeName == nil && pod.addresses.isEmpty)
    }

    /// name -> (document, expected diagnostic)
    static let malformed: [String: (String, String)] = [
        "port out of range": ("kind: Pod\nmetadata: {name: p, namespace: n}\nspec: {containers: [{ports: [{containerPort: 0}]}]}",
                              "pods.yaml: Pod n/p: spec.containers[0].ports[0].containerPort 0 is out of range 1-65535"),
        "port as string": ("kind: Pod\nmetadata: {name: p, namespace: n}\nspec: {containers: [{ports: [{containerPort: \"80\"}]}]}",
                           "pods.yaml: Pod n/p: spec.containers[0].ports[0].containerPort must be an integer"),
        "bad protocol": ("kind: Pod\nmetadata: {name: p, namespace: n}\nspec: {containers: [{ports: [{containerPort: 80, protocol: ICMP}]}]}",
                         "pods.yaml: Pod n/p: spec.containers[0].ports[0].protocol \"ICMP\" is not TCP, UDP or SCTP"),
        "hostNetwork not a bool": ("kind: Pod\nmetadata: {name: p, namespace: n}\nspec: {hostNetwork: maybe}",
                                   "pods.yaml: Pod n/p: spec.hostNetwork must be true or false"),
        "bad pod IP": ("kind: Pod\nmetadata: {name: p, namespace: n}\nstatus: {podIPs: [{ip: 10.0.0.256}]}",
                       "pods.yaml: Pod n/p: status.podIPs[0].ip \"10.0.0.256\" is not an IP address"),
        "labels a list": ("kind: Pod\nmetadata: {name: p, namespace: n, labels: [a]}",
                          "pods.yaml: Pod n/p: metadata.labels must be a map"),
        "no name": ("kind: Pod\nmetadata: {namespace: n}", "pods.yaml (document 1): Pod: metadata.name is required"),
        "namespace labels": ("kind: Namespace\nmetadata: {name: n, labels: {a: [b]}}",
                             "pods.yaml: Namespace n: metadata.labels[a] must be a string"),
        "policy of another version": ("apiVersion: policy.linkerd.io/v1\nkind: NetworkAuthenticationPolicy\nmetadata: {name: p}",
                                      "pods.yaml (document 1): apiVersion \"policy.linkerd.io/v1\" is not policy.linkerd.io/v1alpha1"),
    ]

    @Test(arguments: malformed.keys.sorted())
    func reportsMalformedObjects(_ name: String) throws {
        let (document, message) = try #require(Self.malformed[name])
        let text = document.hasPrefix("apiVersion") ? document : "apiVersion: v1\n" + document
        let set = ManifestSet(files: [ManifestFile(name: "pods.yaml", text: text)])
        #expect(set.diagnostics.map(\.description) == [message])
        #expect(set.snapshot.pods.isEmpty && set.snapshot.namespaces.isEmpty && set.snapshot.policies.isEmpty)
    }

    @Test func aBrokenEditOfAPodOrNamespaceKeepsItsLastGoodVersion() {
        let good = ManifestSet(text: """
            apiVersion: v1
            kind: Namespace
            metadata: {name: n, labels: {team: a}}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: p, namespace: n, labels: {app: web}}
            """)
        let broken = ManifestSet(text: """
            apiVersion: v1
            kind: Namespace
            metadata: {name: n, labels: {team: [a]}}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: p, namespace: n, labels: {app: web}}
            spec: {hostNetwork: maybe}
            """)
        #expect(broken.rejected.map(\.description).sorted() == ["Namespace n", "Pod n/p"])
        #expect(broken.snapshot.pods.isEmpty)
        let kept = broken.keepingLastGood(from: good.snapshot)
        #expect(kept == good.snapshot)
        // Nothing to keep when the object never had a good version.
        #expect(broken.keepingLastGood(from: ClusterSnapshot()).pods.isEmpty)
    }

    @Test func decodesKubectlLists() {
        let text = """
        {"apiVersion": "v1", "kind": "List", "items": [
          {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "labels": {"team": "x"}}},
          {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "a"}, "spec": {"hostNetwork": true}},
          {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}}]}
        """
        let set = ManifestSet(text: text)
        #expect(set.diagnostics.isEmpty)
        #expect(set.snapshot.namespaces["a"]?.labels == ["team": "x"])
        #expect(set.snapshot.pods[PodRef(namespace: "a", name: "p")]?.hostNetwork == true)
    }

    @Test func keepsTheFirstOfDuplicateObjectsByFileName() {
        let first = ManifestFile(name: "a.yaml", text: "apiVersion: v1\nkind: Namespace\nmetadata: {name: n, labels: {from: a}}\n")
        let second = ManifestFile(name: "b.yaml", text: "apiVersion: v1\nkind: Namespace\nmetadata: {name: n, labels: {from: b}}\n")
        let set = ManifestSet(files: [second, first])
        #expect(set.snapshot.namespaces["n"]?.labels == ["from": "a"])
        #expect(set.diagnostics.map(\.description) == ["b.yaml (document 1): Namespace n is already defined in a.yaml (document 1); this one is ignored"])
    }

    @Test func invalidPoliciesAreKeptApartAndOthersStay() {
        let text = """
        apiVersion: policy.linkerd.io/v1alpha1
        kind: NetworkAuthenticationPolicy
        metadata: {name: bad, namespace: demo}
        spec: {target: {selector: {}}, ports: [{port: 8081, endPort: 8000}], sources: []}
        ---
        apiVersion: policy.linkerd.io/v1alpha1
        kind: NetworkAuthenticationPolicy
        metadata: {name: good, namespace: demo}
        spec: {target: {selector: {}}, sources: []}
        """
        let set = ManifestSet(text: text)
        #expect(set.snapshot.policies.keys.map(\.name) == ["good"])
        #expect(set.snapshot.invalidPolicies[PolicyRef(namespace: "demo", name: "bad")]?.description
                == "demo/bad: spec.ports[0].endPort 8000 is below port 8081")
    }

    @Test func reportsAnUnreadableFileAndReadsTheOthers() {
        let set = ManifestSet(files: [ManifestFile(name: "broken.yaml", text: "a: [\n"),
                                      ManifestFile(name: "ok.yaml", text: "apiVersion: v1\nkind: Namespace\nmetadata: {name: n}\n")])
        #expect(set.diagnostics.count == 1 && set.diagnostics[0].object == "broken.yaml")
        #expect(set.snapshot.namespaces["n"] != nil)
    }

    @Test func readsEveryScenarioFileWithoutComplaint() throws {
        for file in try ManifestDirectory.readFiles(at: Self.scenarioDirectory) {
            let scenario = try #require(try YAMLParser.parse(bytes: file.bytes).first, "\(file.name)")
            let manifests = try #require(scenario["manifests"]?.string, "\(file.name)")
            let set = ManifestSet(text: manifests, fileName: file.name)
            let expected = file.name == "invalid-policy.yaml" ? 2 : 0
            #expect(set.diagnostics.count == expected, "\(file.name): \(set.diagnostics)")
            #expect(!set.snapshot.pods.isEmpty)
        }
    }

    static var scenarioDirectory: String {
        // Tests/PodgateManifestsTests/<file> -> Tests/scenarios (copies of the shared examples)
        let parts = "\(#filePath)".split(separator: "/").dropLast(2)
        return "/" + parts.joined(separator: "/") + "/scenarios"
    }
}
