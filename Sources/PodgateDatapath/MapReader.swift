import CLibbpf
import CPodgateABI
import PodgateModel
#if canImport(Glibc)
import Glibc
#endif

/// What the kernel holds, read back from the maps: what a restarted agent
/// diffs its desired state against.
public struct RealizedState: Hashable, Sendable {
    /// nil: abi_version is 0, the datapath is not configured (it allows all).
    public var config: DatapathConfig?
    public var endpoints: [CgroupID: EndpointValue] = [:]
    public var addresses: [IPAddress: AddressValue] = [:]
    public var cidrs: [CIDR: CIDRValue] = [:]
    public var policy: [PolicyKey: PolicyValue] = [:]
    /// How often each policy entry decided a connection since it was written.
    public var policyHits: [PolicyKey: UInt64] = [:]
    /// Entries the model cannot represent (another ABI, a bug), described.
    public var unreadable: [String] = []

    public init() {}

    /// The maps as a DesiredState, or nil while not configured: a diff
    /// against an unconfigured datapath must write the config.
    public var desiredStateShape: DesiredState? {
        config.map { DesiredState(config: $0, endpoints: endpoints, addresses: addresses, cidrs: cidrs, policy: policy) }
    }
}

/// The per-CPU counters, summed over CPUs.
public struct DatapathCounters: Hashable, Sendable {
    public struct Decision: Hashable, Sendable, CustomStringConvertible {
        public var location: DatapathEvent.Location
        public var verdict: DatapathEvent.Verdict
        public var reason: DatapathEvent.Reason
        public init(location: DatapathEvent.Location, verdict: DatapathEvent.Verdict, reason: DatapathEvent.Reason) {
            self.location = location
            self.verdict = verdict
            self.reason = reason
        }
        public var description: String { "\(location)/\(verdict)/\(reason)" }
    }

    /// Connection decisions; combinations never taken are absent.
    public var decisions: [Decision: UInt64] = [:]
    /// Events the ring buffer had no room for (the decisions are still counted).
    public var eventsLost: UInt64 = 0
    public var spoofDropped: UInt64 = 0
    public var repliesPassed: UInt64 = 0
    /// Inbound packets that claimed the receiving pod's own address from outside it (rule 1).
    public var forgedInbound: UInt64 = 0
    /// Packets from outside the node claiming this node's or a local pod's address (tc, --edge-interfaces).
    public var edgeForged: UInt64 = 0
    /// Refusals of a flow reported moments before (SYN retransmits): counted, not reported again.
    public var eventsDeduplicated: UInt64 = 0

    public init() {}

    public subscript(_ location: DatapathEvent.Location, _ verdict: DatapathEvent.Verdict,
                     _ reason: DatapathEvent.Reason) -> UInt64 {
        decisions[Decision(location: location, verdict: verdict, reason: reason)] ?? 0
    }
}

extension DatapathMaps {
    public func realizedState() throws -> RealizedState {
        var state = RealizedState()
        var configValue = podgate_config()
        var zero: UInt32 = 0
        try DatapathError.check(bpf_map_lookup_elem(configFD, &zero, &configValue), "lookup", PODGATE_MAP_CONFIG)
        state.config = DatapathConfig(configValue)

        for (key, value) in try Self.entries(endpointsFD, map: PODGATE_MAP_ENDPOINTS, key: UInt64(0), value: podgate_endpoint()) {
            do { state.endpoints[CgroupID(key)] = try EndpointValue(value) } catch {
                state.unreadable.append("\(PODGATE_MAP_ENDPOINTS)[\(key)]: \(error)")
            }
        }
        for (key, value) in try Self.entries(ipcacheFD, map: PODGATE_MAP_IPCACHE, key: podgate_addr(), value: podgate_addr_info()) {
            let address = IPAddress(key)
            do { state.addresses[address] = try AddressValue(value) } catch {
                state.unreadable.append("\(PODGATE_MAP_IPCACHE)[\(address)]: \(error)")
            }
        }
        for (key, value) in try Self.entries(cidrsFD, map: PODGATE_MAP_CIDRS, key: podgate_lpm_addr_key(), value: podgate_cidr_info()) {
            do { state.cidrs[try CIDR(key)] = CIDRValue(value) } catch {
                state.unreadable.append("\(PODGATE_MAP_CIDRS): \(error)")
            }
        }
        for (key, value) in try Self.entries(policyFD, map: PODGATE_MAP_POLICY, key: podgate_policy_key(), value: podgate_policy_value()) {
            do {
                let policyKey = try PolicyKey(key)
                state.policy[policyKey] = PolicyValue(value)
                state.policyHits[policyKey] = value.hits
            } catch {
                state.unreadable.append("\(PODGATE_MAP_POLICY): \(error)")
            }
        }
        return state
    }

    public func counters() throws -> DatapathCounters {
        let cpus = Int(libbpf_num_possible_cpus())
        guard cpus > 0 else { throw DatapathError(operation: "count CPUs", object: PODGATE_MAP_COUNTERS, errno: -Int32(cpus)) }
        var values = [UInt64](repeating: 0, count: cpus)

        func total(_ index: UInt32) throws -> UInt64 {
            var key = index
            try DatapathError.check(bpf_map_lookup_elem(countersFD, &key, &values), "lookup", PODGATE_MAP_COUNTERS)
            return values.reduce(0, &+)
        }

        var result = DatapathCounters()
        for location in [DatapathEvent.Location.server, .client] {
            for verdict in DatapathEvent.Verdict.allCases {
                for reason in DatapathEvent.Reason.allCases {
                    let count = try total(ABIConversion.decisionCounterIndex(location, verdict, reason))
                    if count > 0 {
                        result.decisions[.init(location: location, verdict: verdict, reason: reason)] = count
                    }
                }
            }
        }
        result.eventsLost = try total(PODGATE_COUNTER_EVENTS_LOST.rawValue)
        result.spoofDropped = try total(PODGATE_COUNTER_SPOOF_DROPPED.rawValue)
        result.repliesPassed = try total(PODGATE_COUNTER_REPLIES_PASSED.rawValue)
        result.eventsDeduplicated = try total(PODGATE_COUNTER_EVENTS_DEDUPED.rawValue)
        result.forgedInbound = try total(PODGATE_COUNTER_FORGED_INBOUND.rawValue)
        result.edgeForged = try total(PODGATE_COUNTER_EDGE_FORGED.rawValue)
        return result
    }

    /// How many UDP peers are remembered, for status output: nil since ABI 3.
    /// podgate_flows is per-socket storage (each socket's peers live with the
    /// socket), which the kernel does not let user space walk.
    public func flowCount() throws -> Int? { nil }
}
