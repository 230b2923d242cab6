import Testing
import PodgateCLI
import PodgateModel
@testable import PodgateAgent

@Suite struct KubeOptionsTests {
    @Test func nodeAddressesComeFromTheDownwardAPI() throws {
        #expect(try AgentOptions.downwardAPIAddresses(["HOST_IPS": "172.18.0.3,fc00:f853::3", "HOST_IP": "172.18.0.3"])
            == [IPAddress("172.18.0.3")!, IPAddress("fc00:f853::3")!])
        #expect(try AgentOptions.downwardAPIAddresses(["HOST_IP": "172.18.0.3"]) == [IPAddress("172.18.0.3")!])
        #expect(try AgentOptions.downwardAPIAddresses([:]) == [])
        let error = #expect(throws: (any Error).self) { try AgentOptions.downwardAPIAddresses(["HOST_IPS": "172.18.0.3,nope"]) }
        #expect("\(error.map { "\($0)" } ?? "")".contains("$HOST_IPS"))
    }

    @Test func localAndKubernetesModeFlagsExcludeEachOther() {
        let error = #expect(throws: UsageError.self) {
            try AgentOptions(parseArguments(["--manifests", "/tmp/m", "--kubeconfig", "/tmp/k"], spec: AgentOptions.spec))
        }
        #expect(error?.description.contains("--kubeconfig") == true)
    }

    @Test func kubeconfigIsParsedWithTheYAMLParser() throws {
        let document = try KubeSource.parseYAML("apiVersion: v1\nkind: Config\ncurrent-context: c\n")
        #expect(document["current-context"]?.string == "c")
        #expect(throws: AgentError.self) { try KubeSource.parseYAML("") }
    }
}
