/*
 * flows.h - the peers of a datagram socket (UDP, UDP-Lite), so replies are
 * never judged as new connections. Kept per socket (podgate_flows is
 * BPF_MAP_TYPE_SK_STORAGE, podgate_abi.h): a client's send records (server,
 * server port) on its socket, which the server's answer arriving on that
 * socket matches; a server's allowed receive records (client, client port),
 * which its reply sendmsg matches.
 *
 * Why per socket: a shared LRU table let one pod that sends to a million
 * peers push every other pod's peers out, so their slow answers were judged
 * as new connections and refused. Here a socket's slots are replaced only by
 * that socket's own traffic. Cost: one sk-storage lookup (a pointer cached
 * on the socket) and at most PODGATE_PEER_WAYS 20-byte compares per
 * datagram; 2592 bytes per datagram socket that sent or was allowed to
 * receive, freed with the socket.
 *
 * Concurrency: two CPUs recording on one socket at once may overwrite each
 * other's slot (that socket's answer is then judged as new); a slot is never
 * read half-written as a peer of another socket, since every socket has its own.
 */
#ifndef PODGATE_FLOWS_H
#define PODGATE_FLOWS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "maps.h"
#include "conn.h"

/* Datagram transports whose answers are matched to the socket's peers. */
static __always_inline int podgate_is_datagram(__u8 protocol)
{
	return protocol == IPPROTO_UDP || protocol == IPPROTO_UDPLITE;
}

static __always_inline __u32 podgate_peer_set(const __u8 peer[16], __u16 port_be)
{
	const __u32 *w = (const __u32 *)peer;
	__u32 h = w[0] ^ w[1] ^ w[2] ^ w[3] ^ ((__u32)port_be << 7);
	h ^= h >> 16;
	h *= 0x45d9f3b;
	h ^= h >> 16;
	return h & (PODGATE_PEER_SETS - 1);
}

static __always_inline int podgate_peer_is(const struct podgate_peer *slot, const __u8 peer[16], __u16 port_be)
{
	return (slot->flags & PODGATE_PEER_F_USED) && slot->port == port_be && podgate_addr_equal(slot->addr, peer);
}

/* The peer table of sk; created when `create` (on a record), else NULL if none. */
static __always_inline struct podgate_peers *podgate_peers_of(struct bpf_sock *sk, int create)
{
	if (!sk)
		return NULL;
	return bpf_sk_storage_get(&podgate_flows, sk, NULL, create ? BPF_SK_STORAGE_GET_F_CREATE : 0);
}

static __always_inline int podgate_flow_known(struct bpf_sock *sk, const __u8 peer[16], __u16 peer_port)
{
	struct podgate_peers *peers = podgate_peers_of(sk, 0);
	if (!peers)
		return 0;
	__u16 port_be = bpf_htons(peer_port);
	__u32 base = podgate_peer_set(peer, port_be) * PODGATE_PEER_WAYS;
#pragma unroll
	for (int way = 0; way < PODGATE_PEER_WAYS; way++) {
		if (podgate_peer_is(&peers->slot[base + way], peer, port_be))
			return 1;
	}
	return 0;
}

static __always_inline void podgate_flow_record(struct bpf_sock *sk, const __u8 peer[16], __u16 peer_port)
{
	struct podgate_peers *peers = podgate_peers_of(sk, 1);
	if (!peers)
		return;
	__u16 port_be = bpf_htons(peer_port);
	__u32 set = podgate_peer_set(peer, port_be);
	__u32 base = set * PODGATE_PEER_WAYS;
#pragma unroll
	for (int way = 0; way < PODGATE_PEER_WAYS; way++) {
		if (podgate_peer_is(&peers->slot[base + way], peer, port_be))
			return;
	}
	__u32 way = peers->next[set] & (PODGATE_PEER_WAYS - 1);
	struct podgate_peer *slot = &peers->slot[base + way];
	__builtin_memcpy(slot->addr, peer, 16);
	slot->port = port_be;
	slot->flags = PODGATE_PEER_F_USED;
	slot->pad = 0;
	peers->next[set] = (way + 1) & (PODGATE_PEER_WAYS - 1);
}

#endif
