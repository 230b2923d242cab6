import PodgateModel

/// A Pod with any problem is reported and dropped as a whole, the way the
/// API server would have refused it.
struct PodDecoder {
    let location: DocumentLocation
    var strict = true

    func decode(_ document: DocumentValue) -> ManifestObject {
        var identity = ObjectIdentity(kind: "Pod", location: location)
        guard let (namespace, name) = identity.read(document) else {
            return .malformed(kind: "Pod", identity.reader.problems)
        }
        var reader = FieldReader(object: identity.objectName(namespace: namespace, name: name))
        if strict { FieldSchema.pod.unknownFields(in: document, at: "", kind: "Pod", &reader) }
        let metadata = document["metadata"]
        let annotations = reader.stringMap(metadata?["annotations"], "metadata.annotations")
        let spec = reader.map(document["spec"], "spec")
        let status = reader.map(document["status"], "status")
        // Kubernetes defaults an empty service account to "default";
        // `serviceAccount` is the deprecated spelling.
        let account = reader.string(spec?["serviceAccountName"], "spec.serviceAccountName")
            ?? reader.string(spec?["serviceAccount"], "spec.serviceAccount")
        let pod = Pod(
            namespace: namespace, name: name,
            uid: reader.string(metadata?["uid"], "metadata.uid") ?? "",
            labels: reader.stringMap(metadata?["labels"], "metadata.labels"),
            defaultInboundPolicy: annotations[DefaultInboundPolicy.annotation],
            serviceAccount: account.flatMap { $0.isEmpty ? nil : $0 } ?? "default",
            ports: containerPorts(spec, &reader),
            hostNetwork: reader.bool(spec?["hostNetwork"], "spec.hostNetwork") ?? false,
            nodeName: reader.string(spec?["nodeName"], "spec.nodeName").flatMap { $0.isEmpty ? nil : $0 },
            addresses: addresses(status, &reader),
            annotations: annotations,
            phase: reader.string(status?["phase"], "status.phase").flatMap { $0.isEmpty ? nil : $0 },
            // Any value: the server sets it once deletion has begun.
            isTerminating: reader.string(metadata?["deletionTimestamp"], "metadata.deletionTimestamp").map { !$0.isEmpty } ?? false,
            creationTimestamp: reader.string(metadata?["creationTimestamp"], "metadata.creationTimestamp"))
        guard reader.problems.isEmpty else {
            return .rejected(ManifestKey(kind: "Pod", namespace: namespace, name: name), reader.problems)
        }
        return .pod(pod)
    }

    private func containerPorts(_ spec: DocumentValue?, _ reader: inout FieldReader) -> [ContainerPort] {
        var result: [ContainerPort] = []
        for (c, container) in (reader.list(spec?["containers"], "spec.containers") ?? []).enumerated() {
            let containerField = "spec.containers[\(c)]"
            guard container.mapEntries != nil else {
                reader.fail(containerField, "must be a map")
                continue
            }
            for (p, port) in (reader.list(container["ports"], "\(containerField).ports") ?? []).enumerated() {
                if let decoded = containerPort(port, "\(containerField).ports[\(p)]", &reader) { result.append(decoded) }
            }
        }
        return result
    }

    /// nil for an SCTP port (the agent enforces TCP and UDP only) or a problem.
    private func containerPort(_ port: DocumentValue, _ field: String, _ reader: inout FieldReader) -> ContainerPort? {
        guard port.mapEntries != nil else {
            reader.fail(field, "must be a map")
            return nil
        }
        let name = reader.string(port["name"], "\(field).name")
        let protocolText = reader.string(port["protocol"], "\(field).protocol") ?? "TCP"
        guard let number = reader.integer(port["containerPort"], "\(field).containerPort") else {
            if reader.present(port["containerPort"]) == nil { reader.fail("\(field).containerPort", "is required") }
            return nil
        }
        guard (1...65535).contains(number) else {
            reader.fail("\(field).containerPort", "\(number) is out of range 1-65535")
            return nil
        }
        if protocolText == "SCTP" { return nil }
        guard let transport = TransportProtocol(rawValue: protocolText) else {
            reader.fail("\(field).protocol", "\"\(protocolText)\" is not TCP, UDP or SCTP")
            return nil
        }
        return ContainerPort(name: name.flatMap { $0.isEmpty ? nil : $0 }, port: number, transport: transport)
    }

    /// `status.podIPs[].ip` and `status.podIP`, each address once, in order.
    private func addresses(_ status: DocumentValue?, _ reader: inout FieldReader) -> [IPAddress] {
        var texts: [(String, String)] = []
        for (index, item) in (reader.list(status?["podIPs"], "status.podIPs") ?? []).enumerated() {
            guard item.mapEntries != nil else {
                reader.fail("status.podIPs[\(index)]", "must be a map")
                continue
            }
            if let ip = reader.string(item["ip"], "status.podIPs[\(index)].ip") { texts.append((ip, "status.podIPs[\(index)].ip")) }
        }
        if let ip = reader.string(status?["podIP"], "status.podIP") { texts.append((ip, "status.podIP")) }
        var result: [IPAddress] = []
        for (text, field) in texts where !text.isEmpty {
            guard let address = IPAddress(text) else {
                reader.fail(field, "\"\(text)\" is not an IP address")
                continue
            }
            if !result.contains(address) { result.append(address) }
        }
        return result
    }
}
