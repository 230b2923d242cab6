import Testing
import PodgateModel
@testable import PodgateManifests

/// Issue 13 items 8, 9, 11: a typo is an error, never a wider policy; YAML
/// that kubectl accepts is accepted; a duplicate never replaces what is enforced.
@Suite struct FailClosedDecodingTests {
    static func policy(_ spec: String) -> String {
        "apiVersion: policy.linkerd.io/v1alpha1\nkind: NetworkAuthenticationPolicy\nmetadata: {name: p, namespace: demo}\nspec:\n" + spec
    }

    static let misspelt: [String: (String, String)] = [
        // `exept` dropped would admit the excluded kiosk; `prots` dropped would mean every port.
        "exept": (policy("  target: {selector: {}}\n  sources: [{networks: [{cidr: 203.0.113.0/24, exept: [203.0.113.7/32]}]}]\n"),
                  "demo/p: spec.sources[0].networks[0].exept is not a field of NetworkAuthenticationPolicy (did you mean except?)"),
        "prots": (policy("  target: {selector: {}}\n  prots: [{port: 8080}]\n  sources: [{podSelector: {}}]\n"),
                  "demo/p: spec.prots is not a field of NetworkAuthenticationPolicy (did you mean ports?)"),
        "matchLabel": (policy("  target: {selector: {matchLabel: {app: db}}}\n  sources: [{podSelector: {}}]\n"),
                       "demo/p: spec.target.selector.matchLabel is not a field of NetworkAuthenticationPolicy (did you mean matchLabels?)"),
        "source field": (policy("  target: {selector: {}}\n  sources: [{podSelector: {}, namespaceSelectr: {}}]\n"),
                         "demo/p: spec.sources[0].namespaceSelectr is not a field of NetworkAuthenticationPolicy (did you mean namespaceSelector?)"),
        "port field": (policy("  target: {selector: {}}\n  ports: [{port: 80, endport: 90}]\n  sources: []\n"),
                       "demo/p: spec.ports[0].endport is not a field of NetworkAuthenticationPolicy (did you mean endPort?)"),
        "top level": (policy("  target: {selector: {}}\n  sources: []\nstatus: {}\n"),
                      "demo/p: status is not a field of NetworkAuthenticationPolicy"),
    ]

    @Test(arguments: misspelt.keys.sorted())
    func anUnknownPolicyFieldMakesThePolicyInvalid(_ name: String) throws {
        let (text, message) = try #require(Self.misspelt[name])
        let set = ManifestSet(text: text)
        #expect(set.snapshot.policies.isEmpty)
        #expect(set.snapshot.invalidPolicies[PolicyRef(namespace: "demo", name: "p")]?.description == message)
        // The Kubernetes path (the API server validated) skips unknown fields.
        let document = try YAMLParser.parse(text)[0]
        guard case .policy? = ManifestDecoder(unknownFields: .ignore).decode(document).first else {
            Issue.record("ignore mode refused \(name)")
            return
        }
    }

