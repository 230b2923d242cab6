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

/* The endpoint of the calling task (sock_addr programs). */
static __always_inline struct podgate_endpoint *podgate_current_endpoint(__u64 *cgroup_id)
{
	__u64 id = bpf_get_current_cgroup_id();
	struct podgate_endpoint *ep = bpf_map_lookup_elem(&podgate_endpts, &id);

	*cgroup_id = id;
	if (ep)
		return ep;
	for (int level = PODGATE_CGROUP_MAX_DEPTH; level > 0; level--) {
		id = bpf_get_current_ancestor_cgroup_id(level);
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

/* The endpoint of the socket receiving skb (cgroup_skb programs). */
static __always_inline struct podgate_endpoint *podgate_skb_endpoint(struct __sk_buff *skb, __u64 *cgroup_id)
{
	__u64 id = bpf_skb_cgroup_id(skb);
	struct podgate_endpoint *ep = bpf_map_lookup_elem(&podgate_endpts, &id);

	*cgroup_id = id;
	if (ep)
		return ep;
	for (int level = PODGATE_CGROUP_MAX_DEPTH; level > 0; level--) {
		id = bpf_skb_ancestor_cgroup_id(skb, level);
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

#endif
