/*
 * packet.h - does an inbound packet start a new connection? For cgroup_skb
 * the data starts at the IP header. Judged: a TCP SYN without ACK, every UDP
 * and UDP-Lite datagram (replies are told apart later, by the socket's
 * peers), an SCTP packet opening an association (INIT), and every packet of
 * any other IP protocol (raw IP, ICMP echo requests and other ICMP queries),
 * which rules 1, 2 and 4 decide (policy-semantics.md, "Other IP protocols").
 * Passed: established TCP, SCTP of an association, ICMP errors and echo
 * replies (the kernel hands them only to the socket whose traffic they are
 * about, or to raw sockets, which see every ICMP packet), and IPv6 neighbour
 * discovery and multicast listener messages (link-local network operation).
 * Established traffic costs two small loads.
 *
 * IPv6: hop-by-hop, routing, destination options, fragment and AH headers
 * are walked, at most PODGATE_IPV6_MAX_EXT of them. A packet with more is
 * refused (PODGATE_PKT_DROP): otherwise stacking headers would be a way
 * around the check. Non-first fragments carry no ports and pass; packets
 * reach sockets reassembled anyway.
 */
#ifndef PODGATE_PACKET_H
#define PODGATE_PACKET_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "conn.h"

#define PODGATE_IPV4_FRAG_OFFSET 0x1fff
#define PODGATE_IPV6_MAX_EXT     4
#define PODGATE_TCP_FLAG_SYN     0x02
#define PODGATE_TCP_FLAG_ACK     0x10
#define PODGATE_SCTP_CHUNK_INIT  1

enum podgate_pkt {
	PODGATE_PKT_PASS = 0,  /* not a new connection: let it through */
	PODGATE_PKT_JUDGE = 1, /* a new connection: c holds its addresses and ports */
	PODGATE_PKT_DROP = 2,  /* cannot be parsed safely */
};

static __always_inline int podgate_ipv6_skip_ext(struct __sk_buff *skb, __u8 *nexthdr, __u32 *offset)
{
	for (int i = 0; i < PODGATE_IPV6_MAX_EXT; i++) {
		__u8 h[4];
		switch (*nexthdr) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if (bpf_skb_load_bytes(skb, *offset, h, 2))
				return PODGATE_PKT_PASS;
			*nexthdr = h[0];
			*offset += ((__u32)h[1] + 1) * 8;
			break;
		case IPPROTO_FRAGMENT:
			if (bpf_skb_load_bytes(skb, *offset, h, 4))
				return PODGATE_PKT_PASS;
			if (((h[2] << 8) | h[3]) & 0xfff8)
				return PODGATE_PKT_PASS; /* not the first fragment */
			*nexthdr = h[0];
			*offset += 8;
			break;
		case IPPROTO_AH:
			if (bpf_skb_load_bytes(skb, *offset, h, 2))
				return PODGATE_PKT_PASS;
			*nexthdr = h[0];
			*offset += ((__u32)h[1] + 2) * 4;
			break;
		default:
			return PODGATE_PKT_JUDGE;
		}
	}
	switch (*nexthdr) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_DSTOPTS:
	case IPPROTO_FRAGMENT:
	case IPPROTO_AH:
		return PODGATE_PKT_DROP;
	}
	return PODGATE_PKT_JUDGE;
}

/* ICMP messages that are not new inbound traffic: errors and echo replies
 * (about the pod's own traffic), and for ICMPv6 also neighbour discovery and
 * multicast listener messages. Requests (echo, timestamp, ...) and unknown
 * types are judged. */
