import Testing
import PodgateModel
@testable import PodgateAgent

/// RTM_NEWADDR/RTM_DELADDR as rtnetlink(7) lays them out (host byte order).
@Suite struct NetnsAddressParsingTests {
    static func message(type: UInt16, family: UInt8, scope: UInt8, interface: UInt32, attributes: [(UInt16, [UInt8])]) -> [UInt8] {
        var body: [UInt8] = [family, 24, 0, scope] + le32(interface)
        for (kind, value) in attributes {
            var attribute = le16(UInt16(4 + value.count)) + le16(kind) + value
            while attribute.count % 4 != 0 { attribute.append(0) }
            body += attribute
        }
        return le32(UInt32(16 + body.count)) + le16(type) + le16(0) + le32(1) + le32(0) + body
    }
    static func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8)] }
    static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * UInt32($0))) & 0xff) } }

    @Test func newAndDeletedAddressesOfEveryFamilyAndOnlyGlobalOnes() {
        var held: Set<PodNetnsAddresses.HeldAddress> = []
        let v4 = Self.message(type: 20, family: 2, scope: 0, interface: 2, attributes: [(1, [10, 244, 1, 9]), (2, [10, 244, 1, 9])])
        let v6 = Self.message(type: 20, family: 10, scope: 0, interface: 2, attributes: [(1, [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9])])
        let linkLocal = Self.message(type: 20, family: 10, scope: 253, interface: 2, attributes: [(1, [0xfe, 0x80] + Array(repeating: 0, count: 13) + [1])])
        let loopback = Self.message(type: 20, family: 2, scope: 254, interface: 1, attributes: [(2, [127, 0, 0, 1])])
        // Point-to-point: IFA_ADDRESS is the peer, IFA_LOCAL the interface's own.
        let peer = Self.message(type: 20, family: 2, scope: 0, interface: 3, attributes: [(1, [10, 9, 9, 9]), (2, [10, 244, 1, 10])])
        PodNetnsAddresses.apply(messages: ArraySlice(v4 + v6 + linkLocal + loopback + peer), to: &held)
        #expect(Set(held.map(\.address)) == [IPAddress("10.244.1.9")!, IPAddress("fd00::9")!, IPAddress("10.244.1.10")!])
        let deleted = Self.message(type: 21, family: 2, scope: 0, interface: 2, attributes: [(2, [10, 244, 1, 9])])
        PodNetnsAddresses.apply(messages: ArraySlice(deleted), to: &held)
        #expect(Set(held.map(\.address)) == [IPAddress("fd00::9")!, IPAddress("10.244.1.10")!])
    }

    @Test func truncatedMessagesAreIgnoredWithoutReadingPastTheEnd() {
        var held: Set<PodNetnsAddresses.HeldAddress> = []
        let v4 = Self.message(type: 20, family: 2, scope: 0, interface: 2, attributes: [(2, [10, 244, 1, 9])])
        for cut in 0..<v4.count { PodNetnsAddresses.apply(messages: ArraySlice(v4[0..<cut]), to: &held) }
        #expect(held.isEmpty)
    }
}
