import Testing
import PodgateModel
@testable import PodgateSim

struct AddressPlanTests {
    let a = PodRef(namespace: "n", name: "a")
    let b = PodRef(namespace: "n", name: "b")
    let c = PodRef(namespace: "n", name: "c")

    @Test func assignsFromThePodRangeSkippingGivenAndExternalAddresses() throws {
        var plan = try AddressPlan(nodes: ["a"], externals: [External(name: "e", address: IPAddress("10.244.0.3")!)],
                                   reserved: [IPAddress("10.244.0.2")!])
        try plan.place([SimPod(ref: a, givenAddresses: [IPAddress("10.244.0.2")!]), SimPod(ref: b), SimPod(ref: c, dualStack: true)])
        #expect(plan.pods[a] == [IPAddress("10.244.0.2")!])
        #expect(plan.pods[b] == [IPAddress("10.244.0.4")!])
        #expect(plan.pods[c] == [IPAddress("10.244.0.5")!, IPAddress("fd00:10:244::2")!])
    }

    @Test func podsKeepTheirAddressesAcrossRounds() throws {
        var plan = try AddressPlan(nodes: ["a"], externals: [])
        try plan.place([SimPod(ref: a), SimPod(ref: b)])
        let first = plan.pods
        try plan.place([SimPod(ref: b), SimPod(ref: c)])
        #expect(plan.pods[b] == first[b])
        #expect(plan.pods[c] != first[a])  // never reused within a run
    }

    @Test func nodesAndHostNetworkPodsHoldNodeAddresses() throws {
        var plan = try AddressPlan(nodes: ["a", "b"], externals: [])
        #expect(plan.nodeAddresses("b")! == (IPAddress("172.31.0.2")!, IPAddress("fd00:31::2")!))
        try plan.place([SimPod(ref: a, node: "b", hostNetwork: true)])
        #expect(plan.pods[a] == [IPAddress("172.31.0.2")!, IPAddress("fd00:31::2")!])
    }

    @Test func collisionsAreErrorsNamingThePod() throws {
        var plan = try AddressPlan(nodes: ["a"], externals: [External(name: "e", address: IPAddress("203.0.113.7")!)])
        #expect(throws: Diagnostic(object: "s.yaml: Pod n/b", field: "status.podIPs", message: "10.244.1.1 is also the address of pod n/a")) {
            try plan.place([SimPod(ref: a, givenAddresses: [IPAddress("10.244.1.1")!]), SimPod(ref: b, givenAddresses: [IPAddress("10.244.1.1")!])], file: "s.yaml")
        }
        #expect(throws: Diagnostic(object: "s.yaml: Pod n/a", field: "status.podIPs", message: "203.0.113.7 is also external/e")) {
            try plan.place([SimPod(ref: a, givenAddresses: [IPAddress("203.0.113.7")!])], file: "s.yaml")
        }
        #expect(throws: Diagnostic(object: "s.yaml: Pod n/a", field: "status.podIPs",
                                   message: "172.31.0.9 is inside 172.31.0.0/24, which the simulator keeps for nodes and links")) {
            try plan.place([SimPod(ref: a, givenAddresses: [IPAddress("172.31.0.9")!])], file: "s.yaml")
        }
        #expect(throws: Diagnostic(object: "s.yaml", field: "externals[1].ip", message: "203.0.113.7 is also external/e")) {
            _ = try AddressPlan(nodes: ["a"], externals: [External(name: "e", address: IPAddress("203.0.113.7")!),
                                                          External(name: "f", address: IPAddress("203.0.113.7")!)], file: "s.yaml")
        }
    }
}

struct JSONEmitterTests {
    @Test func onlyPlainScalarsAreTyped() {
        let value = m(("n", s("8080")), ("quoted", q("8080")), ("plus", s("+5")), ("octal", s("007")), ("yes", s("true")),
                      ("word", s("yes")), ("float", s("1.5")), ("null", s("~")), ("empty", s("")), ("qnull", q("null")),
                      ("list", l(s("a"), q("b\n\"c\"\\"), s("\u{1}"))), ("map", m()))
        #expect(JSONEmitter.emit(value) ==
                #"{"n":8080,"quoted":"8080","plus":5,"octal":7,"yes":true,"word":"yes","float":"1.5","null":null,"empty":null,"qnull":"null","list":["a","b\n\"c\"\\","\u0001"],"map":{}}"#)
    }
}

struct ScenarioPlanTests {
    let manifests = [namespaceDoc("demo"),
                     podDoc("demo", "web", ports: [(80, "TCP")]),
                     podDoc("demo", "six", node: "b", dualStack: true, ports: [(53, "UDP")])]

    func plan(_ expect: [DocumentValue], steps: DocumentValue? = nil,
              extra: [String: [DocumentValue]] = [:]) throws -> ScenarioPlan {
        var entries: [(String, DocumentValue)] = [("name", s("p")), ("manifests", s("M")), ("expect", .list(expect)),
                                                  ("externals", l(m(("name", s("e4")), ("ip", s("198.51.100.1")))))]
        if let steps { entries.append(("steps", steps)) }
        let scenario = try ScenarioDecoder.decode(.map(entries.map { (key: $0.0, value: $0.1) }), file: "p.yaml")
        var table = extra
        table["M"] = manifests
        return try ScenarioPlan(scenario: scenario, file: "p.yaml", parseDocuments: fakeParser(table))
    }

