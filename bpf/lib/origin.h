/*
 * origin.h - rule 1 (policy-semantics.md): "a pod reaching itself" is
 * traffic that arrived over the pod's own loopback device, never a source
 * address. Anyone outside the pod can write the pod's own address (or
 * 127.0.0.1, ::1) into a packet; IPv6 has no reverse-path check and IPv4's
 * martian check is a sysctl (accept_local), so the source proves nothing.
 * The device does: the loopback device is ifindex 1 (LOOPBACK_IFINDEX) in
 * every network namespace, and a packet gets skb_iif 1 only when it was
 * sent inside that namespace.
 */
#ifndef PODGATE_ORIGIN_H
#define PODGATE_ORIGIN_H

#include <linux/bpf.h>
#include "conn.h"
#include "endpoint.h"
#include "events.h"

#define PODGATE_LOOPBACK_IFINDEX 1

static __always_inline int podgate_arrived_over_loopback(const struct __sk_buff *skb)
{
	return skb->ingress_ifindex == PODGATE_LOOPBACK_IFINDEX;
}

/* Does a packet that did NOT arrive over loopback claim to come from inside
 * the pod (a loopback source, or its own address as source and destination)? */
static __always_inline int podgate_claims_self(const struct podgate_conn *c)
{
	return podgate_addr_is_loopback(c->src) || podgate_addr_equal(c->src, c->dst);
}

enum podgate_origin {
	PODGATE_ORIGIN_OUTSIDE  = 0, /* judge on: rules 2-4 */
	PODGATE_ORIGIN_LOOPBACK = 1, /* rule 1: the pod reaching itself, allowed */
	PODGATE_ORIGIN_FORGED   = 2, /* claims to be the pod from outside: dropped, counted, reported */
};

/* Rule 1 at the server, for a new inbound connection c. Also finds the
 * receiving endpoint (*self, NULL if unregistered) and its cgroup, after the
 * cheapest exit. */
static __always_inline int podgate_inbound_origin(struct __sk_buff *skb, struct podgate_conn *c,
						  struct podgate_endpoint **self)
{
	if (podgate_arrived_over_loopback(skb))
		return PODGATE_ORIGIN_LOOPBACK;
	*self = podgate_skb_endpoint(skb, &c->cgroup_id);
	if (!podgate_claims_self(c))
		return PODGATE_ORIGIN_OUTSIDE;
	podgate_report_forged(PODGATE_COUNTER_FORGED_INBOUND, PODGATE_WHERE_SERVER, c->cgroup_id, c->src, c->dst,
			      c->protocol, *self);
	return PODGATE_ORIGIN_FORGED;
}

#endif
