import PodgateModel

/// The scenario's Kubernetes objects at one point of the run, in order of
/// first appearance; `apply` replaces by (kind, namespace, name) as kubectl does.
public struct ScenarioManifests: Sendable, Equatable {
    public private(set) var documents: [(key: ScenarioObjectKey, value: DocumentValue)] = []

    public init() {}

    public static func == (a: ScenarioManifests, b: ScenarioManifests) -> Bool {
        a.documents.map(\.key) == b.documents.map(\.key) && a.documents.map(\.value) == b.documents.map(\.value)
    }

    /// `origin` names the text for errors: `manifests`, `steps[0].apply`.
    public mutating func apply(_ parsed: [DocumentValue], origin: String, file: String) throws {
        for (index, document) in parsed.enumerated() where !document.isNull {
            let key = try ScenarioManifests.key(of: document, at: "\(origin)[\(index)]", file: file)
            if let existing = documents.firstIndex(where: { $0.key == key }) {
                documents[existing].value = document
            } else {
                documents.append((key, document))
            }
        }
    }

    public mutating func delete(_ key: ScenarioObjectKey, at field: String, file: String) throws {
        guard let index = documents.firstIndex(where: { $0.key == key }) else {
            throw Diagnostic(object: file, field: field, message: "names \(key), which is not in the scenario at this step")
        }
        documents.remove(at: index)
    }

    public var pods: [(key: ScenarioObjectKey, value: DocumentValue)] { documents.filter { $0.key.kind == "Pod" } }

    static func key(of document: DocumentValue, at field: String, file: String) throws -> ScenarioObjectKey {
        guard document.mapEntries != nil else { throw Diagnostic(object: file, field: field, message: "is not a Kubernetes object (a map)") }
        guard let kind = document["kind"]?.string, !kind.isEmpty else {
            throw Diagnostic(object: file, field: "\(field).kind", message: "is required")
        }
        guard let name = document["metadata"]?["name"]?.string, !name.isEmpty else {
            throw Diagnostic(object: file, field: "\(field).metadata.name", message: "is required")
        }
        let namespace = kind == "Namespace" ? nil : (document["metadata"]?["namespace"]?.string ?? "default")
        return ScenarioObjectKey(kind: kind, namespace: namespace, name: name)
    }
}

/// What the simulator needs to know about a pod (the agent decodes the rest).
public struct SimPod: Hashable, Sendable {
    public var ref: PodRef
    public var node: String
    public var givenAddresses: [IPAddress]
    public var dualStack: Bool
    public var hostNetwork: Bool
    public var ports: [ContainerPort]

    public init(ref: PodRef, node: String = "a", givenAddresses: [IPAddress] = [], dualStack: Bool = false,
                hostNetwork: Bool = false, ports: [ContainerPort] = []) {
        self.ref = ref
        self.node = node
        self.givenAddresses = givenAddresses
        self.dualStack = dualStack
        self.hostNetwork = hostNetwork
        self.ports = ports
    }

    public static let dualStackAnnotation = "sim.podgate.io/dual-stack"
    public static let defaultNode = "a"

    public init(document: DocumentValue, key: ScenarioObjectKey, file: String) throws {
        let object = "\(file): Pod \(key.namespace ?? "default")/\(key.name)"
        func fail(_ field: String, _ message: String) -> Diagnostic { Diagnostic(object: object, field: field, message: message) }
        let spec = document["spec"]
        let node = spec?["nodeName"]?.string ?? SimPod.defaultNode
        guard SimPod.isUsableNodeName(node) else {
            throw fail("spec.nodeName", "\"\(node)\" must be 1-20 characters of a-z, 0-9, '-' and '.'")
        }
        var addresses: [IPAddress] = []
        for (index, entry) in (document["status"]?["podIPs"]?.list ?? []).enumerated() {
            guard let text = entry["ip"]?.string ?? entry.string, let address = IPAddress(text) else {
                throw fail("status.podIPs[\(index)].ip", "is not an IPv4 or IPv6 address")
            }
            addresses.append(address)
        }
        if addresses.isEmpty, let text = document["status"]?["podIP"]?.string {
            guard let address = IPAddress(text) else { throw fail("status.podIP", "\"\(text)\" is not an address") }
            addresses.append(address)
        }
        let annotation = document["metadata"]?["annotations"]?[SimPod.dualStackAnnotation]
        var ports: [ContainerPort] = []
        for (c, container) in (spec?["containers"]?.list ?? []).enumerated() {
            for (p, port) in (container["ports"]?.list ?? []).enumerated() {
                let field = "spec.containers[\(c)].ports[\(p)]"
                guard let number = port["containerPort"]?.string.flatMap({ Int($0) }), (1...65535).contains(number) else {
                    throw fail("\(field).containerPort", "is not a port number (1-65535)")
                }
                let name = port["protocol"]?.string?.uppercased() ?? "TCP"
                guard let transport = TransportProtocol(rawValue: name) else {
                    throw fail("\(field).protocol", "\"\(name)\" is not TCP or UDP (the simulator serves only these)")
                }
                ports.append(ContainerPort(name: port["name"]?.string, port: number, transport: transport))
            }
        }
        self.init(ref: PodRef(namespace: key.namespace ?? "default", name: key.name), node: node,
                  givenAddresses: addresses, dualStack: annotation?.string == "true" || annotation?.bool == true,
                  hostNetwork: spec?["hostNetwork"]?.bool ?? false, ports: ports)
    }

    /// Node names end up in namespace, cgroup and pin-dir names.
    static func isUsableNodeName(_ name: String) -> Bool {
        (1...20).contains(name.count) && name.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" || $0 == "." }
            && name != "." && name != ".."
    }
}

extension DocumentValue {
    /// A copy of a Pod document with the simulator's placement written in, as
    /// the scheduler and kubelet would: `spec.nodeName`, `status.podIP(s)`.
    func placingPod(node: String, addresses: [IPAddress]) -> DocumentValue {
        let ips = DocumentValue.list(addresses.map { .map([("ip", .scalar($0.description, plain: false))]) })
        let spec = (self["spec"] ?? .map([])).setting("nodeName", to: .scalar(node, plain: false))
        var status = (self["status"] ?? .map([])).setting("podIPs", to: ips)
        if let primary = addresses.first { status = status.setting("podIP", to: .scalar(primary.description, plain: false)) }
        return setting("spec", to: spec).setting("status", to: status)
    }

    func setting(_ key: String, to value: DocumentValue) -> DocumentValue {
        var entries = mapEntries ?? []
        if let index = entries.firstIndex(where: { $0.key == key }) {
            entries[index].value = value
        } else {
            entries.append((key, value))
        }
        return .map(entries)
    }
}
