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
    ///
    /// `skippingFailures` (`--edge-interfaces auto`): an interface that went
    /// away since the scan or refuses the filter is skipped and returned as a
    /// problem instead of failing the whole load; one that refuses stays
    /// recorded (routes through it still lead outside the node).
    @discardableResult
    static func sync(programFD: Int32, interfaces: [String], maps: DatapathMaps, skippingFailures: Bool = false) throws -> [DatapathError] {
        var problems: [DatapathError] = []
        var wanted: [(index: UInt32, name: String)] = []
        for name in interfaces {
            let index = if_nametoindex(name)
            guard index != 0 else {
                let error = DatapathError(operation: "find edge interface", object: name, errno: errno,
                                          detail: skippingFailures ? "gone since the scan" : "--edge-interfaces names an interface this node does not have")
                guard skippingFailures else { throw error }
                problems.append(error)
                continue
            }
            wanted.append((index, name))
        }
        for (index, _) in wanted {
            try DatapathMaps.update(maps.edgesFD, index, UInt32(0), map: PODGATE_MAP_EDGES, for: nil)
        }
        for (index, name) in wanted {
            do {
                try DatapathError.check(podgate_tc_attach(Int32(index), programFD), "attach podgate_edge to tc ingress of", name)
            } catch let error as DatapathError where skippingFailures {
                problems.append(error)
            }
        }
        for index in try recorded(maps.edgesFD) where !wanted.contains(where: { $0.index == index }) {
            try DatapathError.check(podgate_tc_detach(Int32(index)), "detach podgate_edge from interface", "\(index)")
            try DatapathMaps.delete(maps.edgesFD, index, map: PODGATE_MAP_EDGES, for: nil)
        }
        return problems
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
