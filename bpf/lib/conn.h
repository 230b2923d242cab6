/*
 * conn.h - the connection being judged and the outcome of the judgement,
 * plus small address helpers. Addresses are 16 bytes, IPv4 as ::ffff:a.b.c.d
 * (podgate_abi.h), so an IPv4-mapped IPv6 destination is the IPv4 one.
 */
#ifndef PODGATE_CONN_H
#define PODGATE_CONN_H

#include <linux/types.h>
#include <bpf/bpf_endian.h>
#include "podgate_abi.h"

/* Return values of cgroup programs. */
#define SYS_REJECT  0
#define SYS_PROCEED 1

struct podgate_conn {
	__u8  src[16];        /* network order; zero on the client side (not known yet) */
	__u8  dst[16];
	__u16 sport;          /* host order */
	__u16 dport;
	__u8  protocol;
	__u8  is_ipv4;        /* selects the client's cidr_class4/in-cluster4 */
	__u8  in_cluster;     /* source inside --cluster-networks */
	__u8  same_pod;       /* rule 1: the source is the target pod itself */
	__u8  from_node;      /* rule 2: the source is this node (an address of it) */
	__u8  pad[3];
	__u64 cgroup_id;      /* the local pod cgroup that decides */
	__u32 src_identity;
	__u32 src_cidr_class;
	__u32 src_pod_id;
	__u32 dst_identity;
	__u32 dst_pod_id;
	__u32 target_class;
	__u32 default_policy;
	__u32 src_namespace_class; /* the source pod's namespace class, 0 when not a pod */
};

struct podgate_decision {
	__u8  verdict;        /* enum podgate_verdict */
	__u8  reason;         /* enum podgate_reason */
	__u8  rule;           /* the rule of policy-semantics.md that decided, 1-4;
	                       * 0: none (an unregistered cgroup, policy.h) */
	__u32 policy_index;   /* a covering policy when not-authorized */
};

static __always_inline int podgate_is_pod_identity(__u32 identity)
{
	return identity >= PODGATE_ID_FIRST_POD && identity < PODGATE_ID_FIRST_NAMESPACE;
}

static __always_inline void podgate_addr_from_v4(__u8 out[16], __u32 be_addr)
{
	__u32 *w = (__u32 *)out;
	w[0] = 0;
	w[1] = 0;
	w[2] = bpf_htonl(0x0000ffff);
	w[3] = be_addr;
}

static __always_inline int podgate_addr_is_v4mapped(const __u32 w[4])
{
	return w[0] == 0 && w[1] == 0 && w[2] == bpf_htonl(0x0000ffff);
}

static __always_inline int podgate_addr_is_loopback(const __u8 a[16])
{
	const __u32 *w = (const __u32 *)a;
	if (podgate_addr_is_v4mapped(w))
		return a[12] == 127;
	return w[0] == 0 && w[1] == 0 && w[2] == 0 && w[3] == bpf_htonl(1);
}

static __always_inline int podgate_addr_equal(const __u8 a[16], const __u8 b[16])
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;
	return x[0] == y[0] && x[1] == y[1];
}

static __always_inline void podgate_addr_copy(__u8 dst[16], const __u8 src[16])
{
	__builtin_memcpy(dst, src, 16);
}

#endif
