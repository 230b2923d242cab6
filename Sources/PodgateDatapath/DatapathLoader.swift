import CLibbpf
import CPodgateABI
import PodgateBPFObjects
import PodgateModel
#if canImport(Glibc)
import Glibc
#endif

/// Map sizes; the defaults are podgate_abi.h's. Changing one for an existing
/// pin directory fails (a pinned map is only reused when it matches).
public struct MapCapacities: Hashable, Sendable {
    public var endpoints = UInt32(PODGATE_ENDPOINTS_MAX)
    public var addresses = UInt32(PODGATE_IPCACHE_MAX)
    public var cidrs = UInt32(PODGATE_CIDRS_MAX)
    public var policy = UInt32(PODGATE_POLICY_MAX)
    /// Unused since ABI 3 (podgate_flows is per-socket storage, which has no
    /// shared capacity); kept so `--max-udp-flows` on old command lines is accepted.
    public var flows = UInt32(PODGATE_FLOWS_MAX)
    public var eventBytes = UInt32(PODGATE_EVENTS_BYTES)   // a power of two, page aligned
    public init() {}

    func value(forMap name: String) -> UInt32? {
        switch name {
        case PODGATE_MAP_ENDPOINTS: endpoints
        case PODGATE_MAP_IPCACHE: addresses
        case PODGATE_MAP_CIDRS: cidrs
        case PODGATE_MAP_POLICY, PODGATE_MAP_EXACT: policy
        case PODGATE_MAP_EVENTS: eventBytes
        default: nil
        }
    }
}

/// Loads the embedded programs, pins their maps and attaches them to a
/// cgroup through pinned bpf_links, so enforcement outlives the agent.
///
/// Reloading with the same pin directory adopts what is there: libbpf reuses
/// every pinned map (entries kept), and each pinned link gets the new
/// program atomically (bpf_link__update_program) instead of a second
/// attachment. Links are multi-attach: other cgroup programs are untouched.
public struct DatapathLoader: Sendable {
    public static let objectName = "podgate"
    public var pinDirectory: String
    public var capacities: MapCapacities
    public var logger: DatapathLogger?
    /// The node's non-pod interfaces (uplinks, tunnels) that get `podgate_edge`
    /// on tc ingress (`EdgeFilter`); interfaces recorded by an earlier load but
    /// not named now are detached.
    public var edgeInterfaces: [String]
    /// `--edge-interfaces auto`: `EdgeSelection.current()` at each load and
    /// `resyncAutoEdges`, instead of `edgeInterfaces`.
    public var autoEdges = false
    /// The loaded podgate_edge program, kept open so that `resyncAutoEdges`
    /// can attach it to interfaces that appear later.
    let edgeProgram = EdgeProgram()

    public init(pinDirectory: String = AgentDefaults.pinDirectory, capacities: MapCapacities = MapCapacities(),
                logger: DatapathLogger? = nil, edgeInterfaces: [String] = []) {
        self.pinDirectory = pinDirectory
        self.capacities = capacities
        self.logger = logger
        self.edgeInterfaces = edgeInterfaces
    }

    /// With `autoEdges`: scans the interfaces again and, if the edges
    /// changed since the last load or resync, attaches podgate_edge to the new
    /// ones and detaches it from those gone (or no longer edges). Returns the
    /// new edges, nil when nothing changed. Called periodically by the agent.
    public func resyncAutoEdges(maps: DatapathMaps) throws -> [String]? {
        guard autoEdges else { return nil }
        let interfaces = try EdgeSelection.current()
        return try edgeProgram.withProgram { fd, applied in
            guard fd >= 0, interfaces != applied else { return nil }
            let problems = try EdgeFilter.sync(programFD: fd, interfaces: interfaces, maps: maps, skippingFailures: true)
            for problem in problems { (logger ?? LibbpfLog.standardError)(.warning, "edge interfaces (auto): \(problem)") }
            return interfaces
        } ? interfaces : nil
    }

    /// The pin of the link attaching `program` (its function name).
    public func linkPinPath(program: String) -> String { PinLayout(root: pinDirectory).link(program: program) }

    /// What `load` did with the maps.
    public enum MapOrigin: Sendable, Equatable {
        case adopted   // this ABI's pinned maps matched: entries kept
        case built     // a new map set (first start, ABI change, capacity change), switched to atomically
    }

