import PodgateCompiler
import PodgateModel
import Testing

/// The fit check the agent runs before every apply.
@Suite struct StateLimitsTests {
    static func state(policies range: Range<Int>, endpoints: Int = 1) -> DesiredState {
        var state = DesiredState(config: DatapathConfig(allowFromHost: true, denyUnknownPods: true))
        for port in range {
            state.policy[PolicyKey(targetClass: TargetClassID(1), source: IdentityID(300), transport: .tcp, port: UInt16(port),
                                   portPrefixBits: 16)] = PolicyValue(policyIndex: 1)
        }
        for index in 0..<endpoints {
            state.endpoints[CgroupID(UInt64(100 + index))] = EndpointValue(identity: IdentityID(300), targetClass: TargetClassID(1),
                                                                         podID: UInt32(index + 1), defaultPolicy: .deny)
        }
        return state
    }

    @Test func aStateThatFitsPasses() throws {
        var limits = StateLimits()
        limits.policy = 10
        try limits.check(from: nil, to: Self.state(policies: 1000..<1010))
        try limits.check(from: Self.state(policies: 1000..<1010), to: Self.state(policies: 1000..<1010))
    }

    @Test func aStateLargerThanAMapIsRefusedNamingTheFlag() {
        var limits = StateLimits()
        limits.policy = 10
        limits.endpoints = 2
        let exceeded = limits.violations(from: nil, to: Self.state(policies: 1000..<1011, endpoints: 3))
        #expect(exceeded.map(\.map) == ["endpoints", "policy"])
        #expect(exceeded.allSatisfy { !$0.duringTransition })
        #expect(exceeded.last?.description.contains("--max-policy-entries") == true)
        #expect(exceeded.last?.needed == 11)
        #expect(throws: StateLimits.ExceededError.self) { try limits.check(from: nil, to: Self.state(policies: 1000..<1011)) }
    }

    /// Adds come before deletes: replacing 8 entries with 8 others needs 16 slots at the peak.
    @Test func theTransitionPeakCountsOldAndNewEntries() {
        var limits = StateLimits()
        limits.policy = 12
        let exceeded = limits.violations(from: Self.state(policies: 1000..<1008), to: Self.state(policies: 2000..<2008))
        #expect(exceeded.count == 1)
        #expect(exceeded.first?.duringTransition == true)
        #expect(exceeded.first?.needed == 16)
        // Overlap shrinks the peak: 4 kept, 4 replaced -> 12.
        #expect(limits.violations(from: Self.state(policies: 1000..<1008), to: Self.state(policies: 1004..<1012)).isEmpty)
    }

    /// The defaults: 110 pods per node, 150k pods per cluster, dual-stack.
    @Test func defaultsAreSizedForTheKubernetesLimits() {
        let limits = StateLimits()
        #expect(limits.addresses >= 150_000 * 2)
        #expect(limits.endpoints >= 110 * 30)
    }
}
