import Testing
import PodgateModel

@Suite struct AddressTests {
    @Test func ipv4IsStoredMappedAndMappedTextIsIPv4() throws {
        let plain = try #require(IPAddress("10.244.0.7"))
        let mapped = try #require(IPAddress("::ffff:10.244.0.7"))
        #expect(plain == mapped)
        #expect(plain.isIPv4)
        #expect(plain.description == "10.244.0.7")
        #expect(plain.bytes == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 10, 244, 0, 7])
    }

    @Test func ipv6RoundTripsAndLoopbacksAreKnown() throws {
        let v6 = try #require(IPAddress("fd00:10:244::5"))
        #expect(!v6.isIPv4)
        #expect(v6.description == "fd00:10:244::5")
        #expect(IPAddress(bytes: v6.bytes) == v6)
        #expect(IPAddress("127.3.0.1")?.isLoopback == true)
        #expect(IPAddress("::1")?.isLoopback == true)
        #expect(IPAddress("10.0.0.1")?.isLoopback == false)
    }

    @Test(arguments: ["", "10.0.0", "10.0.0.256", "fd00:::1", "abc", "10.0.0.1 "])
    func malformedAddressesAreRejected(_ text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func cidrsLiveInTheMappedSpace() throws {
        let v4 = try #require(CIDR("203.0.113.9/24"))
        #expect(v4.prefixLength == 120)
        #expect(v4.description == "203.0.113.0/24")
        #expect(v4.contains(try #require(IPAddress("203.0.113.200"))))
        #expect(!v4.contains(try #require(IPAddress("203.0.114.1"))))
        #expect(v4.contains(try #require(CIDR("203.0.113.7/32"))))
        #expect(!(try #require(CIDR("203.0.113.7/32"))).contains(v4))
        let v6 = try #require(CIDR("fd00:10:244::/56"))
        #expect(v6.contains(try #require(IPAddress("fd00:10:244:ff::1"))))
        #expect(!v6.contains(try #require(IPAddress("10.244.0.1"))))
        #expect(CIDR("0.0.0.0/0")?.contains(try #require(IPAddress("8.8.8.8"))) == true)
        #expect(CIDR("0.0.0.0/0")?.contains(try #require(IPAddress("fd00::1"))) == false)
    }

    @Test(arguments: ["10.0.0.0/99", "10.0.0.0/33", "fd00::/129", "10.0.0.0/-1", "10.0.0.0/+8", "x/8", "10.0.0.0/8/8"])
    func malformedCIDRsAreRejected(_ text: String) {
        #expect(CIDR(text) == nil)
    }
}

@Suite struct LabelSelectorTests {
    typealias R = LabelSelector.Requirement
    static let labels = ["app": "web", "tier": "front"]

    @Test func everyOperatorMatchesAsKubernetesDoes() {
        let cases: [(LabelSelector, Bool)] = [
            (.everything, true),
            (LabelSelector(matchLabels: ["app": "web"]), true),
            (LabelSelector(matchLabels: ["app": "db"]), false),
            (LabelSelector(matchLabels: ["app": "web", "tier": "back"]), false),
            (LabelSelector(matchExpressions: [R(key: "app", operator: .in, values: ["web", "db"])]), true),
            (LabelSelector(matchExpressions: [R(key: "app", operator: .in, values: ["db"])]), false),
            (LabelSelector(matchExpressions: [R(key: "missing", operator: .in, values: ["x"])]), false),
            (LabelSelector(matchExpressions: [R(key: "app", operator: .notIn, values: ["db"])]), true),
            (LabelSelector(matchExpressions: [R(key: "app", operator: .notIn, values: ["web"])]), false),
            (LabelSelector(matchExpressions: [R(key: "missing", operator: .notIn, values: ["x"])]), true),
            (LabelSelector(matchExpressions: [R(key: "tier", operator: .exists)]), true),
            (LabelSelector(matchExpressions: [R(key: "missing", operator: .exists)]), false),
            (LabelSelector(matchExpressions: [R(key: "missing", operator: .doesNotExist)]), true),
            (LabelSelector(matchExpressions: [R(key: "app", operator: .doesNotExist)]), false),
            (LabelSelector(matchLabels: ["app": "web"], matchExpressions: [R(key: "tier", operator: .doesNotExist)]), false),
        ]
        for (index, (selector, expected)) in cases.enumerated() {
            #expect(selector.matches(Self.labels) == expected, "case \(index)")
        }
    }
}
