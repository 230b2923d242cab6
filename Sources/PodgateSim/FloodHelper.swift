#if canImport(Glibc)
import Glibc
#endif
import PodgateModel

/// `podgate sim-helper flood --cgroup DIR --netns NAME --to ADDR --port N
/// --rate PER_SECOND --seconds S [--count N]`: opens TCP connections from
/// inside a pod as fast as `--rate` allows (0: as fast as possible), for
/// benchmarking event delivery; with `--count` it stops after N attempts
/// (the flood test needs an exact number). Each one the client side refuses is one event. Prints
/// `attempted N refused M in S seconds (R per second)`.
enum FloodHelper {
    static func run(_ options: inout HelperOptions) throws -> Int32 {
        try InPodHelper.enter(&options, cgroupRequired: true)
        guard let address = IPAddress(try options.required("--to")) else { throw LabError("--to is not an address") }
        guard let port = Int(try options.required("--port")), (1...65535).contains(port) else { throw LabError("--port is not a port") }
        guard let rate = Double(try options.optional("--rate") ?? "0"), rate >= 0 else { throw LabError("--rate is not a number") }
        guard let seconds = Double(try options.optional("--seconds") ?? "5"), seconds > 0 else { throw LabError("--seconds is not a number") }
        guard let count = Int(try options.optional("--count") ?? "0"), count >= 0 else { throw LabError("--count is not a number") }
        try options.finish()
        let family: AddressFamily = address.isIPv4 ? .ipv4 : .ipv6
        let start = Monotonic.seconds
        var attempted = 0
        var refused = 0
        while true {
            let elapsed = Monotonic.seconds - start
            if elapsed >= seconds || (count > 0 && attempted >= count) { break }
            // Pace in small batches: sleep while ahead of the wanted rate.
            if rate > 0, Double(attempted) >= elapsed * rate {
                usleep(200)
                continue
            }
            let fd = socket(address.isIPv4 ? AF_INET : AF_INET6, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            guard fd >= 0 else { throw LabError("socket: \(errnoText())") }
            if Sockets.connect(fd, to: address, port: port, family: family) == EPERM { refused += 1 }
            close(fd)
            attempted += 1
        }
        let elapsed = Monotonic.seconds - start
        Files.standardOutput("attempted \(attempted) refused \(refused) in \(String(elapsed)) seconds (\(Int(Double(attempted) / elapsed)) per second)\n")
        return 0
    }
}
