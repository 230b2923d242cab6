import Foundation
import Testing
import PodgateModel
@testable import PodgateManifests

/// Every rule of policy-semantics.md, each with its exact message.
@Suite struct PolicyValidationTests {
    static let selector = "target: {selector: {matchLabels: {app: svc}}}"
    static let anyone = "sources: [{podSelector: {}}]"

    /// name -> (spec, the one expected diagnostic)
    static let invalid: [String: (String, String)] = [
        "endPort below port": ("{\(selector), ports: [{port: 8081, endPort: 8000}], \(anyone)}",
                               "demo/p: spec.ports[0].endPort 8000 is below port 8081"),
        "endPort above 65535": ("{\(selector), ports: [{port: 80, endPort: 70000}], \(anyone)}",
                                "demo/p: spec.ports[0].endPort 70000 is above 65535"),
        "endPort with named port": ("{\(selector), ports: [{port: http, endPort: 90}], \(anyone)}",
                                    "demo/p: spec.ports[0].endPort requires a numeric port, not the named port \"http\""),
        "port zero": ("{\(selector), ports: [{port: 0}], \(anyone)}", "demo/p: spec.ports[0].port 0 is out of range 1-65535"),
        "port too big": ("{\(selector), ports: [{port: 65536}], \(anyone)}",
                         "demo/p: spec.ports[0].port 65536 is out of range 1-65535"),
        "quoted number is a bad name": ("{\(selector), ports: [{port: \"8080\"}], \(anyone)}",
                                        "demo/p: spec.ports[0].port \"8080\" is not a valid port name"),
        "bad port name": ("{\(selector), ports: [{port: Http_1}], \(anyone)}",
                          "demo/p: spec.ports[0].port \"Http_1\" is not a valid port name"),
        "missing port": ("{\(selector), ports: [{protocol: TCP}], \(anyone)}", "demo/p: spec.ports[0].port is required"),
        "port is a map": ("{\(selector), ports: [{port: {a: 1}}], \(anyone)}",
                          "demo/p: spec.ports[0].port must be a port number or a port name"),
        "SCTP": ("{\(selector), ports: [{port: 80, protocol: SCTP}], \(anyone)}",
                 "demo/p: spec.ports[0].protocol \"SCTP\" is not TCP or UDP"),
        "lowercase protocol": ("{\(selector), ports: [{port: 80, protocol: tcp}], \(anyone)}",
                               "demo/p: spec.ports[0].protocol \"tcp\" is not TCP or UDP"),
        "ports not a list": ("{\(selector), ports: 80, \(anyone)}", "demo/p: spec.ports must be a list"),
        "no spec": ("", "demo/p: spec is required"),
        "no target": ("{\(anyone)}", "demo/p: spec.target.selector is required"),
        "no selector": ("{target: {}, \(anyone)}", "demo/p: spec.target.selector is required"),
        "unknown operator": ("{target: {selector: {matchExpressions: [{key: a, operator: Has}]}}, \(anyone)}",
                             "demo/p: spec.target.selector.matchExpressions[0].operator \"Has\" is not In, NotIn, Exists or DoesNotExist"),
        "In without values": ("{target: {selector: {matchExpressions: [{key: a, operator: In}]}}, \(anyone)}",
                              "demo/p: spec.target.selector.matchExpressions[0].values must not be empty for In"),
        "NotIn with empty values": ("{target: {selector: {matchExpressions: [{key: a, operator: NotIn, values: []}]}}, \(anyone)}",
                                    "demo/p: spec.target.selector.matchExpressions[0].values must not be empty for NotIn"),
        "Exists with values": ("{target: {selector: {matchExpressions: [{key: a, operator: Exists, values: [x]}]}}, \(anyone)}",
                               "demo/p: spec.target.selector.matchExpressions[0].values must be empty for Exists"),
        "expression without key": ("{target: {selector: {matchExpressions: [{operator: Exists}]}}, \(anyone)}",
                                   "demo/p: spec.target.selector.matchExpressions[0].key is required"),
        "matchLabels value a map": ("{target: {selector: {matchLabels: {app: {x: y}}}}, \(anyone)}",
                                    "demo/p: spec.target.selector.matchLabels[app] must be a string"),
        "no sources": ("{\(selector)}", "demo/p: spec.sources is required"),
        "sources not a list": ("{\(selector), sources: {podSelector: {}}}", "demo/p: spec.sources must be a list"),
        "empty source entry": ("{\(selector), sources: [{}]}",
                               "demo/p: spec.sources[0] has no field (one of podSelector, namespaceSelector, serviceAccounts, networks)"),
        "source entry with only null fields": ("{\(selector), sources: [{podSelector: null}]}",
                                                 "demo/p: spec.sources[0] has no field (one of podSelector, namespaceSelector, serviceAccounts, networks)"),
        "bad podSelector operator": ("{\(selector), sources: [{podSelector: {matchExpressions: [{key: a, operator: in, values: [b]}]}}]}",
                                     "demo/p: spec.sources[0].podSelector.matchExpressions[0].operator \"in\" is not In, NotIn, Exists or DoesNotExist"),
        "service account without name": ("{\(selector), sources: [{serviceAccounts: [{namespace: x}]}]}",
                                         "demo/p: spec.sources[0].serviceAccounts[0].name is required"),
        "bad cidr": ("{\(selector), sources: [{networks: [{cidr: 10.0.0.0/99}]}]}",
                     "demo/p: spec.sources[0].networks[0].cidr \"10.0.0.0/99\" is not a valid CIDR"),
        "cidr missing": ("{\(selector), sources: [{networks: [{except: [10.0.0.0/8]}]}]}",
                         "demo/p: spec.sources[0].networks[0].cidr is required"),
        "bad except": ("{\(selector), sources: [{networks: [{cidr: 10.0.0.0/8, except: [10.0.0.300/32]}]}]}",
                       "demo/p: spec.sources[0].networks[0].except[0] \"10.0.0.300/32\" is not a valid CIDR"),
        "except outside cidr": ("{\(selector), sources: [{networks: [{cidr: 10.0.0.0/8, except: [192.168.0.0/16]}]}]}",
                                "demo/p: spec.sources[0].networks[0].except[0] 192.168.0.0/16 is not inside 10.0.0.0/8"),
        "except of the other family": ("{\(selector), sources: [{networks: [{cidr: 10.0.0.0/8, except: [\"fd00::/8\"]}]}]}",
                                       "demo/p: spec.sources[0].networks[0].except[0] fd00::/8 is not of the same address family as 10.0.0.0/8"),
        "wider except": ("{\(selector), sources: [{networks: [{cidr: 10.1.0.0/16, except: [10.0.0.0/8]}]}]}",
                         "demo/p: spec.sources[0].networks[0].except[0] 10.0.0.0/8 is not inside 10.1.0.0/16"),
    ]

