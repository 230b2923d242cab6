/*
 * endpoint.h - find the local pod a socket belongs to. The agent registers
 * pod-level cgroups (and, on real nodes, container cgroups); a socket may sit
 * in a deeper cgroup, so the leaf is tried first, then its ancestors from the
 * deepest level up. Levels deeper than the leaf return id 0 and are skipped.
 */
#ifndef PODGATE_ENDPOINT_H
#define PODGATE_ENDPOINT_H

#include "maps.h"

/* Deeper than any kubelet layout (4-6 levels, more when nested in a node
 * container); bounds the walk for the verifier. */
#define PODGATE_CGROUP_MAX_DEPTH 16

/* The cgroup id at `level` (0: the leaf itself) of the calling task
 * (sock_addr programs) or of the socket receiving skb (cgroup_skb programs,
 * of_skb). of_skb is a constant at every call: once inlined, only the
 * helpers the program type may call remain. */
static __always_inline __u64 podgate_cgroup_at(struct __sk_buff *skb, const int of_skb, int level)
{
	if (of_skb)
		return level ? bpf_skb_ancestor_cgroup_id(skb, level) : bpf_skb_cgroup_id(skb);
	return level ? bpf_get_current_ancestor_cgroup_id(level) : bpf_get_current_cgroup_id();
}

/* The leaf first, then its ancestors from the deepest level up; levels
 * deeper than the leaf give id 0 and are skipped. */
static __always_inline struct podgate_endpoint *podgate_find_endpoint(struct __sk_buff *skb, const int of_skb,
								  __u64 *cgroup_id)
{
	__u64 id = podgate_cgroup_at(skb, of_skb, 0);
	struct podgate_endpoint *ep = bpf_map_lookup_elem(&podgate_endpts, &id);

	*cgroup_id = id;
	if (ep)
		return ep;
	for (int level = PODGATE_CGROUP_MAX_DEPTH; level > 0; level--) {
		id = podgate_cgroup_at(skb, of_skb, level);
		if (!id)
			continue;
		ep = bpf_map_lookup_elem(&podgate_endpts, &id);
		if (ep) {
			*cgroup_id = id;
			return ep;
		}
	}
	return NULL;
}

/* The endpoint of the calling task (sock_addr programs). */
static __always_inline struct podgate_endpoint *podgate_current_endpoint(__u64 *cgroup_id)
{
	return podgate_find_endpoint(NULL, 0, cgroup_id);
}

/* The endpoint of the socket receiving skb (cgroup_skb programs). */
static __always_inline struct podgate_endpoint *podgate_skb_endpoint(struct __sk_buff *skb, __u64 *cgroup_id)
{
	return podgate_find_endpoint(skb, 1, cgroup_id);
}

#endif
