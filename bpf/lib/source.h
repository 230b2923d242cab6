/*
 * source.h - anti-spoofing. The server side trusts a packet's source address
 * (policy-semantics.md: "a source address always means the pod it belongs
 * to"), so a pod must not send from an address that is not its own. The
 * egress program reads the source of every packet a pod's socket sends (raw
 * and packet-crafting sockets included: IP_HDRINCL output also runs
 * cgroup_skb/egress) and compares it with the addresses in the pod's
 * endpoint entry.
 *
 * Passed without a check: loopback sources (traffic inside the pod), IPv6
 * link-local sources (they never leave the link and name no pod), and
 * packets of cgroups the agent has not registered - except that, with
 * unknown cgroups distrusted, an unregistered cgroup may not use the address
 * of a known pod or of the node, the only sources the servers trust more
 * than the world.
 *
 * Host-network endpoints share the node's addresses (podgate_host_may_send).
 *
 * Not covered (documented in docs/hardening.md): AF_PACKET sockets bypass
 * the IP stack and so every cgroup hook; stopping them needs tc on the
 * host side of the pod's veth, or no CAP_NET_RAW in the pod.
 */
#ifndef PODGATE_SOURCE_H
#define PODGATE_SOURCE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "maps.h"
#include "conn.h"
#include "endpoint.h"

#define PODGATE_SOCK_RAW 3 /* SOCK_RAW: not in the uapi headers */

/* The source address of an outbound packet, stored form (IPv4 mapped).
 * Returns 0 when skb is neither IPv4 nor IPv6 or too short (passed: there is
 * no source to trust). */
static __always_inline int podgate_egress_source(struct __sk_buff *skb, __u8 src[16], __u8 dst[16], __u8 *protocol)
{
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		__u32 a[2];
		/* saddr and daddr are bytes 12..19 of the IPv4 header, protocol byte 9. */
		if (bpf_skb_load_bytes(skb, 12, a, sizeof(a)) || bpf_skb_load_bytes(skb, 9, protocol, 1))
			return 0;
		podgate_addr_from_v4(src, a[0]);
		podgate_addr_from_v4(dst, a[1]);
		return 1;
	}
	if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		/* saddr and daddr are bytes 8..39 of the IPv6 header; next header
		 * (byte 6) is only reported, so extension headers are not walked. */
		if (bpf_skb_load_bytes(skb, 8, src, 16) || bpf_skb_load_bytes(skb, 24, dst, 16) ||
		    bpf_skb_load_bytes(skb, 6, protocol, 1))
			return 0;
		return 1;
	}
	return 0;
}

static __always_inline int podgate_addr_is_link_local6(const __u8 a[16])
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* Is `src` one of the addresses of endpoint ep? Both stored in the 16-byte
 * form, so one comparison per family, no branches on the family. */
static __always_inline int podgate_endpoint_owns(const struct podgate_endpoint *ep, const __u8 src[16])
{
	if ((ep->flags & PODGATE_EP_F_ADDR4) && podgate_addr_equal(ep->addr4, src))
		return 1;
	if ((ep->flags & PODGATE_EP_F_ADDR6) && podgate_addr_equal(ep->addr6, src))
		return 1;
	return 0;
}

/*
 * May a host-network pod send from `src`? Only from its node's addresses.
 * Ordinary sockets cannot pick a source the node does not have (the route
 * lookup refuses it; only IP_TRANSPARENT, which needs CAP_NET_ADMIN over the
 * node's network, can), but a node may have addresses the agent was not told
 * about (a tunnel device's, for example) that the kernel picks as source, so
 * for them only the addresses servers trust as someone else's are refused:
 * a pod's, another node's. A raw socket (CAP_NET_RAW, which many runtimes
 * grant by default) writes any source: it may use only addresses the agent
 * knows as this node's (PODGATE_ADDR_F_HOST). Anything else a host-network
 * pod sends from would be "world" to the servers at best.
 */
static __always_inline int podgate_host_may_send(struct __sk_buff *skb, const __u8 src[16])
{
	struct podgate_addr_info *claimed = bpf_map_lookup_elem(&podgate_ipcache, src);
	if (claimed && (claimed->flags & PODGATE_ADDR_F_HOST))
		return 1;
	if (claimed && (claimed->flags & (PODGATE_ADDR_F_POD | PODGATE_ADDR_F_REMOTE_NODE)))
		return 0;
	struct bpf_sock *sk = skb->sk;
	if (sk)
		sk = bpf_sk_fullsock(sk);
	if (!sk)
		return 0; /* nothing tells how the source was chosen: refuse */
	return sk->type != PODGATE_SOCK_RAW;
}

#endif
