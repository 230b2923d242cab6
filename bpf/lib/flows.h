/*
 * flows.h - UDP peers per socket, so replies are never judged as new
 * connections. Both sides key on (socket cookie, peer address, peer port):
 * a client's send records (its socket, server, server port), which the
 * server's reply arriving on that socket matches; a server's allowed receive
 * records (its socket, client, client port), which its reply sendmsg matches.
 * The LRU map ages out peers; a lookup refreshes an entry's recency.
 */
#ifndef PODGATE_FLOWS_H
#define PODGATE_FLOWS_H

#include "maps.h"
#include "conn.h"

static __always_inline void podgate_flow_key(struct podgate_flow_key *key, __u64 cookie, const __u8 peer[16],
					     __u16 peer_port)
{
	key->socket_cookie = cookie;
	__builtin_memcpy(key->peer, peer, 16);
	key->peer_port = bpf_htons(peer_port);
	key->pad0 = 0;
	key->pad1 = 0;
}

static __always_inline int podgate_flow_known(__u64 cookie, const __u8 peer[16], __u16 peer_port)
{
	struct podgate_flow_key key;
	podgate_flow_key(&key, cookie, peer, peer_port);
	return bpf_map_lookup_elem(&podgate_flows, &key) != NULL;
}

static __always_inline void podgate_flow_record(__u64 cookie, const __u8 peer[16], __u16 peer_port)
{
	struct podgate_flow_key key;
	__u64 now = bpf_ktime_get_ns();
	podgate_flow_key(&key, cookie, peer, peer_port);
	bpf_map_update_elem(&podgate_flows, &key, &now, BPF_ANY);
}

#endif
