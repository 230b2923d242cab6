import CLibbpf
import CPodgateABI
import Foundation
import PodgateTestSupport
import PodgateCgroups
import PodgateModel
import Testing
@testable import PodgateDatapath

/// Upgrades replace programs through the pinned links (one attachment per
/// hook, atomically), and a pinned map set that no longer fits this build
/// (capacities, ABI version, the unversioned layout of version 1) is rebuilt
/// and switched to without a window. A client probes continuously through
/// all of it: the allowed port never fails, the denied one never connects.
@Suite(.serialized, .kernel)
struct UpgradeAndCleanupTests {
    static func state(_ cgroup: CgroupID) -> [MapOperation] {
        KernelTests.baseOperations(cgroup) + [
            .updatePolicy(PolicyKey(targetClass: TargetClassID(8), source: IdentityID(300), transport: .tcp, port: 9001,
                                    portPrefixBits: 16), PolicyValue(policyIndex: 1)),
        ]
    }

    static func linkIDs(_ loader: DatapathLoader) -> [String: UInt32] {
        var result: [String: UInt32] = [:]
        for name in PinLayout.entries(loader.pinDirectory) where name.hasPrefix("link_") {
            let fd = bpf_obj_get(loader.pinDirectory + "/" + name)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            var info = bpf_link_info()
            var length = UInt32(MemoryLayout<bpf_link_info>.size)
            if bpf_obj_get_info_by_fd(fd, &info, &length) == 0 { result[name] = info.id }
        }
        return result
    }

    static func mapID(_ path: String) -> UInt32 {
        let fd = bpf_obj_get(path)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var info = bpf_map_info()
        var length = UInt32(MemoryLayout<bpf_map_info>.size)
        return bpf_obj_get_info_by_fd(fd, &info, &length) == 0 ? info.id : 0
    }

    @Test func programReplacementAndMapRebuildsOpenNoWindow() throws {
        let sandbox = try KernelSandbox()
        defer { sandbox.tearDown() }
        let namespace = try KernelTests.clientNamespace(sandbox)
        let cgroup = try Cgroups.id(of: sandbox.cgroupPath)
        let fill: (DatapathMaps) throws -> Void = { try $0.apply(Self.state(cgroup)) }
        let layout = PinLayout(root: sandbox.pinDirectory)

        let first = try sandbox.loader.loadReporting(attachingTo: sandbox.cgroupPath, fillNewMaps: fill)
        #expect(first.origin == .built)
        let expected = try first.maps.realizedState()
        let links = Self.linkIDs(sandbox.loader)
        #expect(links.count == CgroupAttachments.hookNames.count)

        let server = try sandbox.session(cgroup: nil, namespace: namespace,
                                       ["accept-loop", "10.200.0.1", "9000", "9001"])
        _ = server.nextLine()
        #expect(server.nextLine() == "ready")
        let stop = "/tmp/podgate-upgrade-stop-\(sandbox.tag)"
        defer { unlink(stop) }
        let client = try sandbox.session(cgroup: sandbox.cgroupPath, namespace: namespace,
                                       ["loop", "-", "10.200.0.1", "9001", "9000", stop, "120"])
        _ = client.nextLine()
        #expect(client.nextLine() == "ready")

        // 1. Same layout: adopted; each link gets a new program, nothing attached twice.
        var programs = try CgroupAttachments.programs(at: sandbox.cgroupPath)
        for _ in 0..<15 {
            let again = try sandbox.loader.loadReporting(attachingTo: sandbox.cgroupPath, fillNewMaps: fill)
            #expect(again.origin == .adopted)
            let now = try CgroupAttachments.programs(at: sandbox.cgroupPath)
            #expect(now.values.allSatisfy { $0.count == 1 }, "one attachment per hook: \(now)")
            #expect(now.keys.allSatisfy { now[$0] != programs[$0] }, "every hook runs a new program")
            programs = now
            #expect(Self.linkIDs(sandbox.loader) == links, "the same links, updated in place")
            usleep(50_000)
        }

        // 2. Changed capacities: a new map set, filled, then switched to (ten times).
        var resized = sandbox.loader
        var rebuilt = first
        for round in 0..<10 {
            let configBefore = Self.mapID(layout.current + "/" + PODGATE_MAP_CONFIG)
            resized.capacities.policy = round % 2 == 0 ? 4096 : 8192
            rebuilt = try resized.loadReporting(attachingTo: sandbox.cgroupPath, fillNewMaps: fill)
            #expect(rebuilt.origin == .built)
            #expect(Self.mapID(layout.current + "/" + PODGATE_MAP_CONFIG) != configBefore)
            #expect(try rebuilt.maps.realizedState().desiredStateShape == expected.desiredStateShape)
            #expect(access(layout.staging, F_OK) != 0)
            usleep(100_000)
        }

        // 3. Maps written by another ABI version: rebuilt the same way.
        var old = podgate_config(abi_version: 1, flags: 0, node_id: 0, pad: 0)
        var zero: UInt32 = 0
        #expect(bpf_map_update_elem(rebuilt.maps.configFD, &zero, &old, 0) == 0)
        let fromOldABI = try resized.loadReporting(attachingTo: sandbox.cgroupPath, fillNewMaps: fill)
        #expect(fromOldABI.origin == .built)
        usleep(300_000)

        // 4. The unversioned layout of version 1 (maps in the pin directory itself).
        for name in DatapathMaps.names { #expect(rename(layout.current + "/" + name, layout.root + "/" + name) == 0) }
        #expect(rmdir(layout.current) == 0)
        let fromLegacy = try resized.loadReporting(attachingTo: sandbox.cgroupPath, fillNewMaps: fill)
        #expect(fromLegacy.origin == .built)
        #expect(PinLayout.entries(layout.root).filter { DatapathMaps.names.contains($0) }.isEmpty, "old pins removed")
        #expect(Set(PinLayout.entries(layout.root)) == Set(links.keys).union([PinLayout.versionName]))
        #expect(try CgroupAttachments.programs(at: sandbox.cgroupPath).values.allSatisfy { $0.count == 1 })
        usleep(300_000)

        // A fill that fails switches nothing: the old programs and maps stay.
        let before = try CgroupAttachments.programs(at: sandbox.cgroupPath)
        var again = sandbox.loader
        again.capacities.policy = 2048
        #expect(throws: (any Error).self) {
            try again.load(attachingTo: sandbox.cgroupPath, fillNewMaps: { _ in throw CommandError(message: "refused") })
        }
        #expect(try CgroupAttachments.programs(at: sandbox.cgroupPath) == before)
        #expect(access(layout.staging, F_OK) != 0)
        usleep(300_000)

        creat(stop, 0o600)
        let lines = client.finish().lines
        let counts = Self.counts(lines.first ?? "")
        print("upgrade probes: \(lines.first ?? "none")")
        #expect(counts["allowed_fail"] == 0, "\(lines)")
        #expect(counts["denied_leaked"] == 0, "\(lines)")
        #expect((counts["allowed_ok"] ?? 0) >= 100, "\(lines)")
        #expect((counts["denied_blocked"] ?? 0) >= 100, "\(lines)")
    }

