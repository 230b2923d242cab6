/*
 * revoke.h - does the state in the maps still allow this open connection?
 * The same facts the entry points gather for a new connection (resolve.h),
 * taken from a socket instead of a packet or a connect() call, handed to the
 * same podgate_decide(): a socket is closed exactly when the current maps
 * would refuse its connection if it started now.
 *
 *   server side: an accepted TCP socket of a local pod P, from remote R to
 *                P's local port (what cgroup_skb/ingress judges);
 *   client side: a connected socket of a local pod P to a pod address
 *                (what connect4/6 and sendmsg4/6 judge).
 *
 * Skipped, as the entry points skip them: sockets in no registered cgroup,
 * loopback and self connections, clients that are host-network pods, client
 * destinations that are not pod addresses (the server decides), and
 * everything but connected states (never a listening socket).
 */
#ifndef PODGATE_REVOKE_H
#define PODGATE_REVOKE_H

#include "ksock.h"
#include "endpoint.h"
#include "maps.h"
#include "conn.h"
#include "policy.h"
#include "resolve.h"
#include "events.h"

#define PODGATE_AF_INET  2
#define PODGATE_AF_INET6 10

/* include/net/tcp_states.h */
#define PODGATE_TCP_ESTABLISHED 1
#define PODGATE_TCP_FIN_WAIT1   4
#define PODGATE_TCP_FIN_WAIT2   5
#define PODGATE_TCP_CLOSE_WAIT  8
#define PODGATE_TCP_LISTEN      10

/* The registered endpoint of a socket's cgroup or its nearest registered
 * ancestor: the order of podgate_current_endpoint, leaf first. */
static __always_inline struct podgate_endpoint *podgate_sock_endpoint(struct sock *sk, __u64 *cgroup_id)
{
	struct cgroup *cg = BPF_CORE_READ(sk, sk_cgrp_data.cgroup);

	for (int level = 0; level <= PODGATE_CGROUP_MAX_DEPTH && cg; level++) {
		__u64 id = BPF_CORE_READ(cg, kn, id);
		struct podgate_endpoint *ep = bpf_map_lookup_elem(&podgate_endpts, &id);
		if (ep) {
			*cgroup_id = id;
			return ep;
		}
		cg = (struct cgroup *)BPF_CORE_READ(cg, self.parent);
	}
	return NULL;
}

/* Local and remote address of a connected socket, as the maps store them. */
static __always_inline int podgate_sock_addrs(struct sock *sk, __u8 local[16], __u8 remote[16], __u8 *is_ipv4)
{
	unsigned short family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family == PODGATE_AF_INET) {
		podgate_addr_from_v4(local, BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr));
		podgate_addr_from_v4(remote, BPF_CORE_READ(sk, __sk_common.skc_daddr));
		*is_ipv4 = 1;
		return 1;
	}
	if (family == PODGATE_AF_INET6) {
		BPF_CORE_READ_INTO((struct podgate_k_in6 *)local, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO((struct podgate_k_in6 *)remote, sk, __sk_common.skc_v6_daddr);
		*is_ipv4 = podgate_addr_is_v4mapped((const __u32 *)remote);
		return 1;
	}
	return 0;
}

/* Is the connection c of the local pod `self` refused by the current maps?
 * Server side (accepted): ingress's facts; client side: connect's facts. */
static __always_inline int podgate_revoke_refused(struct podgate_conn *c, struct podgate_decision *d,
						  const struct podgate_endpoint *self, int accepted, __u32 config_flags)
{
	if (accepted) {
		podgate_target_from_endpoint(c, self);
		podgate_source_from_address(c);
	} else if (!podgate_client_facts(c, config_flags, self)) {
		return 0;
	}
	podgate_decide(c, config_flags, d);
	return d->verdict == PODGATE_VERDICT_DENIED;
}

/*
 * Judges one socket. Returns the side whose decision refuses it
 * (PODGATE_WHERE_SERVER or _CLIENT) and fills the event, or -1 to keep it.
 * `accepted`: the socket came from a listener (the pod is the server).
 */
static __always_inline int podgate_revoke_judge(struct sock *sk, __u8 protocol, int accepted, struct podgate_event *e)
{
	const __u32 zero = 0;
	const struct podgate_config *cfg = bpf_map_lookup_elem(&podgate_config, &zero);
	if (!cfg || cfg->abi_version == 0)
		return -1;

	struct podgate_conn c = {};
	__u8 local[16], remote[16], is_ipv4 = 0;
	if (!podgate_sock_addrs(sk, local, remote, &is_ipv4))
		return -1;
	if (podgate_addr_is_loopback(remote) || podgate_addr_equal(local, remote))
		return -1;
	struct podgate_endpoint *self = podgate_sock_endpoint(sk, &c.cgroup_id);
	if (!self)
		return -1; /* not a socket of a pod podgate manages */

	__u16 local_port = BPF_CORE_READ(sk, __sk_common.skc_num);
	__u16 remote_port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	c.protocol = protocol;
	c.is_ipv4 = is_ipv4;

	struct podgate_decision d = {};
	int where;
	if (accepted) {
		podgate_addr_copy(c.src, remote);
		podgate_addr_copy(c.dst, local);
		c.sport = remote_port;
		c.dport = local_port;
		where = PODGATE_WHERE_SERVER;
	} else {
		podgate_addr_copy(c.src, local);
		podgate_addr_copy(c.dst, remote);
		c.sport = local_port;
		c.dport = remote_port;
		where = PODGATE_WHERE_CLIENT;
	}
	if (!podgate_revoke_refused(&c, &d, self, accepted, cfg->flags))
		return -1;

	__builtin_memset(e, 0, sizeof(*e));
	e->timestamp_ns = bpf_ktime_get_ns();
	e->cgroup_id = c.cgroup_id;
	__builtin_memcpy(e->src_addr, c.src, 16);
	__builtin_memcpy(e->dst_addr, c.dst, 16);
	e->src_port = c.sport;
	e->dst_port = c.dport;
	e->where = where;
	e->verdict = PODGATE_VERDICT_REVOKED;
	e->reason = d.reason;
	e->protocol = protocol;
	e->src_identity = c.src_identity;
	e->dst_identity = c.dst_identity;
	e->target_class = c.target_class;
	e->policy_index = d.policy_index;
	e->src_pod_id = c.src_pod_id;
	e->dst_pod_id = c.dst_pod_id;
	return where;
}

#endif
