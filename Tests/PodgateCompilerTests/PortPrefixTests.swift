import Testing
import PodgateModel
@testable import PodgateCompiler

@Suite struct PortPrefixTests {
    @Test func theWholeRangeIsSixteenPrefixes() {
        let prefixes = PortPrefix.decompose(1...65535, transport: .tcp)
        #expect(prefixes.count == 16)
        #expect(prefixes.first == PortPrefix(transport: .tcp, port: 1, bits: 16))
        #expect(prefixes.last == PortPrefix(transport: .tcp, port: 32768, bits: 1))
    }

    @Test func aSinglePortIsOneFullPrefix() {
        #expect(PortPrefix.decompose(8080...8080, transport: .udp) == [PortPrefix(transport: .udp, port: 8080, bits: 16)])
        #expect(PortPrefix.decompose(7000...7002, transport: .tcp).map(\.ports) == [7000...7001, 7002...7002])
    }

    /// For many random ranges: the prefixes are aligned, disjoint, and cover exactly the range.
    @Test func randomRangesAreCoveredExactly() {
        var random = SeededRandom(seed: 42)
        for _ in 0..<400 {
            let low = Int.random(in: 1...65535, using: &random)
            let high = Bool.random(using: &random) ? min(65535, low + Int.random(in: 0...300, using: &random))
                                                   : Int.random(in: low...65535, using: &random)
            let prefixes = PortPrefix.decompose(low...high, transport: .tcp)
            var covered = 0
            var next = low
            for prefix in prefixes {
                let size = 1 << (16 - prefix.bits)
                #expect(Int(prefix.port) % size == 0, "unaligned \(prefix) in \(low)-\(high)")
                #expect(Int(prefix.port) == next, "gap or overlap at \(prefix) in \(low)-\(high)")
                next = Int(prefix.port) + size
                covered += size
            }
            #expect(next == high + 1 && covered == high - low + 1, "\(low)-\(high)")
            // The fewest prefixes: at most two per bit length.
            #expect(prefixes.count <= 32)
        }
    }

    @Test func namedPortsResolvePerPodWithTheirProtocol() {
        let ports = [PolicyPort(port: .named("http")), PolicyPort(port: .named("dns"), transport: .udp)]
        let web = [ContainerPort(name: "http", port: 8080), ContainerPort(name: "dns", port: 53, transport: .tcp)]
        #expect(PortPrefix.resolve(ports, containerPorts: web) == [PortPrefix(transport: .tcp, port: 8080, bits: 16)])
        #expect(PortPrefix.resolve(ports, containerPorts: []) == [])
        #expect(PortPrefix.resolve([], containerPorts: web) == [.everything])
    }
}