    func message(_ body: () throws -> ScenarioPlan) -> String {
        do { _ = try body(); return "no error" } catch { return "\(error)" }
    }

    @Test func nodesComeFromPodsAndHostProbes() throws {
        let p = try plan([probe("host/z", "demo/web", 80, "allow")])
        #expect(p.nodes == ["a", "b", "z"])
        #expect(p.rounds[0].addresses[PodRef(namespace: "demo", name: "six")]?.count == 2)
    }

    @Test func probesAreCheckedAgainstTheirRound() {
        #expect(message { try plan([probe("demo/web", "demo/nope", 80, "allow")]) } ==
                "p.yaml: expect[0].to \"demo/nope\" is not a pod of the scenario")
        #expect(message { try plan([probe("external/x", "demo/web", 80, "allow")]) } ==
                "p.yaml: expect[0].from \"external/x\" is not one of the scenario's externals (e4)")
        #expect(message { try plan([probe("demo/web", "demo/six", 53, "allow", ("family", s("ipv6")))]) }
                .hasPrefix("p.yaml: expect[0].from \"demo/web\" has no IPv6 address for family ipv6"))
        #expect(message { try plan([probe("external/e4", "demo/six", 53, "allow", ("family", s("ipv6")))]) } ==
                "p.yaml: expect[0].from external/e4 has 198.51.100.1, which cannot reach an IPv6 address")
        let steps = l(m(("delete", l(m(("kind", s("Pod")), ("namespace", s("demo")), ("name", s("web"))))),
                        ("expect", l(probe("demo/six", "demo/web", 80, "deny")))))
        #expect(message { try plan([], steps: steps) } == "p.yaml: steps[0].expect[0].to \"demo/web\" is not a pod of the scenario at steps[0]")
        let badDelete = l(m(("delete", l(m(("kind", s("Pod")), ("namespace", s("demo")), ("name", s("gone")))))))
        // (a probe in the first round: a scenario without any is refused first)
        #expect(message { try plan([probe("demo/web", "demo/six", 53, "allow")], steps: badDelete) }
                == "p.yaml: steps[0].delete[0] names Pod demo/gone, which is not in the scenario at this step")
    }

    @Test func stepsApplyAndDeleteByKindNamespaceAndName() throws {
        let policy = m(("kind", s("NetworkAuthenticationPolicy")), ("metadata", m(("name", s("x")), ("namespace", s("demo")))))
        let steps = l(m(("apply", s("S1")), ("expect", l(probe("demo/six", "demo/web", 80, "allow")))),
                      m(("apply", s("S2")), ("delete", l(m(("kind", s("NetworkAuthenticationPolicy")), ("namespace", s("demo")), ("name", s("x")))))))
        let p = try plan([], steps: steps, extra: ["S1": [policy, podDoc("demo", "web", ports: [(81, "TCP")])],
                                                   "S2": [podDoc("demo", "new")]])
        #expect(p.rounds.map(\.title) == ["expect", "steps[0]", "steps[1]"])
        #expect(p.rounds[1].manifests.documents.map(\.key.name) == ["demo", "web", "six", "x"])
        #expect(p.rounds[1].pods.first { $0.ref.name == "web" }?.ports.map(\.port) == [81])
        #expect(p.rounds[2].manifests.documents.map(\.key.name) == ["demo", "web", "six", "new"])
        #expect(p.rounds[2].addresses[PodRef(namespace: "demo", name: "web")] == p.rounds[0].addresses[PodRef(namespace: "demo", name: "web")])
    }

    @Test func podDocumentsGetTheirPlacementInjected() throws {
        let placed = podDoc("demo", "web").placingPod(node: "b", addresses: [IPAddress("10.244.0.2")!, IPAddress("fd00:10:244::2")!])
        #expect(placed["spec"]?["nodeName"]?.string == "b")
        #expect(placed["status"]?["podIP"]?.string == "10.244.0.2")
        #expect(placed["status"]?["podIPs"]?.list?.compactMap { $0["ip"]?.string } == ["10.244.0.2", "fd00:10:244::2"])
        #expect(AgentManifestDirectory.fileName(ScenarioObjectKey(kind: "Pod", namespace: "demo", name: "web/x")) == "pod_demo_web-x.json")
    }

    @Test func matrixReportMarksFailures() {
        let ok = ProbeResult(probe: Probe(from: .host(node: "a"), to: PodRef(namespace: "d", name: "b"), port: 80, verdict: .allow, field: "expect[0]"),
                             source: nil, destination: IPAddress("10.244.0.2")!, allowed: true, how: "echo")
        let bad = ProbeResult(probe: Probe(from: .host(node: "a"), to: PodRef(namespace: "d", name: "b"), port: 9000, verdict: .allow, field: "expect[1]"),
                              source: nil, destination: IPAddress("10.244.0.2")!, allowed: false, how: "timeout")
        let text = MatrixReport.render(title: "round 1", checked: [Checked(result: ok, eventProblem: nil), Checked(result: bad, eventProblem: nil)])
        #expect(text == "round 1:\n                 80/TCP  9000/TCP\n  host/a -> d/b  .       X!\n")
        #expect(Checked(result: bad, eventProblem: nil).failureLine == "FAIL expect[1]: host/a -> d/b 9000/TCP: expected allow, got deny (timeout)")
    }
}