    static func decode(spec: String) -> ManifestObject? {
        let text = """
        apiVersion: policy.linkerd.io/v1alpha1
        kind: NetworkAuthenticationPolicy
        metadata: {name: p, namespace: demo}
        \(spec.isEmpty ? "" : "spec: \(spec)")
        """
        guard let document = try? YAMLParser.parse(text).first else { return nil }
        return ManifestDecoder().decode(document).first
    }

    @Test(arguments: invalid.keys.sorted())
    func rejects(_ name: String) throws {
        let (spec, message) = try #require(Self.invalid[name])
        let object = try #require(Self.decode(spec: spec))
        guard case let .invalidPolicy(ref, problems) = object else {
            Issue.record("accepted: \(object)")
            return
        }
        #expect(ref == PolicyRef(namespace: "demo", name: "p"))
        #expect(problems.map(\.description) == [message])
    }

    static let valid: [String: (String, Policy)] = [
        "empty sources close the ports": ("{\(selector), ports: [{port: 80}], sources: []}",
            Policy(namespace: "demo", name: "p", target: LabelSelector(matchLabels: ["app": "svc"]),
                   ports: [PolicyPort(port: .number(80, endPort: nil))], sources: [])),
        "omitted ports, everything selector": ("{target: {selector: {}}, sources: [{namespaceSelector: {}}]}",
            Policy(namespace: "demo", name: "p", target: .everything, sources: [PolicySource(namespaceSelector: .everything)])),
        "range, UDP, named port, expressions": (
            "{target: {selector: {matchExpressions: [{key: a, operator: In, values: [x, y]}, {key: b, operator: DoesNotExist}]}}, ports: [{port: 7000, endPort: 7002, protocol: UDP}, {port: http}, {port: 9, endPort: 9}], \(anyone)}",
            Policy(namespace: "demo", name: "p",
                   target: LabelSelector(matchExpressions: [.init(key: "a", operator: .in, values: ["x", "y"]),
                                                            .init(key: "b", operator: .doesNotExist)]),
                   ports: [PolicyPort(port: .number(7000, endPort: 7002), transport: .udp), PolicyPort(port: .named("http")),
                           PolicyPort(port: .number(9, endPort: 9))],
                   sources: [PolicySource(podSelector: .everything)])),
        "service accounts default to the policy namespace": (
            "{\(selector), sources: [{serviceAccounts: [{name: api}, {name: job, namespace: batch}]}]}",
            Policy(namespace: "demo", name: "p", target: LabelSelector(matchLabels: ["app": "svc"]),
                   sources: [PolicySource(serviceAccounts: [ServiceAccountRef(name: "api", namespace: "demo"),
                                                             ServiceAccountRef(name: "job", namespace: "batch")])])),
        "networks with except, both families": (
            "{\(selector), sources: [{networks: [{cidr: 203.0.113.0/24, except: [203.0.113.7/32]}, {cidr: \"2001:db8::/32\"}], podSelector: {matchLabels: {a: b}}}]}",
            Policy(namespace: "demo", name: "p", target: LabelSelector(matchLabels: ["app": "svc"]),
                   sources: [PolicySource(podSelector: LabelSelector(matchLabels: ["a": "b"]),
                                          networks: [NetworkBlock(cidr: CIDR("203.0.113.0/24")!, except: [CIDR("203.0.113.7/32")!]),
                                                     NetworkBlock(cidr: CIDR("2001:db8::/32")!)])])),
    ]

