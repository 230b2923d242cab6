/*
 * policy.h - the decision for one new connection to a local or remote pod,
 * numbered as policy-semantics.md, "The decision for one inbound
 * connection". The facts come from resolve.h; nothing here reads a packet.
 *
 *   1. The pod reaching itself: allowed. The facts say so (c->same_pod) when
 *      a client's cgroup is the target pod. At the server only the packet
 *      tells (origin.h, podgate_inbound_origin): arrived over the pod's
 *      loopback device -> allowed; from outside claiming to be the pod (a
 *      loopback source, or its own address) -> dropped.
 *   2. From the node (c->from_node): allowed with --allow-from-host.
 *   3. Authorized-only ports. Lookups in podgate_exact (one port, hashed)
 *      then podgate_policy, a longest-prefix
 *      match over (target class T, source, protocol p, port P), so an entry
 *      for "all protocols" (PODGATE_POLICY_PREFIX_ALL), "all ports of p"
 *      (_PROTOCOL) or a port prefix (_PORT + k) all match P:
 *        a. (T, S, p, P)     S, the source's identity, is allowed   -> allow
 *           (T, N, p, P)     N != 0: the source pod's namespace class
 *                            ("every pod of namespace ...")       -> allow
 *           (T, ALL_PODS, p, P)  S is a pod identity ("every pod") -> allow
 *        b. (T, C, p, P)     C != 0: the source's network is allowed -> allow
 *        c. (T, NONE, p, P)  some policy covers P, none allows the source
 *                                                  -> deny not-authorized
 *      An allow entry wins over the covering marker because a-b run first:
 *      policies only add permissions. The matched entry's hits count is
 *      bumped. Protocols other than TCP and UDP skip rule 3 ("Other IP
 *      protocols"): a policy's "every port" entry must not open ICMP or SCTP.
 *   4. No policy covers P: T's default inbound policy decides
 *      (podgate_rule4_default).
 */
#ifndef PODGATE_POLICY_H
#define PODGATE_POLICY_H

#include <linux/in.h>
#include "maps.h"
#include "conn.h"

static __always_inline struct podgate_policy_value *
podgate_policy_lookup(__u32 target_class, __u32 source, __u8 protocol, __u16 port)
{
	struct podgate_policy_key key = {
		.prefixlen = PODGATE_POLICY_KEY_BITS,
		.target_class = target_class,
		.source = source,
		.protocol = protocol,
		.pad = 0,
		.port = bpf_htons(port),
	};
	/* One port: a hash lookup, whatever the number of entries. Then the trie,
	 * which holds only the shorter prefixes (ranges, protocols, everything). */
	struct podgate_policy_value *value = bpf_map_lookup_elem(&podgate_exact, &key);
	if (!value)
		value = bpf_map_lookup_elem(&podgate_policy, &key);
#ifndef PODGATE_POLICY_NO_HITS /* revoke.bpf.c re-judges open connections: not new hits */
	if (value)
		__sync_fetch_and_add(&value->hits, 1);
#endif
	return value;
}

static __always_inline void podgate_decided(struct podgate_decision *d, __u8 rule, __u8 verdict, __u8 reason,
					    __u32 policy_index)
{
	d->rule = rule;
	d->verdict = verdict;
	d->reason = reason;
	d->policy_index = policy_index;
}

/* Rule 4: the target's default inbound policy. Also the whole decision for
 * an echo request (echo.h), which rules 1-2 do not concern. 0 or an unknown
 * number: all-unauthenticated (the contract's fallback default). */
static __always_inline void podgate_rule4_default(const struct podgate_conn *c, struct podgate_decision *d)
{
	__u8 reason = PODGATE_REASON_NONE;
	int pod = podgate_is_pod_identity(c->src_identity);
	switch (c->default_policy) {
	case PODGATE_DEFAULT_CLUSTER_UNAUTHENTICATED:
		if (!c->in_cluster)
			reason = PODGATE_REASON_NOT_CLUSTER;
		break;
	case PODGATE_DEFAULT_ALL_AUTHENTICATED:
		if (!pod)
			reason = PODGATE_REASON_NOT_AUTHENTICATED;
		break;
	case PODGATE_DEFAULT_CLUSTER_AUTHENTICATED:
		if (!pod)
			reason = PODGATE_REASON_NOT_AUTHENTICATED;
		else if (!c->in_cluster)
			reason = PODGATE_REASON_NOT_CLUSTER;
		break;
	case PODGATE_DEFAULT_DENY:
		reason = PODGATE_REASON_DEFAULT_DENY;
		break;
	case PODGATE_DEFAULT_AUDIT:
		podgate_decided(d, 4, PODGATE_VERDICT_AUDIT, PODGATE_REASON_DEFAULT_DENY, 0);
		return;
	default: /* all-unauthenticated, or not set */
		break;
	}
	podgate_decided(d, 4, reason == PODGATE_REASON_NONE ? PODGATE_VERDICT_ALLOWED : PODGATE_VERDICT_DENIED,
			reason, 0);
}

