import Foundation
import PodgateCgroups
import PodgateModel
import Synchronization
import Testing
@testable import PodgateDatapath

/// Kernel suites run as root; elsewhere they skip, loudly, unless CI=true
/// (then they must run, and fail if they cannot).
enum KernelGate {
    static let enabled: Bool = {
        if geteuid() == 0 { return true }
        if ProcessInfo.processInfo.environment["CI"] == "true" { return true }
        FileHandle.standardError.write(Data("""
            *** PodgateDatapathTests: SKIPPING the kernel suites: they load BPF programs, create cgroups and \
            network namespaces, which needs root (and CI is not "true"). Run as root to exercise the datapath. ***\n
            """.utf8))
        return false
    }()
}

/// Everything one kernel test creates, removed in `tearDown()` (called from
/// a defer, so also when the test fails): child processes, network
/// namespaces, the pin directory (links detached) and the cgroup.
final class KernelSandbox: @unchecked Sendable {  // used from one test at a time
    let tag = String(UInt32.random(in: 0...UInt32.max), radix: 36)
    let cgroupMount: String
    let cgroupPath: String
    let pinDirectory: String
    private(set) var namespaces: [String] = []
    var children: [Process] = []  // every child, killed in tearDown

    init() throws {
        cgroupMount = try Cgroups.mountPoint()
        cgroupPath = cgroupMount + "/podgate-test-" + tag
        pinDirectory = "/sys/fs/bpf/podgate-test-" + tag
        try Cgroups.create(cgroupPath)
    }

    var loader: DatapathLoader { DatapathLoader(pinDirectory: pinDirectory) }

    func tearDown() {
        for child in children where child.isRunning {
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
        }
        children.removeAll()
        for namespace in namespaces { _ = try? Self.run(["ip", "netns", "del", namespace]) }
        namespaces.removeAll()
        do { try DatapathLoader.detachAndRemove(pinDirectory: pinDirectory) } catch { print("teardown: \(error)") }
        do { try Cgroups.remove(cgroupPath) } catch { print("teardown: \(error)") }
    }

    /// A network namespace with loopback up.
    func makeNamespace(_ suffix: String) throws -> String {
        let name = "podgate-t-\(tag)-\(suffix)"
        try Self.run(["ip", "netns", "add", name])
        namespaces.append(name)
        try Self.run(["ip", "-n", name, "link", "set", "lo", "up"])
        return name
    }

    /// Two namespaces joined by a veth pair: a (10.201.0.1) and b (10.201.0.2).
    func makeVethPair() throws -> (a: String, b: String) {
        let a = try makeNamespace("a"), b = try makeNamespace("b")
        let left = "pgA\(tag.prefix(8))", right = "pgB\(tag.prefix(8))"
        try Self.run(["ip", "link", "add", left, "netns", a, "type", "veth", "peer", "name", right, "netns", b])
        try Self.run(["ip", "-n", a, "addr", "add", "10.201.0.1/24", "dev", left])
        try Self.run(["ip", "-n", b, "addr", "add", "10.201.0.2/24", "dev", right])
        try Self.run(["ip", "-n", a, "link", "set", left, "up"])
        try Self.run(["ip", "-n", b, "link", "set", right, "up"])
        return (a, b)
    }

    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw SandboxError(message: "\(arguments.joined(separator: " ")) failed: \(text)")
        }
        return text
    }

    /// Starts the probe: it joins `cgroup` (if any) FIRST, then enters
    /// `namespace`, then opens its socket; sockets are tied to the cgroup
    /// they are created in.
    func probe(cgroup: String?, namespace: String, _ arguments: [String]) throws -> ProbeProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-u", "-c", ProbeProcess.script, cgroup ?? "-", namespace] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        children.append(process)
        return ProbeProcess(process: process, output: output.fileHandleForReading)
    }
}

struct SandboxError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// A running probe and its line-by-line output.
final class ProbeProcess: @unchecked Sendable {  // read from one test at a time
    let process: Process
    private let output: FileHandle
    private var buffer = Data()

    init(process: Process, output: FileHandle) {
        self.process = process
        self.output = output
    }

