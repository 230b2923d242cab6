/*
 * podgate.bpf.c - the entry points. Each one gathers the facts of a new
 * connection (lib/resolve.h) and hands them to podgate_decide()
 * (lib/policy.h, rules 1-4 of policy-semantics.md); the rules themselves
 * live in lib/. Attached to a cgroup through bpf_links, so they
 * coexist with other programs on the same cgroup.
 *
 * Client side (connect4/6, sendmsg4/6): an early, EPERM-returning check of a
 * local pod connecting to a pod address. Server side (cgroup_skb/ingress):
 * the authoritative check of every new inbound connection. Egress
 * (cgroup_skb/egress): anti-spoofing, so the server may trust source addresses.
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "podgate_abi.h"
#include "lib/maps.h"
#include "lib/conn.h"
#include "lib/endpoint.h"
#include "lib/flows.h"
#include "lib/packet.h"
#include "lib/policy.h"
#include "lib/resolve.h"
#include "lib/events.h"
#include "lib/source.h"
#include "lib/origin.h"
#include "lib/echo.h"
#include "lib/edge.h"

char LICENSE[] SEC("license") = "GPL";

static __always_inline const struct podgate_config *podgate_config_get(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&podgate_config, &zero);
}

/*
 * The client check, for a socket of the calling task connecting or sending
 * to dst: the facts (lib/resolve.h, which says what is left to the server),
 * the decision (lib/policy.h), then the UDP peers this socket sends to, pods
 * or not (DNS), so the answers are replies at this pod's ingress.
 */
static __always_inline int podgate_client(struct bpf_sock_addr *ctx, const __u8 dst[16], __u8 is_ipv4)
{
	const struct podgate_config *cfg = podgate_config_get();
	if (!cfg || cfg->abi_version == 0)
		return SYS_PROCEED;
	struct podgate_conn c = { .protocol = ctx->protocol, .is_ipv4 = is_ipv4 };
	podgate_addr_copy(c.dst, dst);
	c.dport = bpf_ntohs((__u16)ctx->user_port);
	/* Other protocols are the server's. So is UDP-Lite (ports cannot name it:
	 * rules 1, 2 and 4), but its peers are recorded below, as UDP's. */
	if (c.protocol != IPPROTO_TCP && c.protocol != IPPROTO_UDP && c.protocol != IPPROTO_UDPLITE)
		return SYS_PROCEED;
	if (c.protocol == IPPROTO_UDP && podgate_flow_known(ctx->sk, dst, c.dport))
		return SYS_PROCEED; /* a reply or a continuing exchange */

	struct podgate_endpoint *self = podgate_current_endpoint(&c.cgroup_id);
	struct podgate_decision d = {};
	if (c.protocol != IPPROTO_UDPLITE && podgate_client_facts(&c, cfg->flags, self)) {
		podgate_decide(&c, cfg->flags, &d);
		if (d.rule != 1) /* a pod reaching itself is no connection between pods: not counted */
			podgate_report(&c, &d, PODGATE_WHERE_CLIENT);
		if (d.verdict == PODGATE_VERDICT_DENIED)
			return SYS_REJECT;
	}
	if (podgate_is_datagram(c.protocol) && self)
		podgate_flow_record(ctx->sk, dst, c.dport);
	return SYS_PROCEED;
}

static __always_inline int podgate_client4(struct bpf_sock_addr *ctx)
{
	__u8 dst[16];
	podgate_addr_from_v4(dst, ctx->user_ip4);
	return podgate_client(ctx, dst, 1);
}

/* An AF_INET6 socket reaching ::ffff:a.b.c.d comes here, not to connect4:
 * the mapped address is the stored form, so it meets the same entries. */
static __always_inline int podgate_client6(struct bpf_sock_addr *ctx)
{
	__u32 dst[4];
	dst[0] = ctx->user_ip6[0];
	dst[1] = ctx->user_ip6[1];
	dst[2] = ctx->user_ip6[2];
	dst[3] = ctx->user_ip6[3];
	return podgate_client(ctx, (const __u8 *)dst, podgate_addr_is_v4mapped(dst));
}

SEC("cgroup/connect4")
int podgate_connect4(struct bpf_sock_addr *ctx)
{
	return podgate_client4(ctx);
}

SEC("cgroup/connect6")
int podgate_connect6(struct bpf_sock_addr *ctx)
{
	return podgate_client6(ctx);
}

SEC("cgroup/sendmsg4")
int podgate_sendmsg4(struct bpf_sock_addr *ctx)
{
	return podgate_client4(ctx);
}

SEC("cgroup/sendmsg6")
int podgate_sendmsg6(struct bpf_sock_addr *ctx)
{
	return podgate_client6(ctx);
}

