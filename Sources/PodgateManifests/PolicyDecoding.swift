import PodgateModel

/// Validates one NetworkAuthenticationPolicy against every rule of
/// policy-semantics.md. Any problem makes the whole policy invalid.
struct PolicyDecoder {
    let namespace: String
    let name: String
    private var reader: FieldReader

    let strict: Bool

    init(namespace: String, name: String, strict: Bool = true) {
        self.namespace = namespace
        self.name = name
        self.strict = strict
        self.reader = FieldReader(object: "\(namespace)/\(name)")
    }

    mutating func decode(_ document: DocumentValue) -> ManifestObject {
        let ref = PolicyRef(namespace: namespace, name: name)
        if strict { FieldSchema.policy.unknownFields(in: document, at: "", kind: ManifestKind.policy, &reader) }
        let spec = reader.map(document["spec"], "spec")
        if spec == nil && reader.problems.isEmpty { reader.fail("spec", "is required") }
        let target = targetSelector(spec)
        let ports = policyPorts(spec?["ports"])
        let sources = policySources(spec?["sources"], specPresent: spec != nil)
        guard reader.problems.isEmpty, let target, let sources else {
            return .invalidPolicy(ref, reader.problems)
        }
        return .policy(Policy(namespace: namespace, name: name, target: target, ports: ports, sources: sources))
    }

    private mutating func targetSelector(_ spec: DocumentValue?) -> LabelSelector? {
        guard let spec else { return nil }
        guard let target = reader.map(spec["target"], "spec.target") else {
            if reader.present(spec["target"]) == nil { reader.fail("spec.target.selector", "is required") }
            return nil
        }
        guard reader.present(target["selector"]) != nil else {
            reader.fail("spec.target.selector", "is required")
            return nil
        }
        return reader.labelSelector(target["selector"], "spec.target.selector")
    }

    // MARK: ports

    private mutating func policyPorts(_ value: DocumentValue?) -> [PolicyPort] {
        guard let items = reader.list(value, "spec.ports") else { return [] }
        return items.enumerated().compactMap { index, item in policyPort(item, "spec.ports[\(index)]") }
    }

    private mutating func policyPort(_ item: DocumentValue, _ field: String) -> PolicyPort? {
        guard item.mapEntries != nil else {
            reader.fail(field, "must be a map")
            return nil
        }
        let transport = policyProtocol(item["protocol"], "\(field).protocol")
        let endPort = reader.integer(item["endPort"], "\(field).endPort")
        guard let portValue = reader.present(item["port"]) else {
            reader.fail("\(field).port", "is required")
            return nil
        }
        guard case let .scalar(text, plain) = portValue else {
            reader.fail("\(field).port", "must be a port number or a port name")
            return nil
        }
        if plain, let number = Int(text) {
            guard (1...65535).contains(number) else {
                reader.fail("\(field).port", "\(number) is out of range 1-65535")
                return nil
            }
            if let endPort {
                if endPort < number {
                    reader.fail("\(field).endPort", "\(endPort) is below port \(number)")
                    return nil
                }
                if endPort > 65535 {
                    reader.fail("\(field).endPort", "\(endPort) is above 65535")
                    return nil
                }
            }
            guard let transport else { return nil }
            return PolicyPort(port: .number(number, endPort: endPort), transport: transport)
        }
        guard PortName.isValid(text) else {
            reader.fail("\(field).port", "\"\(text)\" is not a valid port name")
            return nil
        }
        if reader.present(item["endPort"]) != nil {
            reader.fail("\(field).endPort", "requires a numeric port, not the named port \"\(text)\"")
            return nil
        }
        guard let transport else { return nil }
        return PolicyPort(port: .named(text), transport: transport)
    }

    /// TCP when omitted; nil (with a problem recorded) when not TCP or UDP.
    private mutating func policyProtocol(_ value: DocumentValue?, _ field: String) -> TransportProtocol? {
        guard let text = reader.string(value, field) else {
            return reader.present(value) == nil ? .tcp : nil
        }
        guard let transport = TransportProtocol(rawValue: text) else {
            reader.fail(field, "\"\(text)\" is not TCP or UDP")
            return nil
        }
        return transport
    }

