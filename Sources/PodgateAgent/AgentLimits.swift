import PodgateCLI
import PodgateCompiler
import PodgateDatapath
import PodgateModel

/// The capacity flags: one number per map, used twice - as the maps' sizes
/// at load, and by the compiler's fit check before every apply.
extension StateLimits {
    static let flags: [CommandSpec.Flag] = [
        .init("max-endpoints", value: "N", default: "\(MapCapacityDefaults.endpoints)", help: "Capacity of the local pod/container cgroup map (110 pods per node, with their containers)"),
        .init("max-addresses", value: "N", default: "\(MapCapacityDefaults.addresses)", help: "Capacity of the address map: every pod address of the cluster (150k pods, dual-stack) and node addresses"),
        .init("max-cidrs", value: "N", default: "\(MapCapacityDefaults.cidrs)", help: "Capacity of the map of prefixes named by policies and --cluster-networks"),
        .init("max-policy-entries", value: "N", default: "\(MapCapacityDefaults.policy)", help: "Capacity of the policy map"),
        .init("max-udp-flows", value: "N", default: "\(MapCapacityDefaults.flows)", help: "Ignored since BPF ABI 3: UDP peers are kept per socket, with no shared capacity"),
    ]

    init(_ arguments: ParsedArguments) throws {
        self.init()
        func read(_ name: String, _ current: Int) throws -> Int {
            guard let text = arguments.value(name) else { return current }
            guard let value = Int(text), value >= 1, value <= 1 << 24 else {
                throw UsageError("--\(name) must be a whole number from 1 to \(1 << 24), not \"\(text)\"")
            }
            return value
        }
        endpoints = try read("max-endpoints", endpoints)
        addresses = try read("max-addresses", addresses)
        cidrs = try read("max-cidrs", cidrs)
        policy = try read("max-policy-entries", policy)
        flows = try read("max-udp-flows", flows)
    }

    var mapCapacities: MapCapacities {
        var capacities = MapCapacities()
        capacities.endpoints = UInt32(endpoints)
        capacities.addresses = UInt32(addresses)
        capacities.cidrs = UInt32(cidrs)
        capacities.policy = UInt32(policy)
        capacities.flows = UInt32(flows)
        return capacities
    }
}
