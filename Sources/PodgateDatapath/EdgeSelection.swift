import CPodgateTC
#if canImport(Glibc)
import Glibc
#endif

/// `--edge-interfaces auto`: which of the node's interfaces packets from
/// outside the node can arrive on. `select` is pure (tested without a
/// kernel); `current()` reads the calling thread's network namespace.
public enum EdgeSelection {
    public struct Link: Sendable, Equatable {
        public var index: Int32
        public var name: String
        public var kind: String       // IFLA_INFO_KIND; "" for a physical device
        public var up: Bool
        public var loopback: Bool
        public var peerInOtherNamespace: Bool  // IFLA_LINK_NETNSID present
        public var master: Int32      // the bridge or bond it is a port of; 0: none
        public init(index: Int32, name: String, kind: String, up: Bool, loopback: Bool = false,
                    peerInOtherNamespace: Bool = false, master: Int32 = 0) {
            self.index = index; self.name = name; self.kind = kind; self.up = up; self.loopback = loopback
            self.peerInOtherNamespace = peerInOtherNamespace; self.master = master
        }
    }

    /// The edges among `links`, by name, in `links`' order. `defaultRoutes`:
    /// the interfaces a default route leaves through. Why each rule holds:
    /// - down or loopback: nothing arrives (lo carries only this node's own packets).
    /// - veth whose peer is in another namespace: a pod's (the CNI's host end),
    ///   unless a default route leaves through it: then the node itself is a
    ///   container (kind) and this is its uplink. A pod's veth is never the
    ///   node's way to the world, so a default route never leaves through it.
    /// - veth whose peer is in this namespace (cilium_host/cilium_net): both ends
    ///   are the node's; whatever arrives was sent by this node, not from outside.
    /// - bridge: packets from the pods on its ports arrive on it with the pods'
    ///   own addresses, so a bridge with a pod port (cni0, docker0, kube-bridge)
    ///   is pod-side. An empty bridge carries nothing. A bridge whose every port
    ///   is an edge (br0 enslaving eth0) is the uplink's layer 3 face: an edge.
    /// - anything else that is up (physical NICs, bonds, VLANs, vxlan, geneve,
    ///   wireguard, ipip, tun, macvlan/ipvlan in the node's namespace, dummy):
    ///   an edge. Pods of ipvlan/macvlan CNIs have no interface in the node's
    ///   namespace; their parent is an edge (docs/hardening.md says what that covers).
    public static func select(_ links: [Link], defaultRoutes: Set<Int32>) -> [String] {
        func isPodVeth(_ link: Link) -> Bool {
            link.kind == "veth" && link.peerInOtherNamespace && !defaultRoutes.contains(link.index)
        }
        func isEdgeIgnoringBridges(_ link: Link) -> Bool {
            guard link.up, !link.loopback else { return false }
            if link.kind == "veth" { return link.peerInOtherNamespace && !isPodVeth(link) }
            return true
        }
        return links.filter { link in
            guard link.up, !link.loopback else { return false }
            if link.kind == "bridge" {
                let ports = links.filter { $0.master == link.index }
                return !ports.isEmpty && !ports.contains(where: isPodVeth) && ports.allSatisfy(isEdgeIgnoringBridges)
            }
            return isEdgeIgnoringBridges(link)
        }.map(\.name)
    }

    /// The edges of the calling thread's network namespace now.
    public static func current() throws -> [String] {
        try select(links(), defaultRoutes: Set(defaultRouteInterfaces()))
    }

    static func links() throws -> [Link] {
        var capacity = 64
        while true {
            var raw = [podgate_link](repeating: podgate_link(), count: capacity)
            let count = Int(podgate_links_scan(&raw, Int32(capacity)))
            if count < 0 { throw DatapathError(operation: "list network interfaces", object: "RTM_GETLINK", errno: -Int32(count)) }
            if count > capacity { capacity = count + 16; continue }
            return raw.prefix(count).map { link in
                var copy = link
                let name = withUnsafeBytes(of: &copy.name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
                let kind = withUnsafeBytes(of: &copy.kind) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
                return Link(index: Int32(link.ifindex), name: name, kind: kind, up: link.flags & 0x1 != 0  /* IFF_UP */,
                            loopback: link.flags & 0x8 != 0  /* IFF_LOOPBACK */,
                            peerInOtherNamespace: link.peer_netns != 0, master: Int32(link.master))
            }
        }
    }

    static func defaultRouteInterfaces() throws -> [Int32] {
        var capacity = 16
        while true {
            var raw = [Int32](repeating: 0, count: capacity)
            let count = Int(podgate_default_route_interfaces(&raw, Int32(capacity)))
            if count < 0 { throw DatapathError(operation: "list default routes", object: "RTM_GETROUTE", errno: -Int32(count)) }
            if count > capacity { capacity = count + 16; continue }
            return Array(raw.prefix(count))
        }
    }
}
