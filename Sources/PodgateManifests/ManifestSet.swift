import PodgateModel

/// One manifest file's name and contents. Bytes, not a String, so invalid
/// UTF-8 reaches the parser and is reported instead of silently repaired.
public struct ManifestFile: Hashable, Sendable {
    public var name: String
    public var bytes: [UInt8]
    public init(name: String, bytes: [UInt8]) {
        self.name = name
        self.bytes = bytes
    }
    public init(name: String, text: String) {
        self.init(name: name, bytes: Array(text.utf8))
    }
}

/// A set of manifest files turned into the cluster the compiler sees.
/// Pure: text in, values out (reading a directory is `ManifestDirectory`).
public struct ManifestSet: Hashable, Sendable {
    public var snapshot: ClusterSnapshot
    /// Everything reported: unreadable files, malformed objects, invalid
    /// policies, duplicates. Sorted by file order, then document order.
    public var diagnostics: [Diagnostic]
    /// Namespaces and Pods present but unreadable (see `keepingLastGood`).
    public var rejected: Set<ObjectKey>

    /// Files are read in name order; when two documents name the same
    /// object (kind, namespace, name), the first wins and the other is reported.
    public init(files: [ManifestFile], limits: YAMLLimits = YAMLLimits()) {
        var snapshot = ClusterSnapshot()
        var diagnostics: [Diagnostic] = []
        var seen: [ObjectKey: DocumentLocation] = [:]
        var rejected: Set<ObjectKey> = []
        let decoder = ManifestDecoder()
        for file in files.sorted(by: { $0.name < $1.name }) {
            let documents: [DocumentValue]
            do {
                documents = try YAMLParser.parse(bytes: file.bytes, limits: limits)
            } catch {
                diagnostics.append(Diagnostic(object: file.name, field: "", message: error.description))
                continue
            }
            for (index, document) in documents.enumerated() {
                let location = DocumentLocation(file: file.name, index: index + 1)
                for object in decoder.decode(document, at: location) {
                    if let key = object.key {
                        if let first = seen[key] {
                            diagnostics.append(Diagnostic(object: location.description, field: "",
                                                          message: "\(key) is already defined in \(first); ignored"))
                            continue
                        }
                        seen[key] = location
                    }
                    diagnostics += object.diagnostics
                    if case let .rejected(key, _) = object { rejected.insert(key) }
                    snapshot.add(object)
                }
            }
        }
        self.snapshot = snapshot
        self.diagnostics = diagnostics
        self.rejected = rejected
    }

    /// The snapshot with each rejected Namespace or Pod replaced by its
    /// version in `previous`, so a broken edit changes nothing enforced.
    public func keepingLastGood(from previous: ClusterSnapshot) -> ClusterSnapshot {
        var result = snapshot
        for key in rejected {
            switch key.kind {
            case "Pod":
                let ref = PodRef(namespace: key.namespace, name: key.name)
                if result.pods[ref] == nil { result.pods[ref] = previous.pods[ref] }
            case "Namespace":
                if result.namespaces[key.name] == nil { result.namespaces[key.name] = previous.namespaces[key.name] }
            default: break
            }
        }
        return result
    }

    /// Convenience for one stream of text (tests, `kubectl get -o yaml` output).
    public init(text: String, fileName: String = "<input>", limits: YAMLLimits = YAMLLimits()) {
        self.init(files: [ManifestFile(name: fileName, text: text)], limits: limits)
    }
}

extension ClusterSnapshot {
    /// Adds one decoded object; malformed and ignored objects add nothing.
    public mutating func add(_ object: ManifestObject) {
        switch object {
        case let .namespace(namespace): namespaces[namespace.name] = namespace
        case let .pod(pod): pods[pod.ref] = pod
        case let .policy(policy): policies[policy.ref] = policy
        case let .invalidPolicy(ref, problems):
            if let first = problems.first { invalidPolicies[ref] = first }
        case .malformed, .rejected, .ignored: break
        }
    }
}
