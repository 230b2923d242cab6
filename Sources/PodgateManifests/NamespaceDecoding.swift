import PodgateModel

struct NamespaceDecoder {
    let location: DocumentLocation
    var strict = true

    func decode(_ document: DocumentValue) -> ManifestObject {
        var identity = ObjectIdentity(kind: "Namespace", location: location)
        guard let (_, name) = identity.read(document, namespaced: false) else {
            return .malformed(kind: "Namespace", identity.reader.problems)
        }
        var reader = FieldReader(object: identity.objectName(namespace: "", name: name))
        if strict { FieldSchema.namespace.unknownFields(in: document, at: "", kind: "Namespace", &reader) }
        let metadata = document["metadata"]
        let labels = reader.stringMap(metadata?["labels"], "metadata.labels")
        let annotations = reader.stringMap(metadata?["annotations"], "metadata.annotations")
        guard reader.problems.isEmpty else {
            return .rejected(ManifestKey(kind: "Namespace", namespace: "", name: name), reader.problems)
        }
        return .namespace(Namespace(name: name, labels: labels,
                                    defaultInboundPolicy: annotations[DefaultInboundPolicy.annotation]))
    }
}
