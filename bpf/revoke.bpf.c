/*
 * revoke.bpf.c - socket iterators that close the connections the current
 * maps refuse (policy-semantics.md, "Where it is enforced"). A separate
 * object from podgate.bpf.c: it needs kernel 6.5+ (bpf_sock_destroy), and a
 * kernel without it must still load the enforcement programs. It shares
 * their maps (the loader hands it their descriptors) and their decision
 * (lib/revoke.h -> lib/policy.h).
 *
 * The agent runs it after each applied change, once per network namespace
 * that holds a local pod (an iterator walks the namespace it was opened in).
 * Each closed socket is written to the iterator's output as one struct
 * podgate_event with verdict PODGATE_VERDICT_REVOKED, so the agent knows
 * which change closed it, and counted like every decision.
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* Re-judging an open connection is not a new use of the policy entry. */
#define PODGATE_POLICY_NO_HITS

#include "podgate_abi.h"
#include "lib/maps.h"
#include "lib/conn.h"
#include "lib/endpoint.h"
#include "lib/policy.h"
#include "lib/events.h"
#include "lib/ksock.h"
#include "lib/revoke.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} podgate_rvpass SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PODGATE_PORTS);
	__type(key, __u32);
	__type(value, __u64);
} podgate_rvlisten SEC(".maps");

static __always_inline __u64 podgate_walk(void)
{
	__u32 zero = 0;
	__u64 *pass = bpf_map_lookup_elem(&podgate_rvpass, &zero);
	return pass ? *pass : 0;
}

static __always_inline void podgate_revoke_emit(struct seq_file *seq, struct podgate_event *e)
{
	podgate_count(PODGATE_COUNTER_DECISION(e->where, PODGATE_VERDICT_REVOKED, e->reason));
	bpf_seq_write(seq, e, sizeof(*e));
}

SEC("iter/tcp")
int podgate_revoke_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct bpf_iter_meta *meta = ctx->meta;
	if (!skc || !meta)
		return 0;
	/* Request and time-wait sockets are not full sockets: check the state
	 * before reading anything of struct sock. */
	unsigned char state = BPF_CORE_READ(skc, skc_state);
	if (state == PODGATE_TCP_LISTEN) {
		/* Never closed; remembered so its accepted sockets are known as such. */
		__u32 port = BPF_CORE_READ(skc, skc_num);
		__u64 walk = podgate_walk();
		bpf_map_update_elem(&podgate_rvlisten, &port, &walk, BPF_ANY);
		return 0;
	}
	if (state != PODGATE_TCP_ESTABLISHED && state != PODGATE_TCP_CLOSE_WAIT &&
	    state != PODGATE_TCP_FIN_WAIT1 && state != PODGATE_TCP_FIN_WAIT2)
		return 0;
	struct sock *sk = (struct sock *)skc;
	/* Accepted: an accepted socket inherits its listener's backlog
	 * (sk_clone_lock copies it; a socket that connect()ed never listened:
	 * 0), or, for a listen(fd, 0) listener, one listens on its local port
	 * (a connect()ed socket's port is never a listener's: autobind skips
	 * bound ports). */
	__u32 local_port = BPF_CORE_READ(skc, skc_num);
	__u64 *listened = bpf_map_lookup_elem(&podgate_rvlisten, &local_port);
	int accepted = BPF_CORE_READ(sk, sk_max_ack_backlog) != 0 || (listened && *listened == podgate_walk());
	struct podgate_event e;
	if (podgate_revoke_judge(sk, IPPROTO_TCP, accepted, &e) < 0)
		return 0;
	if (bpf_sock_destroy(skc) == 0)
		podgate_revoke_emit(meta->seq, &e);
	return 0;
}

/* Connected UDP sockets of local clients: their next send fails. */
SEC("iter/udp")
int podgate_revoke_udp(struct bpf_iter__udp *ctx)
{
	struct sock *sk = (struct sock *)ctx->udp_sk;
	struct bpf_iter_meta *meta = ctx->meta;
	if (!sk || !meta)
		return 0;
	if (BPF_CORE_READ(sk, __sk_common.skc_state) != PODGATE_TCP_ESTABLISHED)
		return 0; /* not connected */
	struct podgate_event e;
	if (podgate_revoke_judge(sk, IPPROTO_UDP, 0, &e) < 0)
		return 0;
	if (bpf_sock_destroy((struct sock_common *)sk) == 0)
		podgate_revoke_emit(meta->seq, &e);
	return 0;
}