static __always_inline int podgate_icmp_passes(__u8 protocol, __u8 type)
{
	if (protocol == IPPROTO_ICMP) {
		switch (type) {
		case 0:  /* echo reply */
		case 3:  /* destination unreachable */
		case 4:  /* source quench */
		case 5:  /* redirect */
		case 11: /* time exceeded */
		case 12: /* parameter problem */
		case 14: /* timestamp reply */
		case 16: /* information reply */
		case 18: /* address mask reply */
			return 1;
		}
		return 0;
	}
	if (type < 128)
		return 1; /* ICMPv6 errors: 1-4 */
	switch (type) {
	case 129: /* echo reply */
	case 130: case 131: case 132: case 143:         /* multicast listener */
	case 133: case 134: case 135: case 136: case 137: /* neighbour discovery */
		return 1;
	}
	return 0;
}

static __always_inline int podgate_parse_new_connection(struct __sk_buff *skb, struct podgate_conn *c)
{
	__u32 offset;
	__u8 protocol;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;
		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)))
			return PODGATE_PKT_PASS;
		if (ip.frag_off & bpf_htons(PODGATE_IPV4_FRAG_OFFSET))
			return PODGATE_PKT_PASS;
		protocol = ip.protocol;
		offset = ip.ihl * 4;
		podgate_addr_from_v4(c->src, ip.saddr);
		podgate_addr_from_v4(c->dst, ip.daddr);
		c->is_ipv4 = 1;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;
		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)))
			return PODGATE_PKT_PASS;
		protocol = ip6.nexthdr;
		offset = sizeof(ip6);
		int r = podgate_ipv6_skip_ext(skb, &protocol, &offset);
		if (r != PODGATE_PKT_JUDGE)
			return r;
		__builtin_memcpy(c->src, &ip6.saddr, 16);
		__builtin_memcpy(c->dst, &ip6.daddr, 16);
		c->is_ipv4 = podgate_addr_is_v4mapped((const __u32 *)c->src);
	} else {
		return PODGATE_PKT_PASS;
	}

	if (protocol == IPPROTO_TCP) {
		__u8 tcp[14]; /* ports, seq, ack_seq, doff, flags */
		if (bpf_skb_load_bytes(skb, offset, tcp, sizeof(tcp)))
			return PODGATE_PKT_PASS;
		if ((tcp[13] & (PODGATE_TCP_FLAG_SYN | PODGATE_TCP_FLAG_ACK)) != PODGATE_TCP_FLAG_SYN)
			return PODGATE_PKT_PASS;
		c->sport = (tcp[0] << 8) | tcp[1];
		c->dport = (tcp[2] << 8) | tcp[3];
	} else if (protocol == IPPROTO_UDP) {
		__u8 udp[4];
		if (bpf_skb_load_bytes(skb, offset, udp, sizeof(udp)))
			return PODGATE_PKT_PASS;
		c->sport = (udp[0] << 8) | udp[1];
		c->dport = (udp[2] << 8) | udp[3];
	} else if (protocol == IPPROTO_UDPLITE) {
		__u8 udp[4];
		if (bpf_skb_load_bytes(skb, offset, udp, sizeof(udp)))
			return PODGATE_PKT_DROP;
		c->sport = (udp[0] << 8) | udp[1];
		c->dport = (udp[2] << 8) | udp[3];
	} else if (protocol == IPPROTO_SCTP) {
		__u8 sctp[13]; /* ports, verification tag, checksum, first chunk type */
		if (bpf_skb_load_bytes(skb, offset, sctp, sizeof(sctp)))
			return PODGATE_PKT_DROP;
		if (sctp[12] != PODGATE_SCTP_CHUNK_INIT)
			return PODGATE_PKT_PASS; /* no association starts without INIT */
		c->sport = (sctp[0] << 8) | sctp[1];
		c->dport = (sctp[2] << 8) | sctp[3];
	} else if (protocol == IPPROTO_ICMP || protocol == IPPROTO_ICMPV6) {
		__u8 type;
		if (bpf_skb_load_bytes(skb, offset, &type, 1))
			return PODGATE_PKT_DROP;
		if (podgate_icmp_passes(protocol, type))
			return PODGATE_PKT_PASS;
	}
	/* Any other protocol: judged as new, without ports. */
	c->protocol = protocol;
	return PODGATE_PKT_JUDGE;
}

#endif
