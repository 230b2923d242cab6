import Testing
import PodgateCLI
@testable import PodgateAgent
import PodgateModel

@Suite struct ArgumentsTests {
    let spec = CommandSpec(name: "t", summary: "s", flags: [.init("name", value: "N", help: ""), .init("flag", help: ""), .init("list", value: "L", help: "")])

    @Test func parsesSeparateInlineRepeatedAndSwitchForms() throws {
        let parsed = try parseArguments(["--name", "a", "--list=x,y", "--list", "z", "--flag", "pos", "-o", "json"], spec: spec)
        #expect(parsed.value("name") == "a")
        #expect(parsed.list("list") == ["x", "y", "z"])
        #expect(parsed.has("flag"))
        #expect(parsed.positional == ["pos"])
        #expect(parsed.value("output") == "json")
    }

    @Test func rejectsUnknownFlagsAndMissingValues() {
        #expect(throws: UsageError.self) { try parseArguments(["--nope"], spec: spec) }
        #expect(throws: UsageError.self) { try parseArguments(["--name"], spec: spec) }
    }

    @Test func helpListsEveryFlag() {
        let help = AgentOptions.spec.helpText
        for flag in AgentOptions.spec.flags { #expect(help.contains("--\(flag.name)")) }
    }

    @Test func agentOptionsValidateValuesNamingTheFlag() throws {
        let bad: [([String], String)] = [
            (["--default-inbound-policy", "open"], "--default-inbound-policy"),
            (["--cluster-networks", "10.0.0.0/99"], "--cluster-networks"),
            (["--node-address", "nope"], "--node-address"),
            (["--allow-from-host", "maybe"], "--allow-from-host"),
            (["--unknown-pod-policy", "ignore"], "--unknown-pod-policy"),
            (["--revoke-established", "sometimes"], "--revoke-established"),
            (["--log-level", "verbose"], "--log-level"),
        ]
        for (arguments, flag) in bad {
            let parsed = try parseArguments(arguments, spec: AgentOptions.spec)
            #expect {
                _ = try AgentOptions(parsed)
            } throws: { error in
                "\(error)".contains(flag)
            }
        }
        let good = try AgentOptions(parseArguments(["--cluster-networks", "10.244.0.0/16,fd00::/56", "--default-inbound-policy", "deny",
                                                     "--allow-from-host=false", "--node-name", "b"], spec: AgentOptions.spec))
        #expect(good.settings.clusterNetworks.count == 2)
        #expect(good.settings.defaultInboundPolicy == .deny)
        #expect(good.settings.allowFromHost == false)
        #expect(good.settings.nodeName == "b")
        #expect(good.revokeEstablished, "on by default")
        #expect(try AgentOptions(parseArguments(["--revoke-established=false"], spec: AgentOptions.spec)).revokeEstablished == false)
        #expect(good.logLevel == .info)
        #expect(try AgentOptions(parseArguments(["--log-level", "debug"], spec: AgentOptions.spec)).logLevel == .debug)
    }

    /// `--edge-interfaces`: auto by default in Kubernetes mode (issue 13 item 4), none in local mode; a list or none on request.
    @Test func edgeInterfacesDefaultToAutoInKubernetesMode() throws {
        func options(_ arguments: [String]) throws -> AgentOptions {
            try AgentOptions(parseArguments(arguments + ["--node-address", "10.0.0.1"], spec: AgentOptions.spec))
        }
        #expect(try options([]).autoEdgeInterfaces, "Kubernetes mode")
        #expect(try options(["--manifests", "/tmp"]).autoEdgeInterfaces == false, "local mode")
        #expect(try options(["--manifests", "/tmp", "--edge-interfaces", "auto"]).autoEdgeInterfaces)
        let none = try options(["--edge-interfaces", "none"])
        #expect(!none.autoEdgeInterfaces && none.edgeInterfaces.isEmpty)
        let named = try options(["--edge-interfaces", "eth0,flannel.1"])
        #expect(!named.autoEdgeInterfaces && named.edgeInterfaces == ["eth0", "flannel.1"])
        #expect { _ = try options(["--edge-interfaces", "eth0,auto"]) } throws: { "\($0)".contains("--edge-interfaces") }
    }
}