    /// Loads (or upgrades) the programs, attaches them to `cgroupPath` and
    /// returns the pinned maps.
    ///
    /// When this build's maps are pinned and match its map definitions, they
    /// are adopted (entries kept) and each pinned link gets the new program
    /// atomically. Otherwise (first start, another ABI version, changed
    /// capacities) a new map set is built in a staging directory and
    /// `fillNewMaps` writes the complete state into it BEFORE any program
    /// uses it; only then are the links switched (see `PinLayout`). If
    /// `fillNewMaps` throws, nothing is switched: the old programs keep
    /// enforcing with the old maps. Without `fillNewMaps`, new maps start
    /// empty ("not configured": allow all), as on a first start.
    public func load(attachingTo cgroupPath: String,
                     fillNewMaps: ((DatapathMaps) throws -> Void)? = nil) throws -> DatapathMaps {
        try loadReporting(attachingTo: cgroupPath, fillNewMaps: fillNewMaps).maps
    }

    public func loadReporting(attachingTo cgroupPath: String,
                              fillNewMaps: ((DatapathMaps) throws -> Void)? = nil) throws -> (maps: DatapathMaps, origin: MapOrigin) {
        // A loader without a logger leaves the process's libbpf logger as it is.
        if let logger { LibbpfLog.install(logger) } else { LibbpfLog.ensureRouted() }
        try Preflight.check(pinDirectory: pinDirectory, cgroupPath: cgroupPath)
        guard mkdir(pinDirectory, 0o700) == 0 || errno == EEXIST else {
            throw DatapathError.fromErrno("mkdir", pinDirectory)
        }
        let layout = PinLayout(root: pinDirectory)
        // A staging directory is never adopted: it may be incomplete.
        if access(layout.staging, F_OK) == 0 { try PinLayout.removeMaps(in: layout.staging, removeDirectory: true) }
        guard let object = BPFObjects.object(named: Self.objectName) else {
            throw DatapathError(operation: "find embedded object", object: Self.objectName, errno: 0,
                                detail: "the build embedded no \(Self.objectName).bpf.o")
        }

        let cgroup = open(cgroupPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard cgroup >= 0 else { throw DatapathError.fromErrno("open cgroup", cgroupPath) }
        defer { close(cgroup) }

        // libbpf reads the ELF in place until load finishes: keep the bytes alive.
        return try object.withUnsafeBytes { bytes in
            let handle = try BPFObject(bytes: bytes, name: Self.objectName)
            defer { handle.close() }
            let bpfObject = handle.pointer
            try setCapacities(bpfObject)
            let origin: MapOrigin = try MapCompatibility.matches(bpfObject, directory: layout.current) ? .adopted : .built
            let mapDirectory = origin == .adopted ? layout.current : layout.staging
            if origin == .built {
                guard mkdir(layout.staging, 0o700) == 0 else { throw DatapathError.fromErrno("mkdir", layout.staging) }
            }
            do {
                try setPins(bpfObject, directory: mapDirectory)
                try handle.load()
                if origin == .built {
                    let staged = try DatapathMaps(mapDirectory: layout.staging)
                    // Carry over what the kernel learned (UDP peers, counters)
                    // when its layout did not change, then the caller's state.
                    MapCarryOver.copy(from: layout, to: staged)
                    try fillNewMaps?(staged)
                }
            } catch {
                if origin == .built { _ = try? PinLayout.removeMaps(in: layout.staging, removeDirectory: true) }
                throw error
            }
            // The switch: every hook's link gets its new program, and each edge
            // interface's tc filter (recorded in the maps the program will use).
            var program = bpf_object__next_program(bpfObject, nil)
            while let current = program {
                if String(cString: bpf_program__section_name(current)) == EdgeFilter.section {
                    let interfaces = autoEdges ? try EdgeSelection.current() : edgeInterfaces
                    let problems = try EdgeFilter.sync(programFD: bpf_program__fd(current), interfaces: interfaces,
                                                       maps: try DatapathMaps(mapDirectory: mapDirectory), skippingFailures: autoEdges)
                    for problem in problems { (logger ?? LibbpfLog.standardError)(.warning, "edge interfaces (auto): \(problem)") }
                    edgeProgram.keep(bpf_program__fd(current), interfaces: interfaces)
                } else {
                    try attach(current, cgroup: cgroup, cgroupPath: cgroupPath)
                }
                program = bpf_object__next_program(bpfObject, current)
            }
            if origin == .built {
                let staged = try DatapathMaps(mapDirectory: layout.staging)
                MapCarryOver.copy(from: layout, to: staged)  // peers the old programs recorded meanwhile
                if access(layout.current, F_OK) == 0 { try PinLayout.removeMaps(in: layout.current, removeDirectory: true) }
                guard rename(layout.staging, layout.current) == 0 else {
                    throw DatapathError.fromErrno("rename \(layout.staging) to", layout.current)
                }
            }
            for directory in layout.otherMapDirectories() {
                try PinLayout.removeMaps(in: directory, removeDirectory: directory != pinDirectory)
            }
            return (try DatapathMaps(mapDirectory: layout.current), origin)
        }
    }

    private func setCapacities(_ object: OpaquePointer) throws {
        try ObjectMaps.each(object) { map, name in
            if let entries = capacities.value(forMap: name) {
                try DatapathError.check(bpf_map__set_max_entries(map, entries), "set max entries", name)
            }
        }
    }

    /// Pin path per map: libbpf reuses an existing pin, or pins a new map at load.
    private func setPins(_ object: OpaquePointer, directory: String) throws {
        try ObjectMaps.each(object) { map, name in
            try DatapathError.check(bpf_map__set_pin_path(map, directory + "/" + name), "set pin path", name)
        }
    }

    private func attach(_ program: OpaquePointer, cgroup: Int32, cgroupPath: String) throws {
        let name = String(cString: bpf_program__name(program))
        let section = String(cString: bpf_program__section_name(program))
        let pin = linkPinPath(program: name)

        if access(pin, F_OK) == 0, let existing = bpf_link__open(pin) {
            defer { bpf_link__destroy(existing) }  // closes our fd; the pin keeps the link
            let wanted = try Cgroup.id(fd: cgroup, path: cgroupPath)
            let attached = try Cgroup.id(ofLink: bpf_link__fd(existing), pin: pin)
            guard attached == wanted else {
                throw DatapathError(operation: "adopt link", object: pin, errno: EEXIST,
                                    detail: "it attaches \(section) to cgroup \(attached), not to \(cgroupPath) (cgroup \(wanted)); run the cleanup first")
            }
            let updated = bpf_link__update_program(existing, program)
            if updated == 0 { return }
            guard updated == -ENOLINK else {
                throw DatapathError(operation: "replace program of link", object: pin, errno: -updated)
            }
            unlink(pin)  // the cgroup went away under the link: attach anew below
        }

        guard let link = bpf_program__attach_cgroup(program, cgroup) else {
            throw DatapathError.fromErrno("attach \(section) to", cgroupPath)
        }
        let pinned = bpf_link__pin(link, pin)
        if pinned < 0 {
            bpf_link__destroy(link)  // not pinned: this detaches it again
            throw DatapathError(operation: "pin link", object: pin, errno: -pinned)
        }
        bpf_link__destroy(link)
    }

    /// What `--cleanup` did: pins removed (paths relative to the pin
    /// directory, "" for the directory itself) and pins left in place.
    public struct CleanupReport: Sendable, Equatable {
        public var existed: Bool
        public var removed: [String]
        public var left: [String]
    }

    /// `detachAndRemove`, reporting what it removed and what it left.
    public static func cleanup(pinDirectory: String) throws -> CleanupReport {
        func tree() -> [String] {
            PinLayout.entries(pinDirectory).flatMap { name -> [String] in
                var info = stat()
                let path = pinDirectory + "/" + name
                guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else { return [name] }
                return PinLayout.entries(path).map { name + "/" + $0 } + [name + "/"]
            }
        }
        guard access(pinDirectory, F_OK) == 0 else { return CleanupReport(existed: false, removed: [], left: []) }
        let before = tree()
        try detachAndRemove(pinDirectory: pinDirectory)
        let stays = access(pinDirectory, F_OK) == 0
        let after = stays ? Set(tree()) : []
        return CleanupReport(existed: true, removed: before.filter { !after.contains($0) } + (stays ? [] : [""]),
                             left: after.sorted())
    }

    /// Detaches the pinned links and removes the pinned maps (every version's)
    /// and the pin directory: the `--cleanup` path. Removes only what podgate
    /// names (`link_*`, its map names, `v<N>` directories); anything else is
    /// left in place, and then so is the directory; the names left are returned.
    @discardableResult
    public static func detachAndRemove(pinDirectory: String) throws -> [String] {
        guard access(pinDirectory, F_OK) == 0 else { return [] }
        let names = PinLayout.entries(pinDirectory)
        // tc filters are not links: the maps say where podgate_edge runs.
        for name in names where PinLayout.isVersionDirectory(name) {
            try EdgeFilter.detachAll(mapDirectory: pinDirectory + "/" + name)
        }
        for name in names where name.hasPrefix("link_") {
            let path = pinDirectory + "/" + name
            let fd = bpf_obj_get(path)
            if fd >= 0 {
                // Detach even if another process still holds the link open.
                let detached = bpf_link_detach(fd)
                close(fd)
                if detached < 0 && detached != -ENOLINK && detached != -EINVAL {
                    throw DatapathError(operation: "detach link", object: path, errno: -detached)
                }
            }
            guard unlink(path) == 0 || errno == ENOENT else { throw DatapathError.fromErrno("unpin", path) }
        }
        for name in names where PinLayout.isVersionDirectory(name) {
            try PinLayout.removeMaps(in: pinDirectory + "/" + name, removeDirectory: true)
        }
        try PinLayout.removeMaps(in: pinDirectory, removeDirectory: false)
        let foreign = PinLayout.entries(pinDirectory)
        guard foreign.isEmpty else { return foreign }
        guard rmdir(pinDirectory) == 0 || errno == ENOENT else {
            throw DatapathError.fromErrno("remove", pinDirectory)
        }
        return []
    }
}

/// cgroup IDs of a directory fd and of an existing cgroup link.
enum Cgroup {
    static func id(fd: Int32, path: String) throws -> UInt64 {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw DatapathError.fromErrno("stat", path) }
        return UInt64(info.st_ino)
    }

