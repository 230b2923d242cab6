/*
 * edge.h - packets that arrive at the node from outside (tc ingress on the
 * node's non-pod interfaces: uplinks, tunnel devices; the agent's
 * --edge-interfaces). A packet from outside the node that claims this
 * node's own address, or the address of a pod on this node, is forged:
 * dropped and counted (PODGATE_COUNTER_EDGE_FORGED). Policy-semantics.md,
 * "How a source is known".
 *
 * Why here and not at the pod: a forged packet and the real pod's both reach
 * the target pod through its veth, and nothing set on the way survives the
 * crossing into the pod's namespace (skb->mark is scrubbed), so a pod's
 * cgroup hooks cannot tell them apart. IPv6 has no reverse-path filter, and
 * IPv4's (rp_filter) is a sysctl many nodes run loose.
 *
 * Which pod addresses are local: the node's own routing table says. The
 * route to a pod address of this node leaves through that pod's interface,
 * never through an edge; the route to a remote pod leaves through an edge
 * (the uplink or a tunnel). So a claimed pod address whose route does not
 * lead back out of an edge (bpf_fib_lookup) is a local
 * pod's. Addresses the routing table cannot place are let through: they are
 * not provably local.
 */
#ifndef PODGATE_EDGE_H
#define PODGATE_EDGE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "maps.h"
#include "conn.h"
#include "events.h"
#include "echo.h"

#define PODGATE_TC_ACT_OK   0
#define PODGATE_TC_ACT_SHOT 2
#define PODGATE_AF_INET     2
#define PODGATE_AF_INET6    10

/* Does the route to `fib`'s destination leave through an edge interface? */
static __always_inline int podgate_routed_out_of_an_edge(struct __sk_buff *skb, struct bpf_fib_lookup *fib)
{
	/* As if forwarding a packet that came in here to that address. (The
	 * output direction would bind IPv4's lookup to the ingress device and
	 * miss the pod's route.) A node that does not forward (FWD_DISABLED)
	 * routes to no pod through itself: nothing is provably local. */
	fib->ifindex = skb->ingress_ifindex;
	long r = bpf_fib_lookup(skb, fib, sizeof(*fib), 0);
	if (r != BPF_FIB_LKUP_RET_SUCCESS && r != BPF_FIB_LKUP_RET_NO_NEIGH)
		return 1; /* no route, blackhole, not forwarding: not provably local */
	if (fib->ifindex == skb->ingress_ifindex)
		return 1;
	__u32 out = fib->ifindex;
	return bpf_map_lookup_elem(&podgate_edges, &out) != NULL;
}

static __always_inline int podgate_edge_check(struct __sk_buff *skb)
{
	__u32 zero = 0;
	const struct podgate_config *cfg = bpf_map_lookup_elem(&podgate_config, &zero);
	if (!cfg || cfg->abi_version == 0)
		return PODGATE_TC_ACT_OK;

	__u8 src[16], dst[16];
	__u8 protocol = 0;
	struct bpf_fib_lookup fib = {};
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		__u32 a[2];
		if (bpf_skb_load_bytes_relative(skb, 12, a, sizeof(a), BPF_HDR_START_NET) ||
		    bpf_skb_load_bytes_relative(skb, 9, &protocol, 1, BPF_HDR_START_NET))
			return PODGATE_TC_ACT_OK;
		podgate_addr_from_v4(src, a[0]);
		podgate_addr_from_v4(dst, a[1]);
		fib.family = PODGATE_AF_INET;
		fib.ipv4_dst = a[0];
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		if (bpf_skb_load_bytes_relative(skb, 8, src, 16, BPF_HDR_START_NET) ||
		    bpf_skb_load_bytes_relative(skb, 24, dst, 16, BPF_HDR_START_NET) ||
		    bpf_skb_load_bytes_relative(skb, 6, &protocol, 1, BPF_HDR_START_NET))
			return PODGATE_TC_ACT_OK;
		fib.family = PODGATE_AF_INET6;
		__builtin_memcpy(fib.ipv6_dst, src, 16);
	} else {
		return PODGATE_TC_ACT_OK;
	}

	struct podgate_addr_info *claimed = bpf_map_lookup_elem(&podgate_ipcache, src);
	if (claimed && ((claimed->flags & PODGATE_ADDR_F_HOST) ||
			((claimed->flags & PODGATE_ADDR_F_POD) && !podgate_routed_out_of_an_edge(skb, &fib)))) {
		/* Counted only: the event stream names pods and sockets, and
		 * these packets reached neither. */
		podgate_count(PODGATE_COUNTER_EDGE_FORGED);
		return PODGATE_TC_ACT_SHOT;
	}

	/* An echo request to a local pod (echo.h): its kernel would answer. */
	if (protocol != IPPROTO_ICMP && protocol != IPPROTO_ICMPV6 && protocol != IPPROTO_HOPOPTS &&
	    protocol != IPPROTO_ROUTING && protocol != IPPROTO_DSTOPTS && protocol != IPPROTO_FRAGMENT)
		return PODGATE_TC_ACT_OK;
	struct podgate_addr_info *target = bpf_map_lookup_elem(&podgate_ipcache, dst);
	if (!target || !(target->flags & PODGATE_ADDR_F_POD) || !podgate_is_echo_request(skb))
		return PODGATE_TC_ACT_OK;
	struct bpf_fib_lookup to = {};
	to.family = fib.family;
	if (fib.family == PODGATE_AF_INET)
		to.ipv4_dst = ((const __u32 *)dst)[3];
	else
		__builtin_memcpy(to.ipv6_dst, dst, 16);
	if (podgate_routed_out_of_an_edge(skb, &to))
		return PODGATE_TC_ACT_OK; /* passing through to another node */
	struct podgate_conn c = {};
	podgate_addr_copy(c.src, src);
	podgate_addr_copy(c.dst, dst);
	c.is_ipv4 = fib.family == PODGATE_AF_INET;
	return podgate_judge_echo(&c, claimed, target) == PODGATE_VERDICT_DENIED ? PODGATE_TC_ACT_SHOT : PODGATE_TC_ACT_OK;
}

#endif
