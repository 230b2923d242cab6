/// A Kubernetes LabelSelector.
public struct LabelSelector: Hashable, Sendable {
    public enum Operator: String, Hashable, Sendable {
        case `in` = "In", notIn = "NotIn", exists = "Exists", doesNotExist = "DoesNotExist"
    }

    public struct Requirement: Hashable, Sendable {
        public var key: String
        public var `operator`: Operator
        public var values: [String]
        public init(key: String, operator: Operator, values: [String] = []) {
            self.key = key
            self.operator = `operator`
            self.values = values
        }
    }

    public var matchLabels: [String: String]
    public var matchExpressions: [Requirement]

    public init(matchLabels: [String: String] = [:], matchExpressions: [Requirement] = []) {
        self.matchLabels = matchLabels
        self.matchExpressions = matchExpressions
    }

    /// `{}`: selects everything.
    public static let everything = LabelSelector()

    public func matches(_ labels: [String: String]) -> Bool {
        for (key, value) in matchLabels where labels[key] != value { return false }
        for requirement in matchExpressions {
            let value = labels[requirement.key]
            switch requirement.operator {
            case .in: guard let value, requirement.values.contains(value) else { return false }
            case .notIn: if let value, requirement.values.contains(value) { return false }
            case .exists: if value == nil { return false }
            case .doesNotExist: if value != nil { return false }
            }
        }
        return true
    }
}

/// One entry of `spec.ports`.
public struct PolicyPort: Hashable, Sendable {
    public enum Port: Hashable, Sendable {
        case number(Int, endPort: Int?)   // 1...65535, endPort >= port
        case named(String)                // a container port name of the target pod
    }
    public var port: Port
    public var transport: TransportProtocol
    public init(port: Port, transport: TransportProtocol = .tcp) {
        self.port = port
        self.transport = transport
    }
}

public struct ServiceAccountRef: Hashable, Sendable {
    public var name: String
    public var namespace: String   // defaulted to the policy's namespace when decoded
    public init(name: String, namespace: String) { self.name = name; self.namespace = namespace }
}

public struct NetworkBlock: Hashable, Sendable {
    public var cidr: CIDR
    public var except: [CIDR]
    public init(cidr: CIDR, except: [CIDR] = []) { self.cidr = cidr; self.except = except }

    public func contains(_ address: IPAddress) -> Bool {
        cidr.contains(address) && !except.contains { $0.contains(address) }
    }
}

/// One entry of `spec.sources`: every field it holds must match (AND).
public struct PolicySource: Hashable, Sendable {
    public var podSelector: LabelSelector?
    public var namespaceSelector: LabelSelector?
    public var serviceAccounts: [ServiceAccountRef]?
    public var networks: [NetworkBlock]?

    public init(podSelector: LabelSelector? = nil, namespaceSelector: LabelSelector? = nil,
                serviceAccounts: [ServiceAccountRef]? = nil, networks: [NetworkBlock]? = nil) {
        self.podSelector = podSelector
        self.namespaceSelector = namespaceSelector
        self.serviceAccounts = serviceAccounts
        self.networks = networks
    }
}

/// A valid NetworkAuthenticationPolicy.
public struct Policy: Hashable, Sendable {
    public var namespace: String
    public var name: String
    public var target: LabelSelector
    /// Empty: every port, TCP and UDP.
    public var ports: [PolicyPort]
    /// Empty: the listed ports are closed to everyone. Entries are ORed.
    public var sources: [PolicySource]

    public init(namespace: String, name: String, target: LabelSelector, ports: [PolicyPort] = [], sources: [PolicySource]) {
        self.namespace = namespace
        self.name = name
        self.target = target
        self.ports = ports
        self.sources = sources
    }

    public var ref: PolicyRef { PolicyRef(namespace: namespace, name: name) }
}
