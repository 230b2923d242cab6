import PodgateModel

/// DocumentValues written in code (the YAML parser lives in PodgateManifests).
func s(_ text: String) -> DocumentValue { .scalar(text, plain: true) }
func q(_ text: String) -> DocumentValue { .scalar(text, plain: false) }
func l(_ items: DocumentValue...) -> DocumentValue { .list(items) }
func m(_ entries: (String, DocumentValue)...) -> DocumentValue { .map(entries.map { (key: $0.0, value: $0.1) }) }

func probe(_ from: String, _ to: String, _ port: Int, _ verdict: String, _ extra: (String, DocumentValue)...) -> DocumentValue {
    .map([("from", s(from)), ("to", s(to)), ("port", s(String(port))), ("verdict", s(verdict))].map { (key: $0.0, value: $0.1) }
         + extra.map { (key: $0.0, value: $0.1) })
}

func namespaceDoc(_ name: String) -> DocumentValue {
    m(("apiVersion", s("v1")), ("kind", s("Namespace")), ("metadata", m(("name", s(name)))))
}

func podDoc(_ namespace: String, _ name: String, node: String? = nil, ips: [String] = [], dualStack: Bool = false,
            ports: [(Int, String)] = [], hostNetwork: Bool = false) -> DocumentValue {
    var metadata: [(key: String, value: DocumentValue)] = [("name", s(name)), ("namespace", s(namespace))]
    if dualStack { metadata.append(("annotations", m(("sim.podgate.io/dual-stack", q("true"))))) }
    var spec: [(key: String, value: DocumentValue)] = []
    if let node { spec.append(("nodeName", s(node))) }
    if hostNetwork { spec.append(("hostNetwork", s("true"))) }
    let portList = DocumentValue.list(ports.map { m(("containerPort", s(String($0.0))), ("protocol", s($0.1))) })
    spec.append(("containers", l(m(("name", s("c")), ("image", s("x")), ("ports", portList)))))
    var entries: [(key: String, value: DocumentValue)] = [("apiVersion", s("v1")), ("kind", s("Pod")),
                                                          ("metadata", .map(metadata)), ("spec", .map(spec))]
    if !ips.isEmpty { entries.append(("status", m(("podIPs", .list(ips.map { m(("ip", q($0))) }))))) }
    return .map(entries)
}

/// A parseDocuments seam for tests: each text names its documents.
func fakeParser(_ table: [String: [DocumentValue]]) -> @Sendable (String) throws -> [DocumentValue] {
    let copy = table
    return { text in
        guard let documents = copy[text] else { throw FakeParseError(text: text) }
        return documents
    }
}

struct FakeParseError: Error, CustomStringConvertible {
    let text: String
    var description: String { "no documents for \"\(text)\"" }
}
