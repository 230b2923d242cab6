#if canImport(Glibc)
import Glibc
#endif

/// Whole IP packets with a chosen (forged) source, for raw sockets
/// (IPPROTO_RAW: the packet carries its own IP header). IPv4 or IPv6 by
/// the source's text.
enum SessionPackets {
    /// A TCP SYN: seq 1, window 65535, no options.
    static func syn(from source: String, to destination: String, sourcePort: Int, port: Int) throws -> [UInt8] {
        var tcp = be16(sourcePort) + be16(port) + be32(1) + be32(0) + [5 << 4, 0x02] + be16(65535) + be16(0) + be16(0)
        let checksum = try Self.checksum(pseudo(source, destination, protocol: 6, length: tcp.count) + tcp)
        tcp[16] = UInt8(checksum >> 8)
        tcp[17] = UInt8(checksum & 0xff)
        return try ip(source, destination, protocol: 6, payload: tcp)
    }

    /// A UDP (17) or UDP-Lite (136: checksum coverage 0 = everything) datagram.
    static func udp(from source: String, to destination: String, sourcePort: Int, port: Int, payload: [UInt8],
                    protocol number: UInt8 = 17) throws -> [UInt8] {
        let length = 8 + payload.count
        var udp = be16(sourcePort) + be16(port) + be16(number == 17 ? length : 0) + be16(0) + payload
        let sum = try checksum(pseudo(source, destination, protocol: number, length: length) + udp)
        let checksum = sum == 0 ? 0xffff : sum
        udp[6] = UInt8(checksum >> 8)
        udp[7] = UInt8(checksum & 0xff)
        return try ip(source, destination, protocol: number, payload: udp)
    }

    /// The IP header (v4: id 1, TTL 64, checksum left to the kernel; v6: hop limit 64) and `payload`.
    static func ip(_ source: String, _ destination: String, protocol number: UInt8, payload: [UInt8]) throws -> [UInt8] {
        let (from, to) = (try bytes(source), try bytes(destination))
        if from.count == 16 {
            return be32(6 << 28) + be16(payload.count) + [number, 64] + from + to + payload
        }
        return [0x45, 0] + be16(20 + payload.count) + be16(1) + be16(0) + [64, number] + be16(0) + from + to + payload
    }

    static func pseudo(_ source: String, _ destination: String, protocol number: UInt8, length: Int) throws -> [UInt8] {
        let (from, to) = (try bytes(source), try bytes(destination))
        if from.count == 16 { return from + to + be32(length) + [0, 0, 0, number] }
        return from + to + [0, number] + be16(length)
    }

    /// The Internet checksum (RFC 1071).
    static func checksum(_ data: [UInt8]) throws -> Int {
        var data = data
        if data.count % 2 == 1 { data.append(0) }
        var sum = 0
        for index in stride(from: 0, to: data.count, by: 2) { sum += Int(data[index]) << 8 | Int(data[index + 1]) }
        while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
        return ~sum & 0xffff
    }

    /// The address's bytes: 4 (IPv4) or 16 (text with a colon).
    static func bytes(_ text: String) throws -> [UInt8] {
        if text.contains(":") {
            var address = in6_addr()
            guard inet_pton(AF_INET6, text, &address) == 1 else { throw SimError("\(text) is not an IPv6 address") }
            return withUnsafeBytes(of: address) { Array($0) }
        }
        var address = in_addr()
        guard inet_pton(AF_INET, text, &address) == 1 else { throw SimError("\(text) is not an IPv4 address") }
        return withUnsafeBytes(of: address) { Array($0) }
    }

    /// Text of 4 or 16 address bytes.
    static func text(_ bytes: ArraySlice<UInt8>) -> String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let family = bytes.count == 16 ? AF_INET6 : AF_INET
        Array(bytes).withUnsafeBytes { _ = inet_ntop(family, $0.baseAddress, &text, socklen_t(text.count)) }
        return String(cString: text)
    }

    static func be16(_ value: Int) -> [UInt8] { [UInt8(value >> 8 & 0xff), UInt8(value & 0xff)] }
    static func be32(_ value: Int) -> [UInt8] { be16(value >> 16 & 0xffff) + be16(value & 0xffff) }
}
