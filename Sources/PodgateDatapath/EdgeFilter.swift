import CLibbpf
import CPodgateABI
import CPodgateTC
#if canImport(Glibc)
import Glibc
#endif

/// `podgate_edge` (bpf/lib/edge.h) on the tc ingress hook of the node's
/// non-pod interfaces: packets from outside the node that claim this node's
/// or a local pod's address are dropped and counted.
///
/// The interfaces are recorded in `podgate_edges` (ifindex -> 0): the program
/// reads it (a route leaving through another edge is a remote pod's), and
/// `--cleanup` finds there what to detach. tc filters are not bpf_links; like
/// the pinned links they stay in the kernel after the agent exits, and
/// attaching again replaces podgate's program in place (fixed handle and
/// priority, `BPF_TC_F_REPLACE`): never a moment without a filter.
public enum EdgeFilter {
    /// The section of the program that goes on tc, not on the cgroup.
    static let section = "tc"

    /// Records `interfaces` in `maps`, attaches `programFD` to each, then
    /// detaches podgate's filter from interfaces recorded before but not
    /// named now. Throws naming the interface that does not exist or refuses.
    static func sync(programFD: Int32, interfaces: [String], maps: DatapathMaps) throws {
        var wanted: [UInt32] = []
        for name in interfaces {
            let index = if_nametoindex(name)
            guard index != 0 else {
                throw DatapathError(operation: "find edge interface", object: name, errno: errno,
                                    detail: "--edge-interfaces names an interface this node does not have")
            }
            wanted.append(index)
        }
        for index in wanted {
            try DatapathMaps.update(maps.edgesFD, index, UInt32(0), map: PODGATE_MAP_EDGES, for: nil)
        }
        for (index, name) in zip(wanted, interfaces) {
            try DatapathError.check(podgate_tc_attach(Int32(index), programFD), "attach podgate_edge to tc ingress of", name)
        }
        for index in try recorded(maps.edgesFD) where !wanted.contains(index) {
            try DatapathError.check(podgate_tc_detach(Int32(index)), "detach podgate_edge from interface", "\(index)")
            try DatapathMaps.delete(maps.edgesFD, index, map: PODGATE_MAP_EDGES, for: nil)
        }
    }

    /// The ifindexes recorded in a podgate_edges map.
    static func recorded(_ fd: Int32) throws -> [UInt32] {
        try DatapathMaps.entries(fd, map: PODGATE_MAP_EDGES, key: UInt32(0), value: UInt32(0)).map(\.0)
    }

    /// Detaches podgate's filter from every interface recorded in the
    /// podgate_edges pinned in `mapDirectory` (the cleanup path).
    static func detachAll(mapDirectory: String) throws {
        let fd = bpf_obj_get(mapDirectory + "/" + PODGATE_MAP_EDGES)
        guard fd >= 0 else { return }
        defer { close(fd) }
        for index in try recorded(fd) {
            try DatapathError.check(podgate_tc_detach(Int32(index)), "detach podgate_edge from interface", "\(index)")
        }
    }

    /// The id of the program in podgate's tc filter on `interface`, nil if none.
    public static func programID(interface: String) -> UInt32? {
        let index = if_nametoindex(interface)
        guard index != 0 else { return nil }
        var id: UInt32 = 0
        return podgate_tc_query(Int32(index), &id) == 0 ? id : nil
    }
}
