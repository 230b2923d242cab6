import Foundation
import PodgateModel
import PodgateKube

/// API objects shaped as `kubectl get -o json` prints them (and as the API
/// server sends them), parameterized by what the tests vary.
public enum Fixtures {
    public static func podJSON(_ name: String, namespace: String = "demo", uid: String, resourceVersion: String,
                        app: String = "backend", ip: String? = "10.244.1.7", node: String = "worker-1",
                        phase: String = "Running", qos: String = "BestEffort", serviceAccount: String = "default",
                        created: String = "2024-05-02T10:11:12Z") -> String {
        // No address reported yet (the kubelet has not written status.podIPs): no podIP fields at all.
        let addresses = ip.map { #""podIP":"\#($0)","podIPs":[{"ip":"\#($0)"}],"# } ?? ""
        return """
        {"apiVersion":"v1","kind":"Pod","metadata":{"creationTimestamp":"\(created)",\
        "generateName":"\(app)-7d9c8b6f5-","labels":{"app":"\(app)","pod-template-hash":"7d9c8b6f5"},\
        "name":"\(name)","namespace":"\(namespace)","ownerReferences":[{"apiVersion":"apps/v1","blockOwnerDeletion":true,\
        "controller":true,"kind":"ReplicaSet","name":"\(app)-7d9c8b6f5","uid":"0b7c4d2e-1111-4a5b-9c8d-7e6f5a4b3c2d"}],\
        "resourceVersion":"\(resourceVersion)","uid":"\(uid)"},"spec":{"containers":[{"image":"nginx:1.25",\
        "imagePullPolicy":"IfNotPresent","name":"\(app)","ports":[{"containerPort":8080,"name":"http","protocol":"TCP"}],\
        "resources":{},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File",\
        "volumeMounts":[{"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount","name":"kube-api-access-x7k2p","readOnly":true}]}],\
        "dnsPolicy":"ClusterFirst","enableServiceLinks":true,"nodeName":"\(node)","preemptionPolicy":"PreemptLowerPriority",\
        "priority":0,"restartPolicy":"Always","schedulerName":"default-scheduler","securityContext":{},\
        "serviceAccount":"\(serviceAccount)","serviceAccountName":"\(serviceAccount)","terminationGracePeriodSeconds":30,\
        "tolerations":[{"effect":"NoExecute","key":"node.kubernetes.io/not-ready","operator":"Exists","tolerationSeconds":300}]},\
        "status":{"conditions":[{"lastProbeTime":null,"lastTransitionTime":"2024-05-02T10:11:14Z","status":"True","type":"Ready"}],\
        "containerStatuses":[{"containerID":"containerd://4f2a9c","image":"docker.io/library/nginx:1.25","imageID":"docker.io/library/nginx@sha256:0d17b565",\
        "lastState":{},"name":"\(app)","ready":true,"restartCount":0,"started":true,"state":{"running":{"startedAt":"2024-05-02T10:11:13Z"}}}],\
        "hostIP":"172.18.0.3","hostIPs":[{"ip":"172.18.0.3"}],"phase":"\(phase)",\(addresses)\
        "qosClass":"\(qos)","startTime":"2024-05-02T10:11:12Z"}}
        """
    }

    public static func namespaceJSON(_ name: String, uid: String, resourceVersion: String) -> String {
        """
        {"apiVersion":"v1","kind":"Namespace","metadata":{"annotations":{"config.linkerd.io/default-inbound-policy":"deny"},\
        "creationTimestamp":"2024-05-02T10:00:00Z","labels":{"kubernetes.io/metadata.name":"\(name)"},"name":"\(name)",\
        "resourceVersion":"\(resourceVersion)","uid":"\(uid)"},"spec":{"finalizers":["kubernetes"]},"status":{"phase":"Active"}}
        """
    }

    /// The policy of the seed walkthrough (policy-semantics.md), as the API server returns it.
    public static func policyJSON(_ name: String = "frontend-can-talk-to-backend", namespace: String = "demo", uid: String,
                                  resourceVersion: String, target: String = "backend", port: Int = 8080,
                                  source: String = "frontend") -> String {
        """
        {"apiVersion":"policy.linkerd.io/v1alpha1","kind":"NetworkAuthenticationPolicy","metadata":{"creationTimestamp":"2024-05-02T10:20:00Z",\
        "generation":1,"name":"\(name)","namespace":"\(namespace)","resourceVersion":"\(resourceVersion)","uid":"\(uid)"},\
        "spec":{"ports":[{"port":\(port)}],"sources":[{"podSelector":{"matchLabels":{"app":"\(source)"}}}],\
        "target":{"selector":{"matchLabels":{"app":"\(target)"}}}}}
        """
    }

    /// The API server's list answer (`kind: PodList`); kubectl prints `kind: List`.
    /// The items of a built-in list carry no kind/apiVersion
    /// (kubernetes/kubernetes#98925): they are removed here.
    public static func listJSON(kind: String = "PodList", apiVersion: String = "v1", items: [String], resourceVersion: String,
                         continueToken: String? = nil) -> String {
        let items = apiVersion == "v1" ? items.map(untyped) : items
        let meta = continueToken.map { #"{"continue":"\#($0)","resourceVersion":"\#(resourceVersion)"}"# }
            ?? #"{"resourceVersion":"\#(resourceVersion)"}"#
        return #"{"apiVersion":"\#(apiVersion)","items":[\#(items.joined(separator: ","))],"kind":"\#(kind)","metadata":\#(meta)}"#
    }

    /// An object without its type fields, as a built-in list's item.
    public static func untyped(_ object: String) -> String {
        guard var dictionary = (try? JSONSerialization.jsonObject(with: Data(object.utf8))) as? [String: Any] else { return object }
        dictionary["kind"] = nil
        dictionary["apiVersion"] = nil
        return FixtureCluster.json(dictionary)
    }

    public static func event(_ type: String, _ object: String) -> String {
        #"{"type":"\#(type)","object":\#(object)}"# + "\n"
    }

    public static func bookmark(_ resourceVersion: String, kind: String = "Pod") -> String {
        event("BOOKMARK", #"{"kind":"\#(kind)","apiVersion":"v1","metadata":{"resourceVersion":"\#(resourceVersion)","creationTimestamp":null,"annotations":{"k8s.io/initial-events-end":"true"}},"spec":{"containers":null},"status":{}}"#)
    }

    public static func statusJSON(code: Int, reason: String, message: String) -> String {
        #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"\#(message)","reason":"\#(reason)","code":\#(code)}"#
    }

    public static func goneEvent(_ message: String = "too old resource version: 100 (250)") -> String {
        event("ERROR", statusJSON(code: 410, reason: "Expired", message: message))
    }

    public static func pod(_ name: String, uid: String, resourceVersion: String) throws -> DocumentValue {
        try JSONDocument.parse(podJSON(name, uid: uid, resourceVersion: resourceVersion))
    }

    public static func key(_ name: String, uid: String, namespace: String? = "demo") -> ObjectKey {
        ObjectKey(namespace: namespace, name: name, uid: uid)
    }
}
