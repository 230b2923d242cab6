import PodgateModel

/// `listen`, `probe` and `hold` (see SimHelper for their arguments).
enum SimHelperCommands {
    static func listen(_ options: inout HelperOptions) throws -> Int32 {
        try InPodHelper.enter(&options, cgroupRequired: true)
        let tcp = try options.ports("--tcp")
        let udp = try options.ports("--udp")
        try options.finish()
        var server = EchoServer()
        for port in tcp { try server.add(port: port, type: Sockets.stream) }
        for port in udp { try server.add(port: port, type: Sockets.datagram) }
        Files.standardOutput("ready\n")
        server.run()
    }

    /// The connection `probe` and `hold` make: --to, --port, --protocol, --family, --timeout.
    struct Target {
        var address: IPAddress, port: Int, transport: TransportProtocol, family: AddressFamily, timeout: Double

        init(_ options: inout HelperOptions) throws {
            guard let address = IPAddress(try options.required("--to")) else { throw LabError("--to is not an address") }
            guard let port = Int(try options.required("--port")), (1...65535).contains(port) else { throw LabError("--port is not a port") }
            guard let transport = TransportProtocol(rawValue: try options.required("--protocol").uppercased()) else {
                throw LabError("--protocol is not TCP or UDP")
            }
            guard let family = AddressFamily(rawValue: try options.optional("--family") ?? "ipv4") else {
                throw LabError("--family is not ipv4, ipv6 or ipv4-mapped")
            }
            guard let timeout = Double(try options.optional("--timeout") ?? "1"), timeout > 0 else { throw LabError("--timeout is not a number") }
            (self.address, self.port, self.transport, self.family, self.timeout) = (address, port, transport, family, timeout)
        }
    }

    static func probe(_ options: inout HelperOptions) throws -> Int32 {
        try InPodHelper.enter(&options, cgroupRequired: true)
        let target = try Target(&options)
        try options.finish()
        let outcome = ProbeClient(address: target.address, port: target.port, transport: target.transport, family: target.family,
                                  timeout: target.timeout).run()
        Files.standardOutput(outcome.line + "\n")
        return outcome.exitCode
    }

    static func hold(_ options: inout HelperOptions) throws -> Int32 {
        try InPodHelper.enter(&options, cgroupRequired: true)
        let target = try Target(&options)
        guard let seconds = Double(try options.optional("--seconds") ?? "600"), seconds > 0 else { throw LabError("--seconds is not a number") }
        try options.finish()
        return HoldClient(address: target.address, port: target.port, transport: target.transport, family: target.family,
                          timeout: target.timeout, seconds: seconds).run()
    }
}

extension Sockets {
    /// Connects as a probe's family asks: ipv6 and ipv4-mapped go over an AF_INET6 socket.
    static func connect(_ fd: Int32, to address: IPAddress, port: Int, family: AddressFamily) -> Int32 {
        connect(fd, to: address, port: port, ipv6Socket: family != .ipv4)
    }
}
