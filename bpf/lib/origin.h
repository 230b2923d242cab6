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

#endif