    // MARK: sources

    private mutating func policySources(_ value: DocumentValue?, specPresent: Bool) -> [PolicySource]? {
        guard let items = reader.list(value, "spec.sources") else {
            if specPresent && reader.present(value) == nil { reader.fail("spec.sources", "is required") }
            return nil
        }
        let sources = items.enumerated().compactMap { index, item in policySource(item, "spec.sources[\(index)]") }
        return sources.count == items.count ? sources : nil
    }

    private mutating func policySource(_ item: DocumentValue, _ field: String) -> PolicySource? {
        guard item.mapEntries != nil else {
            reader.fail(field, "must be a map")
            return nil
        }
        let before = reader.problems.count
        let fields = ["podSelector", "namespaceSelector", "serviceAccounts", "networks"]
        guard fields.contains(where: { reader.present(item[$0]) != nil }) else {
            reader.fail(field, "has no field (one of podSelector, namespaceSelector, serviceAccounts, networks)")
            return nil
        }
        let source = PolicySource(
            podSelector: reader.labelSelector(item["podSelector"], "\(field).podSelector"),
            namespaceSelector: reader.labelSelector(item["namespaceSelector"], "\(field).namespaceSelector"),
            serviceAccounts: serviceAccounts(item["serviceAccounts"], "\(field).serviceAccounts"),
            networks: networks(item["networks"], "\(field).networks"))
        return reader.problems.count == before ? source : nil
    }

    private mutating func serviceAccounts(_ value: DocumentValue?, _ field: String) -> [ServiceAccountRef]? {
        guard let items = reader.list(value, field) else { return nil }
        return items.enumerated().compactMap { index, item in
            let path = "\(field)[\(index)]"
            guard item.mapEntries != nil else {
                reader.fail(path, "must be a map")
                return nil
            }
            guard let name = reader.requiredString(item["name"], "\(path).name") else { return nil }
            let accountNamespace = reader.string(item["namespace"], "\(path).namespace")
            return ServiceAccountRef(name: name, namespace: accountNamespace.flatMap { $0.isEmpty ? nil : $0 } ?? namespace)
        }
    }

    private mutating func networks(_ value: DocumentValue?, _ field: String) -> [NetworkBlock]? {
        guard let items = reader.list(value, field) else { return nil }
        return items.enumerated().compactMap { index, item in networkBlock(item, "\(field)[\(index)]") }
    }

    private mutating func networkBlock(_ item: DocumentValue, _ field: String) -> NetworkBlock? {
        guard item.mapEntries != nil else {
            reader.fail(field, "must be a map")
            return nil
        }
        guard let text = reader.requiredString(item["cidr"], "\(field).cidr") else { return nil }
        guard let cidr = CIDR(text) else {
            reader.fail("\(field).cidr", "\"\(text)\" is not a valid CIDR")
            return nil
        }
        var excepts: [CIDR] = []
        for (index, exceptText) in reader.stringList(item["except"], "\(field).except").enumerated() {
            let path = "\(field).except[\(index)]"
            guard let except = CIDR(exceptText) else {
                reader.fail(path, "\"\(exceptText)\" is not a valid CIDR")
                continue
            }
            guard except.isIPv4 == cidr.isIPv4 else {
                reader.fail(path, "\(except) is not of the same address family as \(cidr)")
                continue
            }
            guard cidr.contains(except) else {
                reader.fail(path, "\(except) is not inside \(cidr)")
                continue
            }
            excepts.append(except)
        }
        return NetworkBlock(cidr: cidr, except: excepts)
    }
}

/// Kubernetes IANA_SVC_NAME: at most 15 lowercase letters, digits and '-',
/// at least one letter, no '-' at either end and no "--".
enum PortName {
    static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...15).contains(bytes.count), bytes.first != UInt8(ascii: "-"), bytes.last != UInt8(ascii: "-"),
              !name.contains("--") else { return false }
        let isLetter = { (b: UInt8) in (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) }
        let isDigit = { (b: UInt8) in (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) }
        return bytes.allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "-") } && bytes.contains(where: isLetter)
    }
}
