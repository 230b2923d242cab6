/*
 * resolve.h - source resolution: the facts of a connection that the decision
 * (policy.h) needs, read from the maps. Shared by the entry points
 * (podgate.bpf.c), the echo check (echo.h) and revocation (revoke.h), so a
 * socket is re-judged on exactly the facts its connection was judged on.
 *
 *   target:  the pod being reached (its endpoint entry at the server, its
 *            address entry at the client): identity, pod, policy target
 *            class, default inbound policy.
 *   source:  at the server, by address (podgate_ipcache; unknown = world)
 *            and network (podgate_cidrs); at the client, by the caller's
 *            cgroup (its endpoint entry, which holds both).
 */
#ifndef PODGATE_RESOLVE_H
#define PODGATE_RESOLVE_H

#include "maps.h"
#include "conn.h"
#include "endpoint.h"

static __always_inline void podgate_target_from_endpoint(struct podgate_conn *c, const struct podgate_endpoint *ep)
{
	c->dst_identity = ep->identity;
	c->dst_pod_id = ep->pod_id;
	c->target_class = ep->target_class;
	c->default_policy = ep->default_policy;
}

static __always_inline void podgate_target_from_addr(struct podgate_conn *c, const struct podgate_addr_info *info)
{
	c->dst_identity = info->identity;
	c->dst_pod_id = info->pod_id;
	c->target_class = info->target_class;
	c->default_policy = info->default_policy;
}

/* The client's side: a local pod, known by its cgroup. Its network facts are
 * those of its address in the family of the connection. */
static __always_inline void podgate_source_from_endpoint(struct podgate_conn *c, const struct podgate_endpoint *ep)
{
	c->src_identity = ep->identity;
	c->src_pod_id = ep->pod_id;
	c->src_namespace_class = ep->namespace_class;
	c->src_cidr_class = c->is_ipv4 ? ep->cidr_class4 : ep->cidr_class6;
	c->in_cluster = !!(ep->flags & (c->is_ipv4 ? PODGATE_EP_F_IN_CLUSTER4 : PODGATE_EP_F_IN_CLUSTER6));
}

/* The network of c->src: its longest prefix in podgate_cidrs. */
static __always_inline void podgate_source_network(struct podgate_conn *c)
{
	struct podgate_lpm_addr_key lpm = { .prefixlen = PODGATE_LPM_ADDR_BITS };
	podgate_addr_copy(lpm.addr, c->src);
	struct podgate_cidr_info *network = bpf_map_lookup_elem(&podgate_cidrs, &lpm);
	if (network) {
		c->src_cidr_class = network->cidr_class;
		c->in_cluster = !!(network->flags & PODGATE_CIDR_F_CLUSTER);
	}
}

/* The server's side: c->src known by its address. An address of this node
 * is the node (identity host unless the agent named it); one nothing claims
 * is the world. */
static __always_inline void podgate_source_from_address(struct podgate_conn *c)
{
	struct podgate_addr_info *source = bpf_map_lookup_elem(&podgate_ipcache, c->src);
	if (source) {
		c->src_identity = source->identity;
		c->src_pod_id = source->pod_id;
		c->src_namespace_class = source->namespace_class;
		if (source->flags & PODGATE_ADDR_F_HOST) {
			c->from_node = 1;
			if (!c->src_identity)
				c->src_identity = PODGATE_ID_HOST;
		}
	} else {
		c->src_identity = PODGATE_ID_WORLD;
	}
	podgate_source_network(c);
}

/*
 * The client side: the local pod `self` (NULL: a cgroup the agent has not
 * registered) connects or sends to c->dst. Returns 1 with the facts in c
 * when the client side judges, 0 when it leaves the connection to the
 * server: destinations that are not pod addresses, host-network pods, and
 * unregistered callers unless unknown cgroups are distrusted
 * (PODGATE_CFG_F_UNKNOWN_POD_DENY), when they are the identity UNKNOWN_POD.
 */
static __always_inline int podgate_client_facts(struct podgate_conn *c, __u32 config_flags,
						const struct podgate_endpoint *self)
{
	struct podgate_addr_info *target = bpf_map_lookup_elem(&podgate_ipcache, c->dst);
	if (!target || !(target->flags & PODGATE_ADDR_F_POD))
		return 0;
	if (self && !podgate_is_pod_identity(self->identity))
		return 0;
	podgate_target_from_addr(c, target);
	if (self) {
		podgate_source_from_endpoint(c, self);
		c->same_pod = self->pod_id == target->pod_id;
	} else if (config_flags & PODGATE_CFG_F_UNKNOWN_POD_DENY) {
		c->src_identity = PODGATE_ID_UNKNOWN_POD;
	} else {
		return 0;
	}
	return 1;
}

#endif