/* Rule 3; returns 0 when no policy covers the port (rule 4 decides). */
static __always_inline int podgate_rule3_policies(const struct podgate_conn *c, struct podgate_decision *d)
{
	struct podgate_policy_value *v;

	if (c->protocol != IPPROTO_TCP && c->protocol != IPPROTO_UDP)
		return 0;
	/* a: the identity, then the classes it belongs to. Only a pod identity
	 * has classes: the namespace class comes from the same entry as the
	 * identity (never from the packet), and ALL_PODS needs a pod identity. */
	if (podgate_policy_lookup(c->target_class, c->src_identity, c->protocol, c->dport)) {
		podgate_decided(d, 3, PODGATE_VERDICT_ALLOWED, PODGATE_REASON_NONE, 0);
		return 1;
	}
	if (podgate_is_pod_identity(c->src_identity)) {
		if (c->src_namespace_class != 0 &&
		    podgate_policy_lookup(c->target_class, c->src_namespace_class, c->protocol, c->dport)) {
			podgate_decided(d, 3, PODGATE_VERDICT_ALLOWED, PODGATE_REASON_NONE, 0);
			return 1;
		}
		if (podgate_policy_lookup(c->target_class, PODGATE_ID_ALL_PODS, c->protocol, c->dport)) {
			podgate_decided(d, 3, PODGATE_VERDICT_ALLOWED, PODGATE_REASON_NONE, 0);
			return 1;
		}
	}
	/* b */
	if (c->src_cidr_class != 0 &&
	    podgate_policy_lookup(c->target_class, c->src_cidr_class, c->protocol, c->dport)) {
		podgate_decided(d, 3, PODGATE_VERDICT_ALLOWED, PODGATE_REASON_NONE, 0);
		return 1;
	}
	/* c */
	v = podgate_policy_lookup(c->target_class, PODGATE_ID_NONE, c->protocol, c->dport);
	if (v) {
		podgate_decided(d, 3, PODGATE_VERDICT_DENIED, PODGATE_REASON_NOT_AUTHORIZED, v->policy_index);
		return 1;
	}
	return 0;
}

/* The whole precedence, 1 to 4, on resolved facts. `config_flags`:
 * PODGATE_CFG_F_* of podgate_config. d->rule says which rule decided. */
static __always_inline void podgate_decide(const struct podgate_conn *c, __u32 config_flags, struct podgate_decision *d)
{
	if (c->same_pod) {
		podgate_decided(d, 1, PODGATE_VERDICT_ALLOWED, PODGATE_REASON_NONE, 0);
		return;
	}
	if (c->from_node && (config_flags & PODGATE_CFG_F_ALLOW_FROM_HOST)) {
		podgate_decided(d, 2, PODGATE_VERDICT_ALLOWED, PODGATE_REASON_NONE, 0);
		return;
	}
	if (podgate_rule3_policies(c, d))
		return;
	podgate_rule4_default(c, d);
}

/* Not a rule of the contract: the receiving cgroup is not registered. Left
 * alone (returns 0) unless unknown cgroups are distrusted
 * (PODGATE_CFG_F_UNKNOWN_POD_DENY): then refused as unknown-pod. */
static __always_inline int podgate_decide_unregistered(struct podgate_conn *c, __u32 config_flags,
						       struct podgate_decision *d)
{
	if (!(config_flags & PODGATE_CFG_F_UNKNOWN_POD_DENY))
		return 0;
	c->src_identity = PODGATE_ID_UNKNOWN_POD;
	podgate_decided(d, 0, PODGATE_VERDICT_DENIED, PODGATE_REASON_UNKNOWN_POD, 0);
	return 1;
}

#endif