    static func counts(_ line: String) -> [String: Int] {
        var result: [String: Int] = [:]
        for part in line.split(separator: " ") {
            let pair = part.split(separator: "=")
            if pair.count == 2, let value = Int(pair[1]) { result[String(pair[0])] = value }
        }
        return result
    }

    /// A program that passes everything, loaded and attached by "someone else".
    static func foreignProgram() throws -> Int32 {
        // r0 = 1; exit
        var code: [UInt8] = [0xb7, 0, 0, 0, 1, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]
        let fd = code.withUnsafeMutableBytes { raw in
            bpf_prog_load(BPF_PROG_TYPE_CGROUP_SKB, "foreign", "GPL", raw.baseAddress!.assumingMemoryBound(to: bpf_insn.self), 2, nil)
        }
        guard fd >= 0 else { throw CommandError(message: "load foreign program: \(fd)") }
        return fd
    }

    @Test func cleanupRemovesOnlyWhatPodgateOwns() throws {
        let sandbox = try KernelSandbox()
        defer { sandbox.tearDown() }
        let foreignPins = "/sys/fs/bpf/podgate-foreign-\(sandbox.tag)"
        let maps = try sandbox.loader.load(attachingTo: sandbox.cgroupPath)
        try maps.apply(KernelTests.baseOperations(CgroupID(77)))

        // Someone else's program on the same cgroup and hook, pinned in our
        // directory and in its own.
        let foreign = try Self.foreignProgram()
        defer { close(foreign) }
        let cgroupFD = open(sandbox.cgroupPath, O_RDONLY | O_DIRECTORY)
        defer { close(cgroupFD) }
        #expect(bpf_prog_attach(foreign, cgroupFD, BPF_CGROUP_INET_INGRESS, UInt32(BPF_F_ALLOW_MULTI)) == 0)
        defer { bpf_prog_detach2(foreign, cgroupFD, BPF_CGROUP_INET_INGRESS) }
        #expect(mkdir(foreignPins, 0o700) == 0)
        defer { unlink(foreignPins + "/prog"); rmdir(foreignPins) }
        #expect(bpf_obj_pin(foreign, foreignPins + "/prog") == 0)
        #expect(bpf_obj_pin(foreign, sandbox.pinDirectory + "/someone_else") == 0)
        var info = bpf_prog_info()
        var length = UInt32(MemoryLayout<bpf_prog_info>.size)
        #expect(bpf_obj_get_info_by_fd(foreign, &info, &length) == 0)
        let foreignID = info.id
        #expect(try CgroupAttachments.programs(at: sandbox.cgroupPath)["cgroup_skb/ingress"]?.count == 2)

        let left = try DatapathLoader.detachAndRemove(pinDirectory: sandbox.pinDirectory)
        #expect(left == ["someone_else"])
        let attached = try CgroupAttachments.programs(at: sandbox.cgroupPath)
        #expect(attached["cgroup_skb/ingress"] == [foreignID], "the foreign program survives: \(attached)")
        #expect(attached.filter { $0.key != "cgroup_skb/ingress" }.values.allSatisfy { $0.isEmpty }, "\(attached)")
        #expect(PinLayout.entries(sandbox.pinDirectory) == ["someone_else"], "only the foreign pin is left")
        #expect(access(foreignPins + "/prog", F_OK) == 0)

        // Once the foreign pin is gone, the directory goes too.
        unlink(sandbox.pinDirectory + "/someone_else")
        #expect(try DatapathLoader.detachAndRemove(pinDirectory: sandbox.pinDirectory).isEmpty)
        #expect(access(sandbox.pinDirectory, F_OK) != 0)
    }
}
