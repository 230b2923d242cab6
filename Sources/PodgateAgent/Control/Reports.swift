/// What the agent reports over its control socket. Plain Codable values:
/// the CLI decodes and formats them; tests read them as JSON.

public struct StatusReport: Codable, Sendable {
    public struct Program: Codable, Sendable, Equatable {
        public var hook: String
        public var programIDs: [UInt32]
        public var cgroup: String
    }
    public struct MapFill: Codable, Sendable, Equatable {
        public var map: String
        public var entries: Int
        public var capacity: Int
    }
    public struct Sync: Codable, Sendable, Equatable {
        public var source: String
        public var time: String?
    }
    public struct Events: Codable, Sendable, Equatable {
        public var emitted: Int
        public var lostInKernel: UInt64
        public var skippedBySubscribers: Int
        public var subscribers: Int
        public var undecodable: Int
    }
    public struct Counts: Codable, Sendable, Equatable {
        public var pods: Int
        public var localPods: Int
        public var identities: Int
        public var targetClasses: Int
        public var policies: Int
        public var endpoints: Int
        public var addresses: Int
        public var cidrs: Int
        public var policyEntries: Int
    }

    public var version: String
    public var abiVersion: Int
    public var node: String
    public var pinDirectory: String
    public var stateDirectory: String
    public var healthAddress: String?
    public var startedAt: String
    public var ready: Bool
    public var programs: [Program]
    public var maps: [MapFill]
    public var counts: Counts
    public var sync: [Sync]
    public var invalidPolicies: [String]
    public var problems: [String]
    public var events: Events
    /// Closing open connections on a change: "on", "off (...)" or "unavailable: why".
    public var revocation: String?
}

/// Numbers in the maps -> names, for `maps dump`. Keys are decimal strings
/// (JSON object keys); addresses are in their usual text form.
public struct NameTables: Codable, Sendable, Equatable {
    public struct Identity: Codable, Sendable, Equatable {
        public var namespace: String
        public var serviceAccount: String
        public var labels: [String: String]
        public var pods: [String]
    }
    public var identities: [String: Identity] = [:]
    public var cidrClasses: [String: String] = [:]
    /// Target class -> "pods of identity N, default policy P".
    public var targetClasses: [String: String] = [:]
    public var targetClassPods: [String: [String]] = [:]
    public var cgroups: [String: String] = [:]
    public var pods: [String: String] = [:]
    public var addresses: [String: String] = [:]
    public var policies: [String: String] = [:]
    public init() {}
}

public struct Explanation: Codable, Sendable, Equatable {
    public struct KernelView: Codable, Sendable, Equatable {
        public var verdict: String
        public var reason: String
        public var policy: String?
    }

    public var from: String
    public var to: String
    public var port: Int
    public var `protocol`: String
    public var family: String
    public var sourceAddress: String?
    public var destinationAddress: String?
    /// allowed | denied | audit
    public var verdict: String
    public var reason: String
    /// Which rule of policy-semantics.md decided, in words.
    public var rule: String
    public var policiesConsidered: [String]
    public var matchedPolicy: String?
    public var defaultPolicy: String?
    public var defaultPolicyOrigin: String?
    /// What the policies selecting the target would allow.
    public var nearestMiss: [String]
    /// The same connection looked up in the maps the kernel holds now.
    public var kernelServer: KernelView?
    public var kernelClient: KernelView?
    /// false when the kernel's maps decide differently from the policies.
    public var agreesWithKernel: Bool?
    public var notes: [String]
}
