import Testing
@testable import PodgateDatapath

/// `--edge-interfaces auto` (EdgeSelection.select): which interfaces of a
/// node packets from outside arrive on. Interface kinds and layouts as the
/// CNIs create them: flannel (cni0 bridge + flannel.1 vxlan), Calico (cali*
/// veths, tunl0/vxlan.calico), Cilium (lxc* veths, the cilium_host/cilium_net
/// pair, cilium_vxlan), kind (the node's eth0 is itself a veth).
struct EdgeSelectionTests {
    typealias Link = EdgeSelection.Link
    static let lo = Link(index: 1, name: "lo", kind: "", up: true, loopback: true)
    static let eth0 = Link(index: 2, name: "eth0", kind: "", up: true)

    @Test func flannelNodeSelectsTheUplinkAndTheTunnelNotTheBridgeOrItsPods() {
        let links = [Self.lo, Self.eth0,
                     Link(index: 3, name: "flannel.1", kind: "vxlan", up: true),
                     Link(index: 4, name: "cni0", kind: "bridge", up: true),
                     Link(index: 5, name: "veth1", kind: "veth", up: true, peerInOtherNamespace: true, master: 4),
                     Link(index: 6, name: "veth2", kind: "veth", up: true, peerInOtherNamespace: true, master: 4),
                     Link(index: 7, name: "docker0", kind: "bridge", up: true)]  // no ports: carries nothing
        #expect(EdgeSelection.select(links, defaultRoutes: [2]) == ["eth0", "flannel.1"])
    }

    @Test func calicoAndCiliumPodVethsAndTheNodeInternalPairAreNotEdges() {
        let links = [Self.lo, Self.eth0,
                     Link(index: 3, name: "cali1", kind: "veth", up: true, peerInOtherNamespace: true),
                     Link(index: 4, name: "tunl0", kind: "ipip", up: true),
                     Link(index: 5, name: "cilium_host", kind: "veth", up: true),
                     Link(index: 6, name: "cilium_net", kind: "veth", up: true),
                     Link(index: 7, name: "cilium_vxlan", kind: "vxlan", up: true),
                     Link(index: 8, name: "lxc1", kind: "veth", up: true, peerInOtherNamespace: true),
                     Link(index: 9, name: "wg0", kind: "wireguard", up: false)]  // down: nothing arrives
        #expect(EdgeSelection.select(links, defaultRoutes: [2]) == ["eth0", "tunl0", "cilium_vxlan"])
    }

    @Test func aNodeInsideAContainerKeepsItsVethUplink() {
        // kind: the node's eth0 is a veth whose peer is in the host's namespace; the default route leaves through it.
        let links = [Self.lo,
                     Link(index: 2, name: "eth0", kind: "veth", up: true, peerInOtherNamespace: true),
                     Link(index: 3, name: "veth9", kind: "veth", up: true, peerInOtherNamespace: true)]
        #expect(EdgeSelection.select(links, defaultRoutes: [2]) == ["eth0"])
        #expect(EdgeSelection.select(links, defaultRoutes: []) == [], "without a default route a foreign-peer veth is a pod's")
    }

    @Test func aBridgeIsAnEdgeOnlyWhenAllItsPortsAre() {
        let uplinkBridge = [Self.lo, Link(index: 2, name: "eth0", kind: "", up: true, master: 3),
                            Link(index: 3, name: "br0", kind: "bridge", up: true)]
        #expect(EdgeSelection.select(uplinkBridge, defaultRoutes: [3]) == ["eth0", "br0"])
        let mixed = uplinkBridge + [Link(index: 4, name: "veth1", kind: "veth", up: true, peerInOtherNamespace: true, master: 3)]
        #expect(EdgeSelection.select(mixed, defaultRoutes: [3]) == ["eth0"], "pods on br0 arrive on it with their own addresses")
    }
}
