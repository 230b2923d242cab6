import Testing
import PodgateModel
@testable import PodgateSim

struct ScenarioDecoderTests {
    func decode(_ document: DocumentValue) throws -> Scenario {
        try ScenarioDecoder.decode(document, file: "t.yaml")
    }

    func message(_ document: DocumentValue) -> String {
        do { _ = try decode(document); return "no error" } catch { return "\(error)" }
    }

    @Test func decodesEveryField() throws {
        let scenario = try decode(m(
            ("name", s("all")), ("description", s("text")),
            ("agent", m(("defaultInboundPolicy", s("deny")), ("clusterNetworks", l(s("10.244.0.0/16"), q("fd00:10:244::/56"))),
                        ("allowFromHost", s("false")))),
            ("externals", l(m(("name", s("internet")), ("ip", s("203.0.113.7"))), m(("name", s("partner")), ("ip", q("2001:db8::7"))))),
            ("manifests", s("MANIFESTS")),
            ("probeTimeoutSeconds", s("2.5")),
            ("expect", l(probe("demo/a", "demo/b", 8080, "allow"),
                         probe("host/n2", "demo/b", 53, "deny", ("protocol", s("UDP")), ("family", s("ipv6")),
                               ("event", m(("where", s("server")), ("reason", s("not-authorized"))))),
                         probe("external/internet", "demo/b", 80, "allow", ("family", s("ipv4-mapped"))))),
            ("steps", l(m(("apply", s("STEP")), ("delete", l(m(("kind", s("NetworkAuthenticationPolicy")), ("namespace", s("demo")), ("name", s("x"))),
                                                             m(("kind", s("Namespace")), ("name", s("demo"))))),
                          ("expect", l(probe("demo/a", "demo/b", 1, "deny"))))))))
        #expect(scenario.name == "all")
        #expect(scenario.description == "text")
        #expect(scenario.agent == ScenarioAgentOptions(defaultInboundPolicy: .deny, clusterNetworks: [CIDR("10.244.0.0/16")!, CIDR("fd00:10:244::/56")!], allowFromHost: false))
        #expect(scenario.agent.arguments == ["--default-inbound-policy", "deny", "--cluster-networks", "10.244.0.0/16,fd00:10:244::/56", "--allow-from-host", "false"])
        #expect(scenario.externals.map(\.name) == ["internet", "partner"])
        #expect(scenario.externals[1].address == IPAddress("2001:db8::7"))
        #expect(scenario.manifests == "MANIFESTS")
        #expect(scenario.probeTimeoutSeconds == 2.5)
        #expect(scenario.expect.count == 3)
        #expect(scenario.expect[0] == Probe(from: .pod(PodRef(namespace: "demo", name: "a")), to: PodRef(namespace: "demo", name: "b"),
                                            port: 8080, verdict: .allow, field: "expect[0]"))
        #expect(scenario.expect[1].from == .host(node: "n2"))
        #expect(scenario.expect[1].transport == .udp)
        #expect(scenario.expect[1].family == .ipv6)
        #expect(scenario.expect[1].event == EventCheck(side: .server, reason: .notAuthorized))
        #expect(scenario.expect[2].from == .external("internet"))
        #expect(scenario.expect[2].family == .ipv4Mapped)
        #expect(scenario.steps.count == 1)
        #expect(scenario.steps[0].apply == "STEP")
        #expect(scenario.steps[0].delete == [ScenarioObjectKey(kind: "NetworkAuthenticationPolicy", namespace: "demo", name: "x"),
                                            ScenarioObjectKey(kind: "Namespace", namespace: nil, name: "demo")])
        #expect(scenario.steps[0].expect[0].field == "steps[0].expect[0]")
    }

    @Test func defaultsAreTCPIPv4AndOneSecond() throws {
        let scenario = try decode(m(("name", s("d")), ("expect", l(probe("a/b", "a/c", 80, "deny")))))
        #expect(scenario.expect[0].transport == .tcp)
        #expect(scenario.expect[0].family == .ipv4)
        #expect(scenario.probeTimeoutSeconds == 1)
        #expect(scenario.agent.arguments.isEmpty)
    }

    /// docs/scenario-format.md: a field the format does not have is an error
    /// naming the file and the field, wherever it is.
    @Test func unknownFieldsAnywhereAreErrorsNamingFileAndField() {
        let ok = probe("a/b", "a/c", 80, "deny")
        let cases: [(DocumentValue, String)] = [
            (m(("name", s("w")), ("colour", s("red")), ("expect", l(ok))), "colour"),
            (m(("name", s("w")), ("expect", l(probe("a/b", "a/c", 80, "deny", ("note", s("x")))))), "expect[0].note"),
            (m(("name", s("w")), ("agent", m(("defaultInboundPolicyy", s("deny")))), ("expect", l(ok))), "agent.defaultInboundPolicyy"),
            (m(("name", s("w")), ("externals", l(m(("name", s("i")), ("ip", s("203.0.113.7")), ("port", s("1"))))), ("expect", l(ok))),
             "externals[0].port"),
            (m(("name", s("w")), ("expect", l(ok)), ("steps", l(m(("aply", s("X")), ("expect", l(ok)))))), "steps[0].aply"),
            (m(("name", s("w")), ("expect", l(ok)),
               ("steps", l(m(("delete", l(m(("kind", s("Pod")), ("name", s("p")), ("namespaces", s("x"))))), ("expect", l(ok)))))),
             "steps[0].delete[0].namespaces"),
            (m(("name", s("w")), ("expect", l(probe("a/b", "a/c", 80, "deny",
                                                     ("event", m(("where", s("server")), ("reason", s("default-deny")), ("why", s("x")))))))),
             "expect[0].event.why"),
            (m(("name", s("w")), ("expect", m(("matrix", m(("ports", l(s("80"))), ("a/b -> a/c", s("X")))), ("extra", s("1"))))),
             "expect.extra"),
        ]
        for (document, field) in cases {
            let text = message(document)
            #expect(text.hasPrefix("t.yaml: \(field) is not a field"), "\(text)")
        }
    }

    /// Every field misspelt: before, this ran zero probes and passed.
    @Test func aScenarioWithoutProbesFails() {
        let none = "t.yaml: expect is empty, and so is every step's"
        let noProbe: [DocumentValue] = [
            m(("name", s("w"))),
            m(("name", s("w")), ("expect", l())),
            m(("name", s("w")), ("steps", l(m(("apply", s("X")))))),
        ]
        for document in noProbe {
            let text = message(document)
            #expect(text.hasPrefix(none), "\(text)")
        }
        let later = m(("name", s("w")), ("steps", l(m(("expect", l(probe("a/b", "a/c", 80, "deny")))))))
        #expect(message(later) == "no error")
    }

    @Test func errorsNameTheFileAndTheField() {
        #expect(message(m(("description", s("x")))) == "t.yaml: name is required")
        #expect(message(m(("name", s("x")), ("expect", l(probe("a/b", "a/c", 80, "allow"), probe("a/b", "a/c", 0, "allow"))))) ==
                "t.yaml: expect[1].port \"0\" is not a port number (1-65535)")
        #expect(message(m(("name", s("x")), ("expect", l(probe("a/b", "host/a", 80, "allow"))))) ==
                "t.yaml: expect[0].to \"host/a\" must be a pod (NAMESPACE/POD): probes go to pods")
        #expect(message(m(("name", s("x")), ("expect", l(probe("nobody", "a/c", 80, "allow"))))) ==
                "t.yaml: expect[0].from \"nobody\" is not NAMESPACE/POD, host/NODE or external/NAME")
        #expect(message(m(("name", s("x")), ("expect", l(probe("a/b", "a/c", 80, "maybe"))))) ==
                "t.yaml: expect[0].verdict \"maybe\" is not allow or deny")
        #expect(message(m(("name", s("x")), ("expect", l(probe("a/b", "a/c", 80, "deny", ("protocol", s("SCTP"))))))) ==
                "t.yaml: expect[0].protocol \"SCTP\" is not TCP or UDP")
        #expect(message(m(("name", s("x")), ("expect", l(probe("a/b", "a/c", 80, "deny", ("event", m(("where", s("middle")), ("reason", s("default-deny")))))))))
                == "t.yaml: expect[0].event.where \"middle\" is not client or server")
        #expect(message(m(("name", s("x")), ("agent", m(("clusterNetworks", l(s("10.0.0.0/99")))))))
                == "t.yaml: agent.clusterNetworks[0] \"10.0.0.0/99\" is not a CIDR")
        #expect(message(m(("name", s("x")), ("agent", m(("defaultInboundPolicy", s("open")))))).hasPrefix(
                "t.yaml: agent.defaultInboundPolicy \"open\" is not one of all-unauthenticated"))
        #expect(message(m(("name", s("x")), ("externals", l(m(("name", s("e")), ("ip", s("300.1.1.1"))))))) ==
                "t.yaml: externals[0].ip \"300.1.1.1\" is not an IPv4 or IPv6 address")
        #expect(message(m(("name", s("x")), ("steps", l(m(("delete", l(m(("kind", s("Pod")))))))))) ==
                "t.yaml: steps[0].delete[0].name is required")
        #expect(message(m(("name", s("x")), ("expect", s("all good")))) ==
                "t.yaml: expect must be a list of probes or a map with `matrix:`")
    }

    @Test func matrixRowsDirectlyInTheMatrixAsLists() throws {
        let scenario = try decode(m(("name", s("mx")), ("expect", m(("matrix", m(
            ("ports", l(s("80"), s("8080"))), ("protocols", l(s("TCP"), s("UDP"))),
            ("demo/a -> demo/b", l(s("."), s("X"), s("allow"), s("deny"))),
            ("host/a->demo/b", l(s("-"), s("x"), s("."), s(".")))))))))
        let cells = scenario.expect.map { "\($0.from)>\($0.to) \($0.port)/\($0.transport.rawValue) \($0.verdict.rawValue)" }
        #expect(cells == ["demo/a>demo/b 80/TCP allow", "demo/a>demo/b 80/UDP deny", "demo/a>demo/b 8080/TCP allow",
                          "demo/a>demo/b 8080/UDP deny",
                          "host/a>demo/b 80/UDP deny", "host/a>demo/b 8080/TCP allow", "host/a>demo/b 8080/UDP allow"])
        #expect(scenario.expect[0].field == "expect.matrix[\"demo/a -> demo/b\"][0]")
    }

    @Test func matrixUnderTableWithStringRows() throws {
        let scenario = try decode(m(("name", s("mx")), ("expect", m(("matrix", m(
            ("ports", l(s("80"), s("81"), s("82"))), ("family", s("ipv6")),
            ("table", m(("a/x -> a/y", q(". X .")), ("external/e -> a/y", q(".X-"))))))))))
        #expect(scenario.expect.map(\.verdict) == [.allow, .deny, .allow, .allow, .deny])
        #expect(scenario.expect.allSatisfy { $0.family == .ipv6 && $0.transport == .tcp })
        #expect(scenario.expect[4].from == .external("e"))
    }

    @Test func matrixErrorsNameTheRow() {
        #expect(message(m(("name", s("x")), ("expect", m(("matrix", m(("ports", l(s("80"), s("81"))), ("a/b -> a/c", l(s(".")))))))))
                == "t.yaml: expect.matrix[\"a/b -> a/c\"] has 1 verdicts, expected 2 (2 ports x 1 protocols)")
        #expect(message(m(("name", s("x")), ("expect", m(("matrix", m(("ports", l(s("80"))), ("a/b -> a/c", l(s("?")))))))))
                == "t.yaml: expect.matrix[\"a/b -> a/c\"][0] \"?\" is not a verdict (., X, allow, deny or -)")
        #expect(message(m(("name", s("x")), ("expect", m(("matrix", m(("a/b -> a/c", l(s(".")))))))))
                == "t.yaml: expect.matrix.ports is required")
        #expect(message(m(("name", s("x")), ("expect", m(("matrix", m(("ports", l(s("80"))), ("oops", l(s(".")))))))))
                == "t.yaml: expect.matrix.oops is neither ports, protocols, family, table nor a \"FROM -> TO\" row")
    }
}
