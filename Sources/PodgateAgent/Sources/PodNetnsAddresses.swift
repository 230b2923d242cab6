import CPodgateSys
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import PodgateModel

// Glibc's module map lacks the rtnetlink headers: the kernel's numbers
// (linux/netlink.h, linux/rtnetlink.h, linux/if_addr.h).
private enum Netlink {
    static let family: Int32 = 16            // AF_NETLINK
    static let route: Int32 = 0              // NETLINK_ROUTE
    static let newAddress: UInt16 = 20       // RTM_NEWADDR
    static let deleteAddress: UInt16 = 21    // RTM_DELADDR
    static let getAddress: UInt16 = 22       // RTM_GETADDR
    static let request: UInt16 = 0x1         // NLM_F_REQUEST
    static let dump: UInt16 = 0x300          // NLM_F_ROOT | NLM_F_MATCH
    static let ipv4AddressGroup: UInt32 = 0x10   // RTMGRP_IPV4_IFADDR
    static let ipv6AddressGroup: UInt32 = 0x100  // RTMGRP_IPV6_IFADDR
    static let attributeAddress: UInt16 = 1  // IFA_ADDRESS
    static let attributeLocal: UInt16 = 2    // IFA_LOCAL
    static let scopeUniverse: UInt8 = 0      // RT_SCOPE_UNIVERSE
}

/// Learns this node's pods' addresses from their own network namespaces, so
/// a pod is known from its first packet instead of from the kubelet's late
/// `status.podIPs` (init containers run in that window).
///
/// As soon as a pod cgroup holds a process, one thread enters that process's
/// network namespace (`setns` on `/proc/<pid>/ns/net`), opens a NETLINK_ROUTE
/// socket there subscribed to RTMGRP_IPV4_IFADDR and RTMGRP_IPV6_IFADDR, and
/// returns to its own namespace: the socket stays bound to the pod's. A
/// RTM_GETADDR dump gives the addresses held now; the subscription, every
/// address added or removed later. Global-scope addresses only (not
/// loopback, not link-local). Needs the host PID namespace and
/// CAP_SYS_ADMIN (setns into another network namespace): see daemonset/.
final class PodNetnsAddresses: @unchecked Sendable {
    // @unchecked: `wanted` and `found` are guarded by `lock`; sockets and
    // pending pods are touched only by the thread.
    private let lock = NSLock()
    /// Pod UID (lower case) -> its cgroup directory: the pods to learn.
    private var wanted: [String: String] = [:]
    /// Pod UID -> the addresses in its namespace now.
    private var found: [String: [IPAddress]] = [:]
    private var stopped = false
    private let onChange: @Sendable () -> Void
    private let onProblem: @Sendable (String) -> Void

    struct Socket {
        var descriptor: Int32
        /// (interface index, address) held now.
        var held: Set<HeldAddress>
    }

    struct HeldAddress: Hashable {
        var interface: UInt32
        var address: IPAddress
    }

    init(onChange: @escaping @Sendable () -> Void, onProblem: @escaping @Sendable (String) -> Void) {
        self.onChange = onChange
        self.onProblem = onProblem
        DedicatedThread.start("podgate-netns") { [self] in loop() }
    }

    /// The pods to learn now (UID -> cgroup directory); others are forgotten.
    func track(_ pods: [String: String]) { lock.withLock { wanted = pods } }

    /// Pod UID -> the global addresses its network namespace holds.
    var addresses: [String: [IPAddress]] { lock.withLock { found } }

    func stop() { lock.withLock { stopped = true } }

    private var snapshot: (stopped: Bool, wanted: [String: String]) { lock.withLock { (stopped, wanted) } }