    @Test func podsAndNamespacesAreCheckedWherePodgateReads() throws {
        // Fields of the Kubernetes schema that podgate does not use are fine.
        let real = ManifestSet(text: """
            apiVersion: v1
            kind: Namespace
            metadata: {name: demo, resourceVersion: "7", creationTimestamp: "2024-01-01T00:00:00Z"}
            spec: {finalizers: [kubernetes]}
            status: {phase: Active}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: web, namespace: demo, ownerReferences: [], managedFields: [{manager: kubectl}]}
            spec:
              restartPolicy: Always
              tolerations: [{key: a, operator: Exists}]
              containers:
                - name: c
                  image: x
                  livenessProbe: {httpGet: {path: /, port: 80}, anything: below here is not checked}
                  ports: [{containerPort: 80, name: http, hostPort: 0}]
            status: {phase: Running, conditions: [{type: Ready, status: "True"}], podIPs: [{ip: 10.244.0.5}], qosClass: BestEffort}
            """)
        #expect(real.diagnostics.isEmpty, "\(real.diagnostics)")
        #expect(real.snapshot.pods.count == 1 && real.snapshot.namespaces.count == 1)

        let typos = ManifestSet(text: """
            apiVersion: v1
            kind: Pod
            metadata: {name: web, namespace: demo, lables: {app: web}}
            spec: {serviceAcountName: admin, containers: [{name: c, prots: [{containerPort: 80}]}]}
            status: {podIPs: [{ipp: 10.244.0.5}]}
            """)
        #expect(typos.snapshot.pods.isEmpty)
        #expect(typos.rejected.map(\.description) == ["Pod demo/web"])
        #expect(Set(typos.diagnostics.map(\.field)) == ["metadata.lables", "spec.serviceAcountName",
                                                          "spec.containers[0].prots", "status.podIPs[0].ipp"])
    }

    @Test(arguments: ["NetworkAuthenticationPolcy", "Namepsace", "Pods"])
    func aMisspeltKindIsReported(_ kind: String) throws {
        let apiVersion = kind.hasPrefix("Network") ? "policy.linkerd.io/v1alpha1" : "v1"
        let set = ManifestSet(text: "apiVersion: \(apiVersion)\nkind: \(kind)\nmetadata: {name: x, namespace: demo}\n")
        #expect(set.diagnostics.count == 1)
        #expect(set.diagnostics.first?.field == "kind")
        #expect(set.diagnostics.first?.message.contains("did you mean") == true, "\(set.diagnostics)")
        // Under another group, a near miss of podgate's own kind too.
        let other = ManifestSet(text: "apiVersion: example.com/v1\nkind: NetworkAuthenticationPolicies\nmetadata: {name: x}\n")
        #expect(other.diagnostics.count == 1)
        // Kinds podgate does not read, correctly spelt, stay quietly ignored.
        let fine = ManifestSet(text: "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n")
        #expect(fine.diagnostics.isEmpty)
    }

    // MARK: YAML that kubectl accepts (item 11)

    @Test func mergeKeysAreExpandedAndTheMapsOwnKeysWin() throws {
        // Anchors as kubectl users write them: defined once, merged with `<<` (one or a list).
        let text = """
            apiVersion: policy.linkerd.io/v1alpha1
            kind: NetworkAuthenticationPolicy
            metadata: &meta {name: p, namespace: demo, labels: &base {app: web, tier: back}}
            spec:
              target:
                selector:
                  matchLabels:
                    <<: [*base, {zone: a, app: ignored}]
                    tier: front
              ports:
                - &http {port: 8080, protocol: TCP}
                - <<: *http
                  port: 9090
              sources: [{podSelector: {}}]
            """
        let merged = ManifestSet(text: text)
        #expect(merged.diagnostics.isEmpty, "\(merged.diagnostics)")
        let policy = try #require(merged.snapshot.policies[PolicyRef(namespace: "demo", name: "p")])
        #expect(policy.target.matchLabels == ["app": "web", "tier": "front", "zone": "a"])
        #expect(policy.ports == [PolicyPort(port: .number(8080, endPort: nil)), PolicyPort(port: .number(9090, endPort: nil))])
        // A quoted "<<" is an ordinary key, and a merge of a scalar is an error.
        #expect(try YAMLParser.parse("a: {\"<<\": 1}")[0]["a"]?["<<"] == .scalar("1", plain: true))
        #expect(throws: YAMLError.self) { try YAMLParser.parse("a: &x 1\nb: {<<: *x}") }
    }

    @Test func explicitCoreTagsDecideTheType() throws {
        let set = ManifestSet(text: Self.policy("""
              target: {selector: {matchLabels: {version: !!str 2, canary: !!bool "true"}}}
              ports: [{port: !!int "9000", endPort: !!int 9005, protocol: !!str TCP}, {port: !!str http}]
              sources: [{podSelector: !!null , networks: [{cidr: !!str 10.0.0.0/8}]}]

            """))
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics)")
        let policy = try #require(set.snapshot.policies.values.first)
        #expect(policy.ports.first == PolicyPort(port: .number(9000, endPort: 9005)))
        #expect(policy.ports.last == PolicyPort(port: .named("http")))
        #expect(policy.target.matchLabels == ["version": "2", "canary": "true"])
        #expect(policy.sources.first?.podSelector == nil && policy.sources.first?.networks?.count == 1)
        // `!!str 8080` is the name "8080", which is no valid port name: refused, as kubectl's schema would.
        let named = ManifestSet(text: Self.policy("  target: {selector: {}}\n  ports: [{port: !!str 8080}]\n  sources: []\n"))
        #expect(named.snapshot.policies.isEmpty && named.snapshot.invalidPolicies.count == 1)
    }

    // MARK: duplicates (item 8)

    @Test func theEnforcedDuplicateStaysWhateverTheFileNames() throws {
        let enforced = ManifestFile(name: "b.yaml", text: "apiVersion: v1\nkind: Namespace\nmetadata: {name: n, labels: {from: b}}\n")
        let newcomer = ManifestFile(name: "a.yaml", text: "apiVersion: v1\nkind: Namespace\nmetadata: {name: n, labels: {from: a}}\n")
        let before = ManifestSet(files: [enforced])
        #expect(before.owners[ManifestKey(kind: "Namespace", namespace: "", name: "n")] == "b.yaml")
        let after = ManifestSet(files: [newcomer, enforced], owners: before.owners)
        #expect(after.snapshot.namespaces["n"]?.labels == ["from": "b"])
        #expect(after.diagnostics.map(\.description)
                == ["a.yaml (document 1): Namespace n is already defined in b.yaml (document 1), which is enforced; this one is ignored"])
        #expect(after.owners == before.owners)
        // Once the enforced file is gone, the other one takes over.
        let alone = ManifestSet(files: [newcomer], owners: after.owners)
        #expect(alone.snapshot.namespaces["n"]?.labels == ["from": "a"] && alone.diagnostics.isEmpty)
    }
}
