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

/// One file parsed and decoded, kept by local mode so an unchanged file is
/// never parsed again (the decoded objects are small; the text is not kept).
public struct DecodedFile: Hashable, Sendable {
    public var name: String
    public var objects: [DecodedObject]
    /// Set when the file did not parse: it then holds no object.
    public var parseError: Diagnostic?

    public struct DecodedObject: Hashable, Sendable {
        public var location: DocumentLocation
        public var object: ManifestObject
    }

    public init(_ file: ManifestFile, limits: YAMLLimits = YAMLLimits(), decoder: ManifestDecoder = ManifestDecoder()) {
        name = file.name
        objects = []
        do {
            let documents = try YAMLParser.parse(bytes: file.bytes, limits: limits)
            for (index, document) in documents.enumerated() {
                let location = DocumentLocation(file: file.name, index: index + 1)
                objects += decoder.decode(document, at: location).map { DecodedObject(location: location, object: $0) }
            }
        } catch {
            parseError = Diagnostic(object: file.name, field: "", message: error.description)
        }
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
    public var rejected: Set<ManifestKey>
    /// The file each object was taken from: pass it back as `owners` next time.
    public var owners: [ManifestKey: String]

    /// Files are read in name order. When two documents name the same object
    /// (kind, namespace, name), the one from the file that held it last time
    /// (`owners`: the one enforced) stays, else the first; the other is
    /// reported and ignored, whatever the file names.
    public init(files: [ManifestFile], limits: YAMLLimits = YAMLLimits(), owners: [ManifestKey: String] = [:]) {
        self.init(decoded: files.map { DecodedFile($0, limits: limits) }, owners: owners)
    }

    public init(decoded files: [DecodedFile], owners previousOwners: [ManifestKey: String] = [:]) {
        let files = files.sorted { $0.name < $1.name }
        // The winner of each key: the first occurrence in its enforced file, else the first occurrence.
        var winner: [ManifestKey: DocumentLocation] = [:]
        for file in files {
            for item in file.objects {
                guard let key = item.object.key else { continue }
                if let current = winner[key] {
                    let owner = previousOwners[key]
                    if owner == file.name, current.file != owner { winner[key] = item.location }
                } else {
                    winner[key] = item.location
                }
            }
        }
        var snapshot = ClusterSnapshot()
        var diagnostics: [Diagnostic] = []
        var rejected: Set<ManifestKey> = []
        var owners: [ManifestKey: String] = [:]
        var taken: Set<ManifestKey> = []
        for file in files {
            if let problem = file.parseError { diagnostics.append(problem) }
            for item in file.objects {
                let object = item.object
                if let key = object.key, let first = winner[key] {
                    guard first == item.location, taken.insert(key).inserted else {
                        let enforced = previousOwners[key] == first.file ? ", which is enforced" : ""
                        diagnostics.append(Diagnostic(object: item.location.description, field: "",
                                                      message: "\(key) is already defined in \(first)\(enforced); this one is ignored"))
                        continue
                    }
                    owners[key] = file.name
                }
                diagnostics += object.diagnostics
                if case let .rejected(key, _) = object { rejected.insert(key) }
                snapshot.add(object)
            }
        }
        self.snapshot = snapshot
        self.diagnostics = diagnostics
        self.rejected = rejected
        self.owners = owners
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
