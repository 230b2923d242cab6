import PodgateModel

/// Who holds which address. Pure: no kernel objects.
///
/// - Pods: their `status.podIPs` when given, else the next free 10.244.0.0/16
///   address (and fd00:10:244::/56 with the dual-stack annotation). Assigned
///   addresses never collide with given ones, externals or each other, and a
///   pod keeps its address from round to round.
/// - Nodes: 172.31.0.N and fd00:31::N, outside the pod range so the agent sees
///   them as host addresses, never as pods.
/// - hostNetwork pods hold their node's addresses.
public struct AddressPlan: Sendable, Equatable {
    public private(set) var nodes: [String]
    public private(set) var externals: [External]
    public private(set) var pods: [PodRef: [IPAddress]] = [:]
    private var reserved: Set<IPAddress>
    private var nextIPv4: UInt32 = AddressPlan.podIPv4Base + 2
    private var nextIPv6: UInt64 = 2

    static let podIPv4Base: UInt32 = 0x0AF4_0000          // 10.244.0.0/16
    static let podIPv6High: UInt64 = 0xFD00_0010_0244_0000 // fd00:10:244::/56
    static let nodeIPv4Base: UInt32 = 0xAC1F_0000          // 172.31.0.0/24
    static let nodeIPv6High: UInt64 = 0xFD00_0031_0000_0000 // fd00:31::/64
    static let reservedRanges = [CIDR("172.31.0.0/24")!, CIDR("fd00:31::/64")!, CIDR("169.254.0.0/16")!,
                                 CIDR("fe80::/10")!, CIDR("127.0.0.0/8")!, CIDR("::1/128")!, CIDR("0.0.0.0/32")!, CIDR("::/128")!]

    /// `reserved`: every address given anywhere in the scenario, so assignment
    /// never hands out one that a later step will claim.
    public init(nodes: [String], externals: [External], reserved: Set<IPAddress> = [], file: String = "scenario") throws {
        guard nodes.count < 250 else { throw Diagnostic(object: file, field: "", message: "has \(nodes.count) nodes; at most 249") }
        self.nodes = nodes
        self.externals = externals
        self.reserved = reserved
        for (index, external) in externals.enumerated() {
            if let range = AddressPlan.reservedRanges.first(where: { $0.contains(external.address) }) {
                throw Diagnostic(object: file, field: "externals[\(index)].ip",
                                 message: "\(external.address) is inside \(range), which the simulator keeps for nodes and links")
            }
            if let other = externals[..<index].first(where: { $0.address == external.address }) {
                throw Diagnostic(object: file, field: "externals[\(index)].ip", message: "\(external.address) is also external/\(other.name)")
            }
            self.reserved.insert(external.address)
        }
    }

    public func nodeAddresses(_ node: String) -> (ipv4: IPAddress, ipv6: IPAddress)? {
        guard let index = nodes.firstIndex(of: node) else { return nil }
        return (IPAddress(ipv4: AddressPlan.nodeIPv4Base + UInt32(index + 1)),
                IPAddress(high: AddressPlan.nodeIPv6High, low: UInt64(index + 1)))
    }

    /// Places the pods of one round: pods gone from it release nothing (addresses
    /// are never reused within a run), pods unchanged keep their addresses.
    public mutating func place(_ round: [SimPod], file: String = "scenario") throws {
        var placed: [PodRef: [IPAddress]] = [:]
        var owners: [IPAddress: PodRef] = [:]
        for pod in round {
            let addresses = try addresses(for: pod, file: file)
            if !pod.hostNetwork {
                for address in addresses {
                    if let owner = owners[address] {
                        throw Diagnostic(object: "\(file): Pod \(pod.ref)", field: "status.podIPs",
                                         message: "\(address) is also the address of pod \(owner)")
                    }
                    owners[address] = pod.ref
                }
            }
            placed[pod.ref] = addresses
        }
        pods = placed
    }

    static func isAssigned(_ address: IPAddress) -> Bool {
        CIDR("10.244.0.0/16")!.contains(address) || CIDR("fd00:10:244::/56")!.contains(address)
    }

    private mutating func addresses(for pod: SimPod, file: String) throws -> [IPAddress] {
        if pod.hostNetwork {
            guard let node = nodeAddresses(pod.node) else { return [] }
            return [node.ipv4, node.ipv6]
        }
        if !pod.givenAddresses.isEmpty {
            for address in pod.givenAddresses {
                if let range = AddressPlan.reservedRanges.first(where: { $0.contains(address) }) {
                    throw Diagnostic(object: "\(file): Pod \(pod.ref)", field: "status.podIPs",
                                     message: "\(address) is inside \(range), which the simulator keeps for nodes and links")
                }
                if let external = externals.first(where: { $0.address == address }) {
                    throw Diagnostic(object: "\(file): Pod \(pod.ref)", field: "status.podIPs",
                                     message: "\(address) is also external/\(external.name)")
                }
            }
            return pod.givenAddresses
        }
        // Keep what this pod had, if it still fits what it asks for.
        if let previous = pods[pod.ref], !previous.isEmpty, previous.allSatisfy({ AddressPlan.isAssigned($0) }),
           previous.contains(where: { !$0.isIPv4 }) == pod.dualStack, previous.contains(where: \.isIPv4) {
            return previous
        }
        var out: [IPAddress] = []
        repeat {
            guard nextIPv4 < AddressPlan.podIPv4Base + 0xFFFF else {
                throw Diagnostic(object: file, field: "", message: "ran out of pod addresses in 10.244.0.0/16")
            }
            let candidate = IPAddress(ipv4: nextIPv4)
            nextIPv4 += 1
            if nextIPv4 & 0xFF == 0xFF { nextIPv4 += 3 }  // skip .255, .0 and .1: easier to read
            if !reserved.contains(candidate) { out.append(candidate) }
        } while out.isEmpty
        if pod.dualStack {
            repeat {
                let candidate = IPAddress(high: AddressPlan.podIPv6High, low: nextIPv6)
                nextIPv6 += 1
                if !reserved.contains(candidate) { out.append(candidate) }
            } while out.count < 2
        }
        reserved.formUnion(out)
        return out
    }
}
