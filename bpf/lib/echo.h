/*
 * echo.h - ICMP and ICMPv6 echo requests to pods. The target's kernel
 * answers them itself: no socket receives the request, so the pod's
 * cgroup_skb/ingress never sees it, and the reply leaves from the kernel's
 * own ICMP socket, outside every pod cgroup. They are judged on the way in
 * instead, by rules 2 and 4 (policy-semantics.md, "Other IP protocols"):
 * at the sending pod's egress (a local pod pinging any pod) and at the
 * node's edge (lib/edge.h: from outside the node to a local pod). Pings
 * from this node itself are rule 2 and pass.
 *
 * Offsets are relative to the network header (bpf_skb_load_bytes_relative),
 * so the same code serves cgroup_skb (data at the IP header) and tc (data at
 * the link-layer header).
 */
#ifndef PODGATE_ECHO_H
#define PODGATE_ECHO_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "maps.h"
#include "conn.h"
#include "policy.h"
#include "resolve.h"
#include "events.h"

#define PODGATE_ICMP_ECHO_REQUEST   8
#define PODGATE_ICMPV6_ECHO_REQUEST 128

/* Is skb an ICMP(v6) echo request (the first fragment, if fragmented)?
 * IPv6 extension headers are walked like packet.h does; too many of them
 * count as an echo request (fail closed). */
static __always_inline int podgate_is_echo_request(struct __sk_buff *skb)
{
	__u8 type = 0;
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		__u8 h[2];
		__u16 frag;
		if (bpf_skb_load_bytes_relative(skb, 9, &h[0], 1, BPF_HDR_START_NET) || h[0] != IPPROTO_ICMP)
			return 0;
		if (bpf_skb_load_bytes_relative(skb, 6, &frag, 2, BPF_HDR_START_NET) ||
		    (frag & bpf_htons(0x1fff)))
			return 0; /* not the first fragment: no type; reassembly needs the first */
		if (bpf_skb_load_bytes_relative(skb, 0, &h[1], 1, BPF_HDR_START_NET))
			return 0;
		if (bpf_skb_load_bytes_relative(skb, (h[1] & 0x0f) * 4, &type, 1, BPF_HDR_START_NET))
			return 0;
		return type == PODGATE_ICMP_ECHO_REQUEST;
	}
	if (skb->protocol != bpf_htons(ETH_P_IPV6))
		return 0;
	__u8 next;
	__u32 offset = sizeof(struct ipv6hdr);
	if (bpf_skb_load_bytes_relative(skb, 6, &next, 1, BPF_HDR_START_NET))
		return 0;
	for (int i = 0; i < 4; i++) {
		__u8 h[4];
		if (next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING || next == IPPROTO_DSTOPTS) {
			if (bpf_skb_load_bytes_relative(skb, offset, h, 2, BPF_HDR_START_NET))
				return 0;
			next = h[0];
			offset += ((__u32)h[1] + 1) * 8;
		} else if (next == IPPROTO_FRAGMENT) {
			if (bpf_skb_load_bytes_relative(skb, offset, h, 4, BPF_HDR_START_NET))
				return 0;
			if (((h[2] << 8) | h[3]) & 0xfff8)
				return 0;
			next = h[0];
			offset += 8;
		} else {
			break;
		}
	}
	if (next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING || next == IPPROTO_DSTOPTS || next == IPPROTO_FRAGMENT)
		return 1;
	if (next != IPPROTO_ICMPV6)
		return 0;
	if (bpf_skb_load_bytes_relative(skb, offset, &type, 1, BPF_HDR_START_NET))
		return 0;
	return type == PODGATE_ICMPV6_ECHO_REQUEST;
}

/* Rule 4 for an echo request from `src` (its ipcache entry, or NULL) to the
 * pod `target`, counted and reported like a server-side decision (the
 * decision is the target's; where the sender is a local pod, cgroup_id is
 * the sender's). Returns the verdict. */
static __always_inline __u8 podgate_judge_echo(struct podgate_conn *c, const struct podgate_addr_info *source,
					       const struct podgate_addr_info *target)
{
	struct podgate_decision d;
	c->protocol = c->is_ipv4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	podgate_target_from_addr(c, target);
	if (!c->src_identity) {
		c->src_identity = source ? source->identity : PODGATE_ID_WORLD;
		c->src_pod_id = source ? source->pod_id : 0;
		podgate_source_network(c);
	}
	podgate_rule4_default(c, &d);
	podgate_report(c, &d, PODGATE_WHERE_SERVER);
	return d.verdict;
}

/* The egress side: a local pod's echo request to a pod address. Called for
 * packets that passed anti-spoofing. */
static __always_inline int podgate_echo_allowed_from_pod(struct __sk_buff *skb, const struct podgate_endpoint *self,
							 __u64 cgroup_id, const __u8 src[16], const __u8 dst[16], __u8 protocol)
{
	if (protocol != IPPROTO_ICMP && protocol != IPPROTO_ICMPV6 && protocol != IPPROTO_HOPOPTS &&
	    protocol != IPPROTO_ROUTING && protocol != IPPROTO_DSTOPTS && protocol != IPPROTO_FRAGMENT)
		return 1;
	struct podgate_addr_info *target = bpf_map_lookup_elem(&podgate_ipcache, dst);
	if (!target || !(target->flags & PODGATE_ADDR_F_POD) || target->pod_id == self->pod_id)
		return 1;
	if (!podgate_is_echo_request(skb))
		return 1;
	struct podgate_conn c = {};
	podgate_addr_copy(c.src, src);
	podgate_addr_copy(c.dst, dst);
	c.is_ipv4 = podgate_addr_is_v4mapped((const __u32 *)src);
	c.cgroup_id = cgroup_id;
	podgate_source_from_endpoint(&c, self);
	return podgate_judge_echo(&c, NULL, target) != PODGATE_VERDICT_DENIED;
}

#endif