    static func id(ofLink fd: Int32, pin: String) throws -> UInt64 {
        var info = bpf_link_info()
        var length = UInt32(MemoryLayout<bpf_link_info>.size)
        try DatapathError.check(bpf_obj_get_info_by_fd(fd, &info, &length), "read link info", pin)
        return info.cgroup.cgroup_id
    }
}

/// The programs attached to a cgroup directory, by podgate's hooks: what
/// `status` shows, and how tests prove an upgrade attached nothing twice.
public enum CgroupAttachments {
    static let hooks: [(name: String, type: bpf_attach_type)] = [
        ("cgroup/connect4", BPF_CGROUP_INET4_CONNECT), ("cgroup/connect6", BPF_CGROUP_INET6_CONNECT),
        ("cgroup/sendmsg4", BPF_CGROUP_UDP4_SENDMSG), ("cgroup/sendmsg6", BPF_CGROUP_UDP6_SENDMSG),
        ("cgroup_skb/ingress", BPF_CGROUP_INET_INGRESS), ("cgroup_skb/egress", BPF_CGROUP_INET_EGRESS),
    ]

    /// libbpf's section names of the six hooks podgate attaches.
    public static var hookNames: [String] { hooks.map(\.name) }

    /// Hook name -> IDs of the programs attached directly to `cgroupPath`.
    public static func programs(at cgroupPath: String) throws -> [String: [UInt32]] {
        let fd = open(cgroupPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw DatapathError.fromErrno("open cgroup", cgroupPath) }
        defer { close(fd) }
        var result: [String: [UInt32]] = [:]
        for hook in hooks {
            var ids = [UInt32](repeating: 0, count: 64)
            var count = UInt32(ids.count)
            var flags: UInt32 = 0
            try DatapathError.check(bpf_prog_query(fd, hook.type, 0, &flags, &ids, &count), "query \(hook.name) on", cgroupPath)
            result[hook.name] = Array(ids.prefix(Int(count)))
        }
        return result
    }
}
