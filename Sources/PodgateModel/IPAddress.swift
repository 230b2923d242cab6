// Glibc only for inet_pton/inet_ntop: pure functions, no I/O.
#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 address, always held as 16 bytes with IPv4 stored
/// IPv4-mapped (`::ffff:a.b.c.d`), exactly as every BPF map stores it.
public struct IPAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Network order: `high` holds bytes 0-7, `low` bytes 8-15, big-endian.
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public init(bytes: [UInt8]) {
        precondition(bytes.count == 16, "an address is 16 bytes")
        var h: UInt64 = 0
        var l: UInt64 = 0
        for i in 0..<8 { h = h << 8 | UInt64(bytes[i]) }
        for i in 8..<16 { l = l << 8 | UInt64(bytes[i]) }
        self.init(high: h, low: l)
    }

    public init(ipv4 value: UInt32) {
        self.init(high: 0, low: 0x0000_FFFF_0000_0000 | UInt64(value))
    }

    /// Parses `10.1.2.3`, `fd00::1` or `::ffff:10.1.2.3` (the last is IPv4).
    public init?(_ text: String) {
        if text.contains(":") {
            var raw = in6_addr()
            guard inet_pton(AF_INET6, text, &raw) == 1 else { return nil }
            let bytes = withUnsafeBytes(of: &raw) { Array($0) }
            self.init(bytes: bytes)
        } else {
            var raw = in_addr()
            guard inet_pton(AF_INET, text, &raw) == 1 else { return nil }
            self.init(ipv4: UInt32(bigEndian: raw.s_addr))
        }
    }

    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 { out[i] = UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(i))) }
        for i in 0..<8 { out[8 + i] = UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64(i))) }
        return out
    }

    public var isIPv4: Bool { high == 0 && (low >> 32) == 0xFFFF }

    /// The IPv4 value in host order, when this is an IPv4 address.
    public var ipv4Value: UInt32? { isIPv4 ? UInt32(truncatingIfNeeded: low) : nil }

    public var isLoopback: Bool {
        if let v4 = ipv4Value { return v4 >> 24 == 127 }
        return high == 0 && low == 1
    }

    public var description: String {
        if let v4 = ipv4Value {
            return "\(v4 >> 24).\(v4 >> 16 & 0xFF).\(v4 >> 8 & 0xFF).\(v4 & 0xFF)"
        }
        var raw = in6_addr()
        withUnsafeMutableBytes(of: &raw) { $0.copyBytes(from: bytes) }
        var buffer = [CChar](repeating: 0, count: 64)
        guard inet_ntop(AF_INET6, &raw, &buffer, socklen_t(buffer.count)) != nil else { return "?" }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func < (a: IPAddress, b: IPAddress) -> Bool {
        (a.high, a.low) < (b.high, b.low)
    }
}

/// A prefix in the 128-bit space where IPv4 is IPv4-mapped:
/// `10.0.0.0/8` is held as `::ffff:10.0.0.0/104`.
public struct CIDR: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let address: IPAddress   // host bits cleared
    public let prefixLength: Int    // 0...128 in the mapped space

    public init(address: IPAddress, prefixLength: Int) {
        precondition((0...128).contains(prefixLength))
        self.prefixLength = prefixLength
        self.address = CIDR.mask(address, prefixLength)
    }

    /// Parses `a.b.c.d/n` (n 0-32) or `x::y/n` (n 0-128). A bare address is /32 or /128.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPAddress(String(parts[0])) else { return nil }
        let isV4 = !parts[0].contains(":")
        let maximum = isV4 ? 32 : 128
        var length = maximum
        if parts.count == 2 {
            guard let n = Int(parts[1]), (0...maximum).contains(n), !parts[1].hasPrefix("+") else { return nil }
            length = n
        }
        self.init(address: address, prefixLength: isV4 ? 96 + length : length)
    }

    public var isIPv4: Bool { prefixLength >= 96 && address.isIPv4 }

    public func contains(_ other: IPAddress) -> Bool {
        CIDR.mask(other, prefixLength) == address
    }

    /// True when every address of `other` is inside this prefix.
    public func contains(_ other: CIDR) -> Bool {
        other.prefixLength >= prefixLength && contains(other.address)
    }

    public var description: String {
        isIPv4 ? "\(address)/\(prefixLength - 96)" : "\(address)/\(prefixLength)"
    }

    public static func < (a: CIDR, b: CIDR) -> Bool {
        (a.address, a.prefixLength) < (b.address, b.prefixLength)
    }

    static func mask(_ a: IPAddress, _ length: Int) -> IPAddress {
        let highMask: UInt64 = length >= 64 ? ~0 : (length == 0 ? 0 : ~0 << UInt64(64 - length))
        let lowMask: UInt64 = length <= 64 ? 0 : (length >= 128 ? ~0 : ~0 << UInt64(128 - length))
        return IPAddress(high: a.high & highMask, low: a.low & lowMask)
    }
}

