#if canImport(Glibc)
import Glibc
#endif
import PodgateModel

/// What one probe saw. `allowed` is nil when the probe itself could not run.
struct ProbeResult {
    let probe: Probe
    let source: IPAddress?
    let destination: IPAddress
    let allowed: Bool?
    let how: String
}

/// Runs a round's probes as `sim-helper probe` children, at most `concurrency`
/// at a time, so a round of denies lasts about one timeout, not one per probe.
struct ProbeRunner {
    let topology: Topology
    let helper: HelperLauncher
    let timeout: Double
    var concurrency = 32

    struct Launch {
        let argumentsForHelper: [String]
        let source: IPAddress?
        let destination: IPAddress
    }

    func launch(for probe: Probe) throws -> Launch {
        guard let target = topology.pods[probe.to] else { throw SimError("\(probe.field): no pod \(probe.to) in the topology") }
        let wantsIPv6 = probe.family == .ipv6
        guard let destination = target.addresses.first(where: { $0.isIPv4 != wantsIPv6 }) else {
            throw SimError("\(probe.field): \(probe.to) has no address of family \(probe.family.rawValue)")
        }
        let cgroup: String
        let netns: String
        let source: IPAddress?
        switch probe.from {
        case .pod(let ref):
            guard let handle = topology.pods[ref] else { throw SimError("\(probe.field): no pod \(ref) in the topology") }
            (cgroup, netns) = (handle.cgroup, handle.netns)
            source = handle.addresses.first { $0.isIPv4 != wantsIPv6 }
        case .host(let node):
            (cgroup, netns) = (topology.hostCgroup(node), topology.nodeNetns(node))
            source = topology.plan.nodeAddresses(node).map { wantsIPv6 ? $0.ipv6 : $0.ipv4 }
        case .external(let name):
            guard let ns = topology.externalNetns(name) else { throw SimError("\(probe.field): no external \(name)") }
            (cgroup, netns) = (topology.externalCgroup, ns)
            source = topology.plan.externals.first { $0.name == name }?.address
        }
        let arguments = ["sim-helper", "probe", "--cgroup", cgroup, "--netns", netns, "--to", destination.description,
                         "--port", String(probe.port), "--protocol", probe.transport.rawValue,
                         "--family", probe.family.rawValue, "--timeout", String(timeout)]
        return Launch(argumentsForHelper: arguments, source: source, destination: destination)
    }

    func run(_ probes: [Probe]) throws -> [ProbeResult] {
        var results = [ProbeResult?](repeating: nil, count: probes.count)
        var running: [(index: Int, child: ChildProcess, launch: Launch, output: [UInt8], started: Double)] = []
        var next = 0
        defer { for entry in running { close(entry.child.output!); Processes.stop(entry.child.pid, grace: 0) } }
        var buffer = [UInt8](repeating: 0, count: 512)
        while next < probes.count || !running.isEmpty {
            try Interrupts.check()
            while next < probes.count && running.count < concurrency {
                let launch = try launch(for: probes[next])
                let child = try Processes.spawn(helper.executable, launch.argumentsForHelper, stdout: .pipe, stderr: .pipe)
                running.append((next, child, launch, [], Clock.now))
                next += 1
            }
            var fds = running.map { pollfd(fd: $0.child.output!, events: Int16(POLLIN), revents: 0) }
            _ = Glibc.poll(&fds, nfds_t(fds.count), 100)
            var finished: [Int] = []
            for (slot, entry) in fds.enumerated() where entry.revents != 0 {
                let n = read(entry.fd, &buffer, buffer.count)
                if n > 0 { running[slot].output += buffer[0..<n]; continue }
                if n < 0 && errno == EINTR { continue }
                finished.append(slot)
            }
            // A helper that hangs past its own timeout is killed: never wait forever.
            for (slot, entry) in running.enumerated() where !finished.contains(slot) && Clock.now - entry.started > timeout + 5 {
                kill(entry.child.pid, SIGKILL)
                finished.append(slot)
            }
            for slot in finished.sorted(by: >) {
                let entry = running.remove(at: slot)
                close(entry.child.output!)
                let status = Processes.wait(entry.child.pid)
                let text = String(decoding: entry.output, as: UTF8.self).trimmingWhitespace
                let allowed: Bool? = status == 0 ? true : (status == 1 ? false : nil)
                // The helper's line starts with its verdict; the report says that already.
                let detail = text.split(separator: ":", maxSplits: 1).last.map { String($0).trimmingWhitespace } ?? text
                let how = allowed == nil ? "probe failed (exit \(status)): \(text)" : detail
                results[entry.index] = ProbeResult(probe: probes[entry.index], source: entry.launch.source,
                                                   destination: entry.launch.destination, allowed: allowed, how: how)
            }
        }
        return results.map { $0! }
    }
}
