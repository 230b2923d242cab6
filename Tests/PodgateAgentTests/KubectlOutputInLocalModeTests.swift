import Testing
import PodgateKubeFixtures
import PodgateManifests
import PodgateModel

/// Local mode rejects unknown fields, but what `kubectl get -o json` prints
/// (objects as the API server returns them, PodgateKubeFixtures) must pass
/// untouched: the schema knows every field a real server writes there.
@Suite struct KubectlOutputInLocalModeTests {
    @Test func aKubectlListIsReadWithoutComplaint() throws {
        // `kubectl get ns,pods,nap -o json` prints a `kind: List` whose items keep
        // their apiVersion and kind (kubectl sets each object's type when it
        // prints several resources), unlike the API server's own PodList.
        let items = [Fixtures.namespaceJSON("demo", uid: "u-ns", resourceVersion: "1"),
                     Fixtures.podJSON("backend-7d9c8b6f5-x2x9z", uid: "u-pod", resourceVersion: "2"),
                     Fixtures.policyJSON(uid: "u-pol", resourceVersion: "3")]
        let list = #"{"apiVersion":"v1","items":[\#(items.joined(separator: ","))],"kind":"List","metadata":{"resourceVersion":""}}"#
        let set = ManifestSet(text: list, fileName: "kubectl-get.json")
        #expect(set.diagnostics.isEmpty, "\(set.diagnostics)")
        #expect(set.snapshot.namespaces.count == 1 && set.snapshot.pods.count == 1 && set.snapshot.policies.count == 1)
    }
}