/*
 * The server check of every new inbound connection: rule 1 from the packet
 * (lib/origin.h), replies to the pod's datagram sockets, then the facts
 * (lib/resolve.h) and the decision (lib/policy.h). Cheapest exits first.
 */
SEC("cgroup_skb/ingress")
int podgate_ingress(struct __sk_buff *skb)
{
	struct podgate_conn c = {};
	int parsed = podgate_parse_new_connection(skb, &c);
	if (parsed == PODGATE_PKT_PASS)
		return SYS_PROCEED;
	const struct podgate_config *cfg = podgate_config_get();
	if (!cfg || cfg->abi_version == 0)
		return SYS_PROCEED;
	if (parsed == PODGATE_PKT_DROP)
		return SYS_REJECT;

	struct podgate_endpoint *self = NULL;
	struct podgate_decision d = {};
	int origin = podgate_inbound_origin(skb, &c, &self);
	if (origin != PODGATE_ORIGIN_OUTSIDE)
		return origin == PODGATE_ORIGIN_LOOPBACK ? SYS_PROCEED : SYS_REJECT;
	if (!self) {
		if (!podgate_decide_unregistered(&c, cfg->flags, &d))
			return SYS_PROCEED;
		podgate_report(&c, &d, PODGATE_WHERE_SERVER);
		return SYS_REJECT;
	}
	struct bpf_sock *sk = skb->sk ? bpf_sk_fullsock(skb->sk) : NULL;
	int datagram = podgate_is_datagram(c.protocol);
	if (datagram && podgate_flow_known(sk, c.src, c.sport)) {
		podgate_count(PODGATE_COUNTER_REPLIES_PASSED);
		return SYS_PROCEED;
	}

	podgate_target_from_endpoint(&c, self);
	podgate_source_from_address(&c);
	podgate_decide(&c, cfg->flags, &d);
	podgate_report(&c, &d, PODGATE_WHERE_SERVER);
	if (d.verdict == PODGATE_VERDICT_DENIED)
		return SYS_REJECT;
	if (datagram)
		podgate_flow_record(sk, c.src, c.sport);
	return SYS_PROCEED;
}

/*
 * Anti-spoofing (lib/source.h): every packet a pod's socket sends must carry
 * one of the pod's own addresses as its source. Cheapest exits first: not
 * configured, loopback and link-local sources; then one endpoint lookup (the
 * same ancestor walk as ingress) and two 16-byte compares. Established
 * traffic pays this too, which is why it stays this small.
 */
SEC("cgroup_skb/egress")
int podgate_egress(struct __sk_buff *skb)
{
	const struct podgate_config *cfg = podgate_config_get();
	if (!cfg || cfg->abi_version == 0)
		return SYS_PROCEED;

	__u8 src[16], dst[16], protocol = 0;
	if (!podgate_egress_source(skb, src, dst, &protocol))
		return SYS_PROCEED;
	if (podgate_addr_is_loopback(src) || podgate_addr_is_link_local6(src))
		return SYS_PROCEED;

	__u64 cgroup_id = 0;
	struct podgate_endpoint *self = podgate_skb_endpoint(skb, &cgroup_id);
	if (!self) {
		if (!(cfg->flags & PODGATE_CFG_F_UNKNOWN_POD_DENY))
			return SYS_PROCEED;
		/* An unregistered cgroup: its own addresses are not known yet, but it
		 * may not claim one the servers trust (a pod's or the node's). */
		struct podgate_addr_info *claimed = bpf_map_lookup_elem(&podgate_ipcache, src);
		if (!claimed || !(claimed->flags & (PODGATE_ADDR_F_POD | PODGATE_ADDR_F_HOST)))
			return SYS_PROCEED;
		podgate_report_spoof(cgroup_id, src, dst, protocol, NULL);
		return SYS_REJECT;
	}
	if (!podgate_is_pod_identity(self->identity)) {
		/* A host-network pod: the node's addresses only. */
		if (podgate_host_may_send(skb, src))
			return SYS_PROCEED;
	} else if (podgate_endpoint_owns(self, src)) {
		/* Its own address: judged further only if it pings a pod (echo.h). */
		return podgate_echo_allowed_from_pod(skb, self, cgroup_id, src, dst, protocol) ? SYS_PROCEED : SYS_REJECT;
	}
	podgate_report_spoof(cgroup_id, src, dst, protocol, self);
	return SYS_REJECT;
}

/*
 * The node's edge (lib/edge.h): tc ingress on its non-pod interfaces. A
 * packet from outside the node claiming this node's or a local pod's address
 * is dropped and counted. Attached by the agent (--edge-interfaces) through
 * tc, not a cgroup.
 */
SEC("tc")
int podgate_edge(struct __sk_buff *skb)
{
	return podgate_edge_check(skb);
}