    @Test(arguments: valid.keys.sorted())
    func accepts(_ name: String) throws {
        let (spec, expected) = try #require(Self.valid[name])
        #expect(Self.decode(spec: spec) == .policy(expected))
    }

    /// The walkthrough's manifest, read from policy-semantics.md itself (the contract), not from a copy.
    @Test func acceptsTheSeedManifestExactlyAsWritten() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let page = try String(contentsOf: root.appendingPathComponent("docs/policy-semantics.md"), encoding: .utf8)
        let block = try #require(page.components(separatedBy: "```yaml\n").dropFirst().first?.components(separatedBy: "```").first)
        let text = String(block)
        #expect(text.contains("kind: NetworkAuthenticationPolicy"))
        let set = ManifestSet(text: text)
        #expect(set.diagnostics.isEmpty)
        let policy = try #require(set.snapshot.policies[PolicyRef(namespace: "demo", name: "frontend-can-talk-to-backend")])
        #expect(policy == Policy(namespace: "demo", name: "frontend-can-talk-to-backend",
                                 target: LabelSelector(matchLabels: ["app": "backend"]),
                                 ports: [PolicyPort(port: .number(8080, endPort: nil), transport: .tcp)],
                                 sources: [PolicySource(podSelector: LabelSelector(matchLabels: ["app": "frontend"]))]))
    }

    @Test func reportsEveryProblemOfOnePolicy() throws {
        let object = try #require(Self.decode(spec: "{\(Self.selector), ports: [{port: 0}, {port: 1, protocol: X}], sources: [{}]}"))
        #expect(object.diagnostics.map(\.field) == ["spec.ports[0].port", "spec.ports[1].protocol", "spec.sources[0]"])
    }

    @Test func portNames() {
        for good in ["http", "h2c", "a-b", "abcdefghijklmno", "web1"] { #expect(PortName.isValid(good), "\(good)") }
        for bad in ["", "8080", "-a", "a-", "a--b", "Http", "abcdefghijklmnop", "a_b"] { #expect(!PortName.isValid(bad), "\(bad)") }
    }
}