    /// The next output line (blocking; the probe bounds its own waits).
    func nextLine() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                if line.hasPrefix("pid ") { pid = Int32(line.dropFirst(4)) ?? 0 }
                return line
            }
            let chunk = output.availableData
            if chunk.isEmpty { return buffer.isEmpty ? nil : String(decoding: buffer, as: UTF8.self) }
            buffer.append(chunk)
        }
    }

    /// The probe's pid, once its "pid N" line was read.
    private(set) var pid: Int32 = 0

    /// Lines until exit, without the "pid N" line.
    func finish() -> (pid: Int32, lines: [String]) {
        var lines: [String] = []
        while let line = nextLine() { lines.append(line) }
        process.waitUntilExit()
        if let first = lines.first, first.hasPrefix("pid ") { pid = Int32(first.dropFirst(4)) ?? 0 }
        return (pid, lines.filter { !$0.hasPrefix("pid ") })
    }

    static let script = #"""
import ctypes, os, socket, sys
cgroup, netns, mode = sys.argv[1], sys.argv[2], sys.argv[3]
if cgroup != "-":
    with open(cgroup + "/cgroup.procs", "w") as f:
        f.write(str(os.getpid()))
libc = ctypes.CDLL(None, use_errno=True)
fd = os.open("/run/netns/" + netns, os.O_RDONLY)
if libc.setns(fd, 0x40000000) != 0:
    print("setns-failed", ctypes.get_errno()); sys.exit(1)
print("pid", os.getpid())
def family(a): return socket.AF_INET6 if ":" in a else socket.AF_INET
if mode == "connect":
    addr, port, proto = sys.argv[4], int(sys.argv[5]), sys.argv[6]
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(family(addr), kind)
    s.settimeout(float(sys.argv[7]) if len(sys.argv) > 7 else 2.0)
    try:
        s.connect((addr, port)); print("connected")
    except PermissionError: print("EPERM")
    except ConnectionRefusedError: print("refused")
    except socket.timeout: print("timeout")
    except OSError as e: print("oserror", e.errno)
elif mode == "udp-echo":
    addr, port, wait = sys.argv[4], int(sys.argv[5]), float(sys.argv[6])
    s = socket.socket(family(addr), socket.SOCK_DGRAM); s.bind((addr, port)); s.settimeout(wait)
    print("ready")
    try:
        data, peer = s.recvfrom(100); s.sendto(data, peer); print("echoed", peer[0])
    except socket.timeout: print("timeout")
elif mode == "udp-ask":
    addr, port, wait = sys.argv[4], int(sys.argv[5]), float(sys.argv[6])
    s = socket.socket(family(addr), socket.SOCK_DGRAM); s.settimeout(wait)
    try:
        s.sendto(b"hi", (addr, port)); s.recvfrom(100); print("answered")
    except PermissionError: print("EPERM")
    except socket.timeout: print("timeout")
elif mode == "serve":
    addr, port = sys.argv[4], int(sys.argv[5])
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port)); s.listen(64)
    print("ready")
    while True:
        c, peer = s.accept(); c.close()
elif mode == "listen":
    addr, port, wait = sys.argv[4], int(sys.argv[5]), float(sys.argv[6])
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port)); s.listen(8); s.settimeout(wait)
    print("ready")
    try:
        c, peer = s.accept(); print("accepted", peer[0])
    except socket.timeout: print("timeout")
"""#
}

/// Collects ring buffer events for assertions.
final class EventCollector: Sendable {
    private let events = Mutex<[DatapathEvent]>([])

    func append(_ event: DatapathEvent) { events.withLock { $0.append(event) } }

    /// Every event collected so far.
    func all() -> [DatapathEvent] { events.withLock { $0 } }

    /// Waits (up to `timeout` seconds) for an event matching `predicate`.
    func wait(timeout: Double = 3, where predicate: (DatapathEvent) -> Bool) -> DatapathEvent? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let found = events.withLock({ $0.first(where: predicate) }) { return found }
            usleep(20_000)
        }
        return nil
    }
}

extension KernelSandbox {
    /// The server pod of the server-side tests: 10.201.0.2, deny by default.
    static let deniedServer = EndpointValue(identity: IdentityID(301), targetClass: TargetClassID(8), podID: 2,
                                            defaultPolicy: .deny, address4: IPAddress("10.201.0.2"))

    /// A veth pair whose side b is the sandbox cgroup's pod (`deniedServer`),
    /// with the maps configured for it (plus `extra` operations).
    func serverBehindVeth(_ maps: DatapathMaps, extra: [MapOperation] = []) throws -> (clientSide: String, serverSide: String) {
        let (clientSide, serverSide) = try makeVethPair()
        try maps.apply([.setConfig(KernelTests.config), .updateEndpoint(try Cgroups.id(of: cgroupPath), Self.deniedServer)] + extra)
        return (clientSide, serverSide)
    }
}
