import Foundation
import Testing
import PodgateModel
@testable import PodgateManifests

/// Objects from a list or watch of one resource: the resource gives their
/// type (a PodList's items carry no kind/apiVersion: kubernetes/kubernetes#98925).
@Suite struct TypedDecodingTests {
    static let podType = ObjectType(apiVersion: "v1", kind: "Pod")
    static let decoder = ManifestDecoder(unknownFields: .ignore)

    static func document(_ text: String) throws -> DocumentValue {
        try #require(try YAMLParser.parse(text).first)
    }

    // As a real PodList item: no kind, no apiVersion, server-side fields.
    static let listItem = """
    {"metadata":{"name":"web","namespace":"shop","uid":"u-1","creationTimestamp":"2024-05-02T10:11:12Z",
     "deletionTimestamp":"2024-05-02T10:12:12Z","resourceVersion":"77",
     "managedFields":[{"manager":"kubectl","operation":"Update","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{}}}]},
     "spec":{"nodeName":"worker-1","containers":[{"name":"c","ports":[{"containerPort":8080}]}],"someFutureField":{"x":1}},
     "status":{"phase":"Running","qosClass":"BestEffort","podIPs":[{"ip":"10.244.0.5"}]}}
    """

    @Test func aListItemWithoutTypeFieldsIsAPodOfTheListsResource() throws {
        let objects = Self.decoder.decode(try Self.document(Self.listItem), as: Self.podType)
        guard case let .pod(pod)? = objects.first, objects.count == 1 else { Issue.record("\(objects)"); return }
        #expect(pod.ref == PodRef(namespace: "shop", name: "web"))
        #expect(pod.addresses == [IPAddress("10.244.0.5")!])
        #expect(pod.phase == "Running" && pod.isTerminating && pod.creationTimestamp == "2024-05-02T10:11:12Z")
        // Without the resource's type, the same item is what the old decoder refused.
        let untyped = ManifestDecoder().decode(try Self.document(Self.listItem))
        #expect(untyped.first?.diagnostics.first?.description == "<input> (document 1): apiVersion is required")
    }

    @Test func typeFieldsInAnItemAreCheckedWhenPresent() throws {
        let same = Self.listItem.replacingOccurrences(of: #"{"metadata""#, with: #"{"apiVersion":"v1","kind":"Pod","metadata""#)
        guard case .pod? = Self.decoder.decode(try Self.document(same), as: Self.podType).first else {
            Issue.record("a matching kind/apiVersion must be accepted"); return
        }
        let wrong = Self.listItem.replacingOccurrences(of: #"{"metadata""#, with: #"{"apiVersion":"v1","kind":"Service","metadata""#)
        let objects = Self.decoder.decode(try Self.document(wrong), as: Self.podType)
        // Named by kind, namespace and name, so the caller keeps its last good version.
        #expect(objects == [.rejected(ManifestKey(kind: "Pod", namespace: "shop", name: "web"),
                                      [Diagnostic(object: "Pod shop/web", field: "kind", message: "\"Service\" is not Pod, the type of the resource it came from")])])
        let version = Self.listItem.replacingOccurrences(of: #"{"metadata""#, with: #"{"apiVersion":"v2","metadata""#)
        #expect(Self.decoder.decode(try Self.document(version), as: Self.podType).first?.diagnostics.first?.field == "apiVersion")
    }

    @Test func anUnreadableItemIsReportedByKindNamespaceAndName() throws {
        let broken = Self.listItem.replacingOccurrences(of: #""containerPort":8080"#, with: #""containerPort":70000"#)
        let objects = Self.decoder.decode(try Self.document(broken), as: Self.podType)
        #expect(objects.first?.key == ManifestKey(kind: "Pod", namespace: "shop", name: "web"))
        #expect(objects.first?.diagnostics.map(\.description) == ["Pod shop/web: spec.containers[0].ports[0].containerPort 70000 is out of range 1-65535"])
    }

    @Test func namespacesAndPoliciesToo() throws {
        let namespace = #"{"metadata":{"name":"shop","labels":{"kubernetes.io/metadata.name":"shop"}},"spec":{"finalizers":["kubernetes"]},"status":{"phase":"Active"}}"#
        guard case let .namespace(decoded)? = Self.decoder.decode(try Self.document(namespace), as: ObjectType(apiVersion: "v1", kind: "Namespace")).first else {
            Issue.record("namespace list item not decoded"); return
        }
        #expect(decoded.name == "shop")
        let policy = #"{"metadata":{"name":"p","namespace":"shop"},"spec":{"target":{"selector":{}},"sources":[]}}"#
        guard case .policy? = Self.decoder.decode(try Self.document(policy), as: ObjectType(apiVersion: "policy.linkerd.io/v1alpha1", kind: "NetworkAuthenticationPolicy")).first else {
            Issue.record("policy list item not decoded"); return
        }
    }

    @Test func theUnknownFieldsSwitchHasTheAgreedSpelling() {
        #expect(ManifestDecoder().unknownFields == .reject)
        #expect(ManifestDecoder(unknownFields: .ignore).unknownFields == .ignore)
    }
}
