import PodgateModel

/// A set of (protocol, port) as the policy map stores it: every protocol and
/// port (`transport == nil`), every port of a protocol (`bits == 0`), or the
/// ports sharing the first `bits` bits of `port`.
public struct PortPrefix: Hashable, Comparable, Sendable {
    public var transport: TransportProtocol?
    public var port: UInt16
    public var bits: Int

    public static let everything = PortPrefix(transport: nil, port: 0, bits: 0)

    public init(transport: TransportProtocol?, port: UInt16, bits: Int) {
        self.transport = transport
        self.port = port
        self.bits = bits
    }

    public static func < (a: Self, b: Self) -> Bool {
        (a.transport?.number ?? 0, a.port, a.bits) < (b.transport?.number ?? 0, b.port, b.bits)
    }

    /// The ports of one prefix, for tests and tools.
    public var ports: ClosedRange<Int> {
        let size = 1 << (16 - bits)
        return Int(port)...(Int(port) + size - 1)
    }

    /// `low...high` as the fewest aligned prefixes (1-65535 is 16 of them).
    public static func decompose(_ range: ClosedRange<Int>, transport: TransportProtocol) -> [PortPrefix] {
        var result: [PortPrefix] = []
        var low = max(range.lowerBound, 0)
        let high = min(range.upperBound, 65535)
        while low <= high {
            // The largest block that starts at `low` (alignment) and fits in the range.
            var size = 1
            while size < 65536, low % (size * 2) == 0, low + size * 2 - 1 <= high { size *= 2 }
            result.append(PortPrefix(transport: transport, port: UInt16(low), bits: 16 - size.trailingZeroBitCount))
            low += size
        }
        return result
    }

    /// What one `spec.ports` list covers on a pod with these container ports.
    /// Empty: every port, TCP and UDP. A named port resolves to the container
    /// ports with that name and the entry's protocol (as in Kubernetes
    /// NetworkPolicy); a pod without one gets nothing from that entry.
    public static func resolve(_ ports: [PolicyPort], containerPorts: [ContainerPort]) -> [PortPrefix] {
        if ports.isEmpty { return [.everything] }
        var result: Set<PortPrefix> = []
        for entry in ports {
            switch entry.port {
            case let .number(port, endPort):
                result.formUnion(decompose(port...(endPort ?? port), transport: entry.transport))
            case let .named(name):
                for container in containerPorts where container.name == name && container.transport == entry.transport {
                    result.insert(PortPrefix(transport: entry.transport, port: UInt16(container.port), bits: 16))
                }
            }
        }
        return result.sorted()
    }
}
