/*
 * events.h - the only writer of podgate_events (ring buffer) and
 * podgate_counter. Every decision is counted; refused and audited ones are
 * also reported as one event each. A full ring buffer loses the event but
 * never the count (PODGATE_COUNTER_EVENTS_LOST says how many were lost).
 */
#ifndef PODGATE_EVENTS_H
#define PODGATE_EVENTS_H

#include "maps.h"
#include "conn.h"

static __always_inline void podgate_count(__u32 index)
{
	__u64 *value = bpf_map_lookup_elem(&podgate_counter, &index);
	/* Atomic although per-CPU: sock_addr programs run preemptible
	 * (migration disabled only), so two programs can interleave on a CPU. */
	if (value)
		__sync_fetch_and_add(value, 1);
}

/* Was this flow's refusal reported within PODGATE_REPORT_WINDOW_NS? If not,
 * remember it as reported now. Races between CPUs can at worst report a
 * flow twice, never lose a first report. */
static __always_inline int podgate_reported_recently(const struct podgate_conn *c)
{
	struct podgate_report_key key = {};
	__builtin_memcpy(key.src, c->src, 16);
	__builtin_memcpy(key.dst, c->dst, 16);
	key.src_port = c->sport;
	key.dst_port = c->dport;
	key.protocol = c->protocol;
	__u64 now = bpf_ktime_get_ns();
	__u64 *reported = bpf_map_lookup_elem(&podgate_reportd, &key);
	if (reported && now - *reported < PODGATE_REPORT_WINDOW_NS) {
		podgate_count(PODGATE_COUNTER_EVENTS_DEDUPED);
		return 1;
	}
	bpf_map_update_elem(&podgate_reportd, &key, &now, BPF_ANY);
	return 0;
}

/* `where` must be a compile-time constant at each call site: the client-only
 * helpers (pid, comm) are then compiled out of the cgroup_skb program, which
 * may not call them. */
static __always_inline void podgate_report(const struct podgate_conn *c, const struct podgate_decision *d,
					   const __u8 where)
{
	podgate_count(PODGATE_COUNTER_DECISION(where, d->verdict, d->reason));
	if (d->verdict == PODGATE_VERDICT_ALLOWED)
		return;
	/* An audited connection goes on to the server, which reports it: the
	 * client stays silent so the event is reported once. */
	if (where == PODGATE_WHERE_CLIENT && d->verdict == PODGATE_VERDICT_AUDIT)
		return;

	/* Server side: a flow refused moments ago (a retransmitted SYN, the next
	 * datagram) was reported already. One LRU lookup, on refusals only. */
	if (where == PODGATE_WHERE_SERVER && podgate_reported_recently(c))
		return;

	struct podgate_event *e = bpf_ringbuf_reserve(&podgate_events, sizeof(*e), 0);
	if (!e) {
		podgate_count(PODGATE_COUNTER_EVENTS_LOST);
		return;
	}
	e->timestamp_ns = bpf_ktime_get_ns();
	e->cgroup_id = c->cgroup_id;
	__builtin_memcpy(e->src_addr, c->src, 16);
	__builtin_memcpy(e->dst_addr, c->dst, 16);
	e->src_port = c->sport;
	e->dst_port = c->dport;
	e->where = where;
	e->verdict = d->verdict;
	e->reason = d->reason;
	e->protocol = c->protocol;
	e->src_identity = c->src_identity;
	e->dst_identity = c->dst_identity;
	e->target_class = c->target_class;
	e->policy_index = d->policy_index;
	e->src_pod_id = c->src_pod_id;
	e->dst_pod_id = c->dst_pod_id;
	e->pad = 0;
	if (where == PODGATE_WHERE_CLIENT) {
		e->pid = bpf_get_current_pid_tgid() >> 32;
		bpf_get_current_comm(e->comm, sizeof(e->comm));
	} else {
		e->pid = 0;
		__builtin_memset(e->comm, 0, sizeof(e->comm));
	}
	bpf_ringbuf_submit(e, 0);
}

/* A packet dropped for a forged source: always counted (`counter`);
 * reported as an event (reason spoofed-source) unless the ring buffer is
 * full. At a pod's egress (where egress, PODGATE_COUNTER_SPOOF_DROPPED): it
 * left with an address not its own. At a pod's ingress (where server,
 * PODGATE_COUNTER_FORGED_INBOUND): it came from outside the pod claiming the
 * pod's own address. A flood of forged packets thus costs a counter bump
 * each, and the stream says how many events it lost. */
static __always_inline void podgate_report_forged(__u32 counter, const __u8 where, __u64 cgroup_id,
						  const __u8 src[16], const __u8 dst[16], __u8 protocol,
						  const struct podgate_endpoint *ep)
{
	podgate_count(counter);
	struct podgate_event *e = bpf_ringbuf_reserve(&podgate_events, sizeof(*e), 0);
	if (!e) {
		podgate_count(PODGATE_COUNTER_EVENTS_LOST);
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->timestamp_ns = bpf_ktime_get_ns();
	e->cgroup_id = cgroup_id;
	__builtin_memcpy(e->src_addr, src, 16);
	__builtin_memcpy(e->dst_addr, dst, 16);
	e->where = where;
	e->verdict = PODGATE_VERDICT_DENIED;
	e->reason = PODGATE_REASON_SPOOFED_SOURCE;
	e->protocol = protocol;
	if (where == PODGATE_WHERE_EGRESS) {
		if (ep) {
			e->src_identity = ep->identity;
			e->src_pod_id = ep->pod_id;
		} else {
			e->src_identity = PODGATE_ID_UNKNOWN_POD;
		}
	} else if (ep) {
		e->dst_identity = ep->identity;
		e->dst_pod_id = ep->pod_id;
		e->target_class = ep->target_class;
	}
	bpf_ringbuf_submit(e, 0);
}

static __always_inline void podgate_report_spoof(__u64 cgroup_id, const __u8 src[16], const __u8 dst[16],
						 __u8 protocol, const struct podgate_endpoint *ep)
{
	podgate_report_forged(PODGATE_COUNTER_SPOOF_DROPPED, PODGATE_WHERE_EGRESS, cgroup_id, src, dst, protocol, ep);
}

#endif