    private func loop() {
        let home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        guard home >= 0 else {
            onProblem("netns address learning is off: cannot open /proc/thread-self/ns/net (errno \(errno))")
            return
        }
        defer { close(home) }
        var homeStat = stat()
        fstat(home, &homeStat)
        let homeInode = homeStat.st_ino
        var sockets: [String: Socket] = [:]
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let (isStopped, wanted) = snapshot
            if isStopped { break }
            var changed = false
            // Pods gone from the wanted set: close and forget.
            for uid in sockets.keys where wanted[uid] == nil {
                close(sockets[uid]!.descriptor)
                sockets[uid] = nil
                changed = true
            }
            // Pods without a socket yet: open one as soon as their cgroup has a
            // process in a namespace of its own. A process still in the node's
            // namespace (between joining the cgroup and entering the pod's, or a
            // hostNetwork container) would make the node's addresses the pod's.
            for (uid, directory) in wanted where sockets[uid] == nil {
                guard let pid = Self.firstProcess(below: directory, notIn: homeInode) else { continue }
                switch Self.openSocket(pid: pid, home: home) {
                case let .success(descriptor):
                    sockets[uid] = Socket(descriptor: descriptor, held: [])
                case let .failure(problem):
                    if problem.fatal {
                        onProblem("netns address learning stopped: \(problem.message)")
                        sockets.values.forEach { close($0.descriptor) }
                        return
                    }
                    // The process went away before we entered its namespace: try again.
                }
            }
            // Read everything the sockets have; wait a little when nothing is pending.
            var entries = sockets.map { pollfd(fd: $0.value.descriptor, events: Int16(POLLIN), revents: 0) }
            let uids = Array(sockets.keys)
            if entries.isEmpty {
                usleep(5_000)
            } else if poll(&entries, nfds_t(entries.count), 5) > 0 {
                for (index, entry) in entries.enumerated() where entry.revents != 0 {
                    var socket = sockets[uids[index]]!
                    if Self.drain(&socket, buffer: &buffer) { changed = true }
                    sockets[uids[index]] = socket
                }
            }
            if changed {
                var result: [String: [IPAddress]] = [:]
                for (uid, socket) in sockets where !socket.held.isEmpty {
                    result[uid] = Array(Set(socket.held.map(\.address))).sorted()
                }
                lock.withLock { found = result }
                onChange()
            }
        }
        sockets.values.forEach { close($0.descriptor) }
    }

    /// A process of the pod's cgroup or of a cgroup below it (containers)
    /// whose network namespace is not the one with inode `notIn`, if any.
    /// Plain system calls: this runs every few milliseconds per waiting pod,
    /// and Foundation's file APIs allocate (and kept memory) on every call.
    static func firstProcess(below directory: String, notIn homeInode: ino_t, depth: Int = 0) -> Int32? {
        for pid in processes(in: directory + "/cgroup.procs") {
            var info = stat()
            if stat("/proc/\(pid)/ns/net", &info) == 0, info.st_ino != homeInode { return pid }
        }
        guard depth < 3, let stream = opendir(directory) else { return nil }
        defer { closedir(stream) }
        while let entry = readdir(stream) {
            guard entry.pointee.d_type == UInt8(DT_DIR) else { continue }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            if let pid = firstProcess(below: directory + "/" + name, notIn: homeInode, depth: depth + 1) { return pid }
        }
        return nil
    }

    /// The PIDs listed in a `cgroup.procs` file.
    static func processes(in path: String) -> [Int32] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return [] }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { return [] }
        return buffer[0..<count].split(separator: UInt8(ascii: "\n")).compactMap { Int32(String(decoding: $0, as: UTF8.self)) }
    }

    struct OpenProblem: Error {
        var message: String
        /// The thread could not return to its own namespace: it must stop.
        var fatal: Bool
    }

    /// A netlink socket inside `pid`'s network namespace, subscribed and with a dump requested.
    static func openSocket(pid: Int32, home: Int32) -> Result<Int32, OpenProblem> {
        let namespace = open("/proc/\(pid)/ns/net", O_RDONLY | O_CLOEXEC)
        guard namespace >= 0 else { return .failure(OpenProblem(message: "open /proc/\(pid)/ns/net: errno \(errno)", fatal: false)) }
        defer { close(namespace) }
        guard podgate_sys_enter_netns(namespace) == 0 else {
            let code = errno
            // EPERM: no CAP_SYS_ADMIN; nothing else will work either.
            return .failure(OpenProblem(message: "setns into the network namespace of pid \(pid): errno \(code)", fatal: code == EPERM))
        }
        let descriptor = socket(Netlink.family, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), Netlink.route)
        let socketErrno = errno
        guard podgate_sys_enter_netns(home) == 0 else {
            if descriptor >= 0 { close(descriptor) }
            return .failure(OpenProblem(message: "setns back to the agent's network namespace: errno \(errno)", fatal: true))
        }
        guard descriptor >= 0 else { return .failure(OpenProblem(message: "netlink socket: errno \(socketErrno)", fatal: false)) }
        // struct sockaddr_nl { u16 nl_family; u16 pad; u32 nl_pid; u32 nl_groups; }, host byte order.
        var address = [UInt8](repeating: 0, count: 12)
        put16(&address, 0, UInt16(Netlink.family))
        put32(&address, 8, Netlink.ipv4AddressGroup | Netlink.ipv6AddressGroup)
        let bound = address.withUnsafeBytes {
            bind(descriptor, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(12))
        }
        // The dump request: a netlink header and an ifaddrmsg for every family.
        var request = [UInt8](repeating: 0, count: 16 + 8)
        Self.put32(&request, 0, UInt32(request.count))
        Self.put16(&request, 4, Netlink.getAddress)
        Self.put16(&request, 6, Netlink.request | Netlink.dump)
        Self.put32(&request, 8, 1)
        let sent = request.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, 0) }
        guard bound == 0, sent == request.count else {
            let code = errno
            close(descriptor)
            return .failure(OpenProblem(message: "netlink bind/dump in pid \(pid)'s namespace: errno \(code)", fatal: false))
        }
        return .success(descriptor)
    }

    /// Reads every pending message; true when the held addresses changed.
    static func drain(_ socket: inout Socket, buffer: inout [UInt8]) -> Bool {
        let before = socket.held
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(socket.descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count <= 0 { break }
            apply(messages: buffer[0..<count], to: &socket.held)
        }
        return socket.held != before
    }

    /// Applies RTM_NEWADDR and RTM_DELADDR messages (netlink(7), rtnetlink(7)).
    static func apply(messages bytes: ArraySlice<UInt8>, to held: inout Set<HeldAddress>) {
        var offset = bytes.startIndex
        while offset + 16 <= bytes.endIndex {
            let length = Int(get32(bytes, offset))
            let type = get16(bytes, offset + 4)
            guard length >= 16, offset + length <= bytes.endIndex else { return }
            if type == Netlink.newAddress || type == Netlink.deleteAddress, length >= 16 + 8 {
                let body = offset + 16
                let family = Int32(bytes[body])
                let scope = bytes[body + 3]
                let interface = get32(bytes, body + 4)
                var local: IPAddress?
                var address: IPAddress?
                var attribute = body + 8
                while attribute + 4 <= offset + length {
                    let attributeLength = Int(get16(bytes, attribute))
                    let attributeType = get16(bytes, attribute + 2)
                    guard attributeLength >= 4, attribute + attributeLength <= offset + length else { break }
                    let value = Array(bytes[(attribute + 4)..<(attribute + attributeLength)])
                    let parsed: IPAddress? = family == AF_INET && value.count == 4
                        ? IPAddress(ipv4: UInt32(value[0]) << 24 | UInt32(value[1]) << 16 | UInt32(value[2]) << 8 | UInt32(value[3]))
                        : family == Int32(AF_INET6) && value.count == 16 ? IPAddress(bytes: value) : nil
                    if attributeType == Netlink.attributeLocal { local = parsed }
                    if attributeType == Netlink.attributeAddress { address = parsed }
                    attribute += (attributeLength + 3) & ~3
                }
                // IPv4: IFA_LOCAL is the interface's own address (IFA_ADDRESS is the peer on point-to-point links).
                if let own = local ?? address, scope == Netlink.scopeUniverse, !own.isLoopback {
                    let entry = HeldAddress(interface: interface, address: own)
                    if type == Netlink.newAddress { held.insert(entry) } else { held.remove(entry) }
                }
            }
            offset += (length + 3) & ~3
        }
    }

    static func get16(_ bytes: ArraySlice<UInt8>, _ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
    static func get32(_ bytes: ArraySlice<UInt8>, _ at: Int) -> UInt32 {
        UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
    }
    static func put16(_ bytes: inout [UInt8], _ at: Int, _ value: UInt16) {
        bytes[at] = UInt8(value & 0xff); bytes[at + 1] = UInt8(value >> 8)
    }
    static func put32(_ bytes: inout [UInt8], _ at: Int, _ value: UInt32) {
        for i in 0..<4 { bytes[at + i] = UInt8((value >> (8 * UInt32(i))) & 0xff) }
    }
}
