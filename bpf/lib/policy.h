/*
 * policy.h - the decision for one new connection to a local or remote pod.
 *
 * Lookup precedence (policy-semantics.md, rules 3 and 4), for target class T,
 * source identity S, the source address's CIDR class C, protocol p, port P.
 * Each lookup is a longest-prefix match in podgate_policy over
 * (T, source, p, P), so an entry for "all protocols" (prefix 64), "all ports
 * of p" (72) or a port prefix (80 + k) all match P:
 *
 *   1. (T, S, p, P)     S is allowed by a policy covering P        -> allow
 *   2. (T, C, p, P)     C != 0: the source's network is allowed     -> allow
 *   3. (T, NONE, p, P)  some policy covers P, none allows the source
 *                                                 -> deny not-authorized
 *   4. no policy covers P: T's default inbound policy decides:
 *        all-unauthenticated      allow
 *        cluster-unauthenticated  allow iff the source is in --cluster-networks
 *                                 (else not-cluster)
 *        all-authenticated        allow iff S is a pod identity
 *                                 (else not-authenticated)
 *        cluster-authenticated    allow iff S is a pod identity and in the
 *                                 cluster networks (else not-authenticated,
 *                                 or not-cluster for a pod outside them)
 *        deny                     deny default-deny
 *        audit                    allow, reported as audit/default-deny
 *        0 or unknown             allow (the contract's fallback default)
 *
 * Protocols other than TCP and UDP skip 1-3 (podgate_decide_default): a
 * policy's "every port" entry (prefix 64) must not open ICMP or SCTP.
 *
 * An allow entry wins over the covering marker because rules 1-2 run first:
 * policies only add permissions. The matched entry's hits count is bumped.
 */
#ifndef PODGATE_POLICY_H
#define PODGATE_POLICY_H

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
	struct podgate_policy_value *value = bpf_map_lookup_elem(&podgate_policy, &key);
#ifndef PODGATE_POLICY_NO_HITS /* revoke.bpf.c re-judges open connections: not new hits */
	if (value)
		__sync_fetch_and_add(&value->hits, 1);
#endif
	return value;
}

static __always_inline int podgate_is_pod_identity(__u32 identity)
{
	return identity >= PODGATE_ID_FIRST_POD && identity < PODGATE_ID_FIRST_CIDR;
}

/* Rule 4 alone: the target's default inbound policy. Also the whole
 * decision for protocols that `ports` cannot name (ICMP, SCTP, UDP-Lite, raw
 * IP: policy-semantics.md, "Other IP protocols"), so policies, which only
 * ever speak of TCP and UDP ports, never open them. */
static __always_inline void podgate_decide_default(const struct podgate_conn *c, struct podgate_decision *d)
{
	d->verdict = PODGATE_VERDICT_ALLOWED;
	d->reason = PODGATE_REASON_NONE;
	d->policy_index = 0;

	int pod = podgate_is_pod_identity(c->src_identity);
	switch (c->default_policy) {
	case PODGATE_DEFAULT_CLUSTER_UNAUTHENTICATED:
		if (!c->in_cluster)
			d->reason = PODGATE_REASON_NOT_CLUSTER;
		break;
	case PODGATE_DEFAULT_ALL_AUTHENTICATED:
		if (!pod)
			d->reason = PODGATE_REASON_NOT_AUTHENTICATED;
		break;
	case PODGATE_DEFAULT_CLUSTER_AUTHENTICATED:
		if (!pod)
			d->reason = PODGATE_REASON_NOT_AUTHENTICATED;
		else if (!c->in_cluster)
			d->reason = PODGATE_REASON_NOT_CLUSTER;
		break;
	case PODGATE_DEFAULT_DENY:
		d->reason = PODGATE_REASON_DEFAULT_DENY;
		break;
	case PODGATE_DEFAULT_AUDIT:
		d->verdict = PODGATE_VERDICT_AUDIT;
		d->reason = PODGATE_REASON_DEFAULT_DENY;
		return;
	default: /* all-unauthenticated, or not set */
		break;
	}
	if (d->reason != PODGATE_REASON_NONE)
		d->verdict = PODGATE_VERDICT_DENIED;
}

static __always_inline void podgate_decide(const struct podgate_conn *c, struct podgate_decision *d)
{
	struct podgate_policy_value *v;

	d->verdict = PODGATE_VERDICT_ALLOWED;
	d->reason = PODGATE_REASON_NONE;
	d->policy_index = 0;

	/* 1 and 2: an allow entry for the source's identity or network. */
	if (podgate_policy_lookup(c->target_class, c->src_identity, c->protocol, c->dport))
		return;
	if (c->src_cidr_class != 0 &&
	    podgate_policy_lookup(c->target_class, c->src_cidr_class, c->protocol, c->dport))
		return;

	/* 3: the port is authorized-only. */
	v = podgate_policy_lookup(c->target_class, PODGATE_ID_NONE, c->protocol, c->dport);
	if (v) {
		d->verdict = PODGATE_VERDICT_DENIED;
		d->reason = PODGATE_REASON_NOT_AUTHORIZED;
		d->policy_index = v->policy_index;
		return;
	}

	podgate_decide_default(c, d);
}

#endif
