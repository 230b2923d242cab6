/*
 * podgate_abi.h - THE binary contract between the BPF programs (bpf/) and the
 * Swift agent. Both compilers include this file; nothing mirrors it by hand.
 *
 * Rules: fixed-width types, no bitfields, explicit zeroed padding, byte order
 * stated per field, sizes checked with _Static_assert. Bump
 * PODGATE_ABI_VERSION whenever a layout or the meaning of a number changes.
 *
 * Addresses: every address is 16 bytes. IPv4 is stored IPv4-mapped
 * (::ffff:a.b.c.d), so "an IPv4-mapped IPv6 address is the IPv4 address"
 * holds by construction, in every map.
 */
#ifndef PODGATE_ABI_H
#define PODGATE_ABI_H

#include <linux/types.h>

/* 2: podgate_endpoint carries the pod's addresses (anti-spoofing), 64 bytes.
 * 3: podgate_flows is per-socket storage (struct podgate_peers), not a shared
 *    LRU table; counters PODGATE_COUNTER_FORGED_INBOUND, _EDGE_FORGED; map
 *    podgate_edges (ifindex -> 0) and the tc program podgate_edge.
 * 4: source classes: podgate_endpoint and podgate_addr_info carry the pod's
 *    namespace class (was pad), and podgate_policy keys may name a namespace
 *    class or PODGATE_ID_ALL_PODS as the source, so "every pod of these
 *    namespaces" costs one entry per namespace, not one per identity.
 *    Map podgate_exact: the single-port policy entries, as a hash map, so the
 *    common lookup costs the same at 1 and 100k entries; podgate_policy (LPM)
 *    keeps the port ranges, whole protocols and "everything" entries. */
#define PODGATE_ABI_VERSION 4

/* Map names (the kernel keeps at most 15 characters). */
#define PODGATE_MAP_ENDPOINTS "podgate_endpts"
#define PODGATE_MAP_IPCACHE   "podgate_ipcache"
#define PODGATE_MAP_CIDRS     "podgate_cidrs"
#define PODGATE_MAP_POLICY    "podgate_policy"
#define PODGATE_MAP_EXACT     "podgate_exact"
#define PODGATE_MAP_FLOWS     "podgate_flows"
#define PODGATE_MAP_EVENTS    "podgate_events"
#define PODGATE_MAP_COUNTERS  "podgate_counter"
#define PODGATE_MAP_CONFIG    "podgate_config"
#define PODGATE_MAP_REPORTED  "podgate_reportd"
#define PODGATE_MAP_EDGES     "podgate_edges"

/* Default capacities; the agent may override them at load time. */
#define PODGATE_ENDPOINTS_MAX  4096      /* local pod and container cgroups */
#define PODGATE_IPCACHE_MAX    327680    /* every pod address of the cluster: 150k pods x 2 families, nodes */
#define PODGATE_CIDRS_MAX      16384
#define PODGATE_POLICY_MAX     524288
#define PODGATE_FLOWS_MAX      65536     /* ABI 1-2 only: podgate_flows is per-socket storage since 3 */
#define PODGATE_EVENTS_BYTES   (1 << 22)
#define PODGATE_COUNTERS_MAX   128
#define PODGATE_REPORTED_MAX   16384
#define PODGATE_EDGES_MAX      256       /* the node's non-pod interfaces with podgate_edge */
/* A refused flow is reported again after this long (covers the ~127 s a
 * Linux client spends retransmitting a SYN with the default tcp_syn_retries). */
#define PODGATE_REPORT_WINDOW_NS (130ull * 1000000000ull)

/* ---- identities --------------------------------------------------------
 * A source is named by a 32-bit number. Pod identities are allocated by the
 * agent per distinct (namespace, labels, service account); CIDR classes per
 * distinct prefix that any policy or --cluster-networks names; namespace
 * classes per namespace that holds a pod identity. A pod's source is its
 * identity, and also (policy.h) its namespace class and ALL_PODS: a policy
 * source "every pod of namespace N" is one key with N's class. */
enum podgate_identity {
	PODGATE_ID_NONE        = 0,  /* in policy keys: "a policy covers this port" */
	PODGATE_ID_HOST        = 1,  /* this node (its host addresses) */
	PODGATE_ID_WORLD       = 2,  /* an address nothing else claims */
	PODGATE_ID_REMOTE_NODE = 3,  /* another node, and host-network pods there */
	PODGATE_ID_UNKNOWN_POD = 4,  /* a local cgroup the agent has not registered */
	PODGATE_ID_ALL_PODS    = 5,  /* in policy keys only: any pod identity */
	PODGATE_ID_FIRST_POD   = 256,
	PODGATE_ID_FIRST_NAMESPACE = 0x00F00000, /* namespace classes (policy keys, and
	                                          * the namespace_class of pods) */
	PODGATE_ID_FIRST_CIDR  = 0x01000000,
};

/* The six default inbound policies of policy-semantics.md. Stable numbers. */
enum podgate_default_policy {
	PODGATE_DEFAULT_ALL_UNAUTHENTICATED     = 1,
	PODGATE_DEFAULT_CLUSTER_UNAUTHENTICATED = 2,
	PODGATE_DEFAULT_ALL_AUTHENTICATED       = 3,
	PODGATE_DEFAULT_CLUSTER_AUTHENTICATED   = 4,
	PODGATE_DEFAULT_DENY                    = 5,
	PODGATE_DEFAULT_AUDIT                   = 6,
};

/* Why a connection was refused (or audited). Stable numbers, never reused. */
enum podgate_reason {
	PODGATE_REASON_NONE              = 0,
	PODGATE_REASON_DEFAULT_DENY      = 1,
	PODGATE_REASON_NOT_AUTHORIZED    = 2,
	PODGATE_REASON_NOT_CLUSTER       = 3,
	PODGATE_REASON_NOT_AUTHENTICATED = 4,
	PODGATE_REASON_UNKNOWN_POD       = 5,
	PODGATE_REASON_SPOOFED_SOURCE    = 6,
	PODGATE_REASON_MAX               = 8,
};

enum podgate_where {
	PODGATE_WHERE_SERVER = 0,
	PODGATE_WHERE_CLIENT = 1,
	PODGATE_WHERE_EGRESS = 2, /* a packet leaving a pod (anti-spoofing); counted in
	                            * PODGATE_COUNTER_SPOOF_DROPPED, not in the decision counters */
};

enum podgate_verdict {
	PODGATE_VERDICT_ALLOWED = 0,
	PODGATE_VERDICT_DENIED  = 1,
	PODGATE_VERDICT_AUDIT   = 2,
	PODGATE_VERDICT_REVOKED = 3, /* an open connection the new state refuses, closed
	                              * (bpf/revoke.bpf.c); reason says why it is refused */
};

/* ---- podgate_endpts: HASH, key __u64 cgroup id (host order) -----------
 * One entry per local pod cgroup (and, on real nodes, each container cgroup
 * below it). Gives the pod's own identity (as a client) and its policy
 * target class (as a server). */
#define PODGATE_EP_F_IN_CLUSTER4 (1u << 0) /* its IPv4 address is in --cluster-networks */
#define PODGATE_EP_F_IN_CLUSTER6 (1u << 1)
#define PODGATE_EP_F_ADDR4       (1u << 2) /* addr4 holds the pod's IPv4 address */
#define PODGATE_EP_F_ADDR6       (1u << 3) /* addr6 holds the pod's IPv6 address */

/* The addresses are the only sources the pod may send from (cgroup_skb/egress
 * drops the rest and counts PODGATE_COUNTER_SPOOF_DROPPED). A Kubernetes pod
 * has at most one address per family (status.podIPs), so two slots suffice
 * and the check is one lookup the egress program already makes. */

struct podgate_endpoint {
	__u32 identity;       /* host order */
	__u32 target_class;   /* host order; key part of podgate_policy */
	__u32 pod_id;         /* host order; unique per pod, for "reaching itself" */
	__u32 default_policy; /* enum podgate_default_policy */
	__u32 cidr_class4;    /* class of its IPv4 address in podgate_cidrs, 0 if none */
	__u32 cidr_class6;
	__u32 flags;          /* PODGATE_EP_F_* */
	__u32 namespace_class;/* host order; its namespace's class, 0 when not a pod identity */
	__u8  addr4[16];      /* network order, ::ffff:a.b.c.d; zero without PODGATE_EP_F_ADDR4 */
	__u8  addr6[16];      /* network order; zero without PODGATE_EP_F_ADDR6 */
};

/* ---- podgate_ipcache: HASH, key struct podgate_addr -------------------- */
struct podgate_addr {
	__u8 addr[16];        /* network order; IPv4 as ::ffff:a.b.c.d */
};

#define PODGATE_ADDR_F_POD         (1u << 0) /* a pod address: client side enforces */
#define PODGATE_ADDR_F_HOST        (1u << 1) /* an address of this node */
#define PODGATE_ADDR_F_REMOTE_NODE (1u << 2) /* an address of another node */

struct podgate_addr_info {
	__u32 identity;       /* host order */
	__u32 target_class;   /* host order; 0 when not a pod */
	__u32 pod_id;         /* host order; 0 when not a pod */
	__u32 default_policy; /* of the pod at this address, 0 when not a pod */
	__u32 flags;          /* PODGATE_ADDR_F_* */
	__u32 namespace_class;/* host order; the pod's namespace class, 0 when not a pod */
};

/* ---- podgate_cidrs: LPM_TRIE -------------------------------------------
 * Every prefix that a policy's `networks` (cidr and except) or
 * --cluster-networks names. The longest match of an address decides its
 * membership in every one of those prefixes, so one class per prefix is
 * exact. IPv4 a.b.c.d/n is stored as ::ffff:a.b.c.d/(96+n). */
struct podgate_lpm_addr_key {
	__u32 prefixlen;      /* host order, 0..128 */
	__u8  addr[16];       /* network order */
};

#define PODGATE_CIDR_F_CLUSTER (1u << 0) /* inside --cluster-networks */

struct podgate_cidr_info {
	__u32 cidr_class;     /* host order, >= PODGATE_ID_FIRST_CIDR */
	__u32 flags;          /* PODGATE_CIDR_F_* */
};

/* ---- podgate_policy: LPM_TRIE ------------------------------------------
 * Allow entries, (target class, source, protocol, port prefix) -> value.
 * prefixlen counts bits of the data after it:
 *    PODGATE_POLICY_PREFIX_ALL (64)       target + source: every protocol,
 *                                         every port (ports omitted)
 *    PODGATE_POLICY_PREFIX_PROTOCOL (72)  + protocol: every port of it
 *    PODGATE_POLICY_PREFIX_PORT (80) + k  + the first k bits of the port
 *            (k = 16: one port); a range port..endPort is a handful of
 *            aligned prefixes, 1-65535 is 16.
 * source PODGATE_ID_NONE marks "some valid policy covers this port", which
 * makes the port authorized-only (policy-semantics.md, rule 3). */
#define PODGATE_POLICY_PREFIX_ALL      64
#define PODGATE_POLICY_PREFIX_PROTOCOL 72
#define PODGATE_POLICY_PREFIX_PORT     80
#define PODGATE_POLICY_KEY_BITS        96 /* PODGATE_POLICY_PREFIX_PORT + 16: the whole key */
/* podgate_cidrs: an address looked up whole. */
#define PODGATE_LPM_ADDR_BITS          128

struct podgate_policy_key {
	__u32 prefixlen;      /* host order */
	__u32 target_class;   /* host order (only compared whole) */
	__u32 source;         /* host order: pod identity, namespace class, ALL_PODS, CIDR class or NONE */
	__u8  protocol;       /* IPPROTO_TCP or IPPROTO_UDP */
	__u8  pad;            /* zero */
	__u16 port;           /* NETWORK order, so prefixes are the high bits */
};

/* ---- podgate_exact: HASH, struct podgate_policy_key -> podgate_policy_value
 * The entries of one port (prefixlen PODGATE_POLICY_KEY_BITS, always): an
 * exact lookup, tried before the trie. The agent writes every full-length
 * key here and every shorter one to podgate_policy, so a key is in exactly
 * one of the two and the longest match is: this map's, else the trie's.
 * Capacity: that of podgate_policy. */

struct podgate_policy_value {
	__u32 policy_index;   /* host order: the agent's number for one policy that put it here */
	__u32 flags;          /* reserved, zero */
	__u64 hits;           /* host order, incremented by the programs */
};

/* ---- podgate_flows: SK_STORAGE, one struct podgate_peers per socket ----
 * The peers a datagram socket (UDP, UDP-Lite) exchanged datagrams with in an
 * allowed direction: datagrams between them are replies, never new
 * connections. Per socket, so only the socket's own traffic can push an
 * entry out: a pod sending to a million peers evicts nothing of another
 * socket's (policy-semantics.md, "no shared table that one pod can fill for
 * all"). A set-associative table: a peer's hash picks one set of
 * PODGATE_PEER_WAYS slots; a new peer replaces the set's slots in turn. */
#define PODGATE_PEER_SETS 32      /* a power of two */
#define PODGATE_PEER_WAYS 4
#define PODGATE_PEER_F_USED (1u << 0)

struct podgate_peer {
	__u8  addr[16];       /* network order; IPv4 as ::ffff:a.b.c.d */
	__u16 port;           /* network order */
	__u8  flags;          /* PODGATE_PEER_F_* */
	__u8  pad;            /* zero */
};

struct podgate_peers {
	struct podgate_peer slot[PODGATE_PEER_SETS * PODGATE_PEER_WAYS]; /* set s: slots s*WAYS .. s*WAYS+WAYS-1 */
	__u8  next[PODGATE_PEER_SETS]; /* per set: the way a new peer takes */
};

/* ---- podgate_config: ARRAY, one entry at key 0 ------------------------- */
#define PODGATE_CFG_F_ALLOW_FROM_HOST  (1u << 0)
#define PODGATE_CFG_F_UNKNOWN_POD_DENY (1u << 1) /* inbound to unregistered pod cgroups */

struct podgate_config {
	__u32 abi_version;    /* PODGATE_ABI_VERSION; 0 means "not configured yet": allow all */
	__u32 flags;          /* PODGATE_CFG_F_* */
	__u32 node_id;        /* host order, for events */
	__u32 pad;            /* zero */
};

/* ---- podgate_events: RINGBUF of struct podgate_event ------------------- */
struct podgate_event {
	__u64 timestamp_ns;   /* bpf_ktime_get_ns: CLOCK_MONOTONIC */
	__u64 cgroup_id;      /* the pod cgroup that decided */
	__u8  src_addr[16];   /* network order */
	__u8  dst_addr[16];   /* network order */
	__u16 src_port;       /* host order; 0 when unknown (client side) */
	__u16 dst_port;       /* host order */
	__u8  where;          /* enum podgate_where */
	__u8  verdict;        /* enum podgate_verdict */
	__u8  reason;         /* enum podgate_reason */
	__u8  protocol;       /* IPPROTO_* */
	__u32 src_identity;
	__u32 dst_identity;
	__u32 target_class;
	__u32 policy_index;   /* a covering policy (not-authorized), else 0 */
	__u32 src_pod_id;
	__u32 dst_pod_id;
	__u32 pid;            /* client side: the process that tried; else 0 */
	__u32 pad;            /* zero */
	char  comm[16];       /* client side: its command */
};

/* ---- podgate_reportd: LRU_HASH, key struct podgate_report_key -> __u64 --
 * Server-side refusals already reported, so a retransmitted SYN (or the
 * next datagram of a refused UDP flow) is counted but not reported again:
 * "each refused connection is reported once". Value: bpf_ktime_get_ns of the
 * report. Skipped events are counted in PODGATE_COUNTER_EVENTS_DEDUPED. */
struct podgate_report_key {
	__u8  src[16];        /* network order */
	__u8  dst[16];        /* network order */
	__u16 src_port;       /* host order */
	__u16 dst_port;       /* host order */
	__u8  protocol;
	__u8  pad[3];         /* zero */
};

/* ---- bpf/revoke.bpf.c's own maps: in the agent's process only, never pinned.
 * podgate_rvpass: ARRAY[1] of __u64, the walk in progress (the agent bumps
 * it before walking each network namespace). podgate_rvlisten:
 * ARRAY[PODGATE_PORTS] of __u64, local TCP port -> the walk that saw a
 * listener on it (listeners are walked before connections). */
#define PODGATE_MAP_REVOKE_PASS      "podgate_rvpass"
#define PODGATE_MAP_REVOKE_LISTENERS "podgate_rvlisten"
#define PODGATE_PORTS                65536

/* ---- podgate_counter: PERCPU_ARRAY of __u64 ----------------------------
 * Connection decisions by where x verdict x reason, then single counters. */
#define PODGATE_COUNTER_DECISION(where, verdict, reason) \
	((((where) * 4u) + (verdict)) * PODGATE_REASON_MAX + (reason))
/* The same index as a function: Swift cannot import function-like macros. */
static inline __u32 podgate_counter_decision(__u32 where, __u32 verdict, __u32 reason)
{
	return PODGATE_COUNTER_DECISION(where, verdict, reason);
}
enum podgate_counter {
	PODGATE_COUNTER_EVENTS_LOST     = 64, /* ring buffer full */
	PODGATE_COUNTER_SPOOF_DROPPED   = 65, /* egress with a source not the pod's */
	PODGATE_COUNTER_REPLIES_PASSED  = 66, /* UDP datagrams matched to a flow */
	PODGATE_COUNTER_EVENTS_DEDUPED  = 67, /* refusals of an already reported flow: counted, not reported */
	PODGATE_COUNTER_FORGED_INBOUND  = 68, /* inbound packets claiming the receiving pod's own address from outside it */
	PODGATE_COUNTER_EDGE_FORGED     = 69, /* packets from outside the node claiming its or a local pod's address */
};

/* ---- layout: checked by both compilers (clang -target bpf and the host) --
 * Sizes, and that no key or value has implicit padding: each field starts
 * where the previous one ends and the last one ends at sizeof. A padding
 * byte is a byte no field owns, so nobody sets it, and a hash or LPM key
 * with a garbage byte is a different key. Padding is an explicit `pad`
 * field that both sides set to zero. */
#define PODGATE_FIELD_END(type, field) \
	(__builtin_offsetof(struct type, field) + sizeof(((struct type *)0)->field))
#define PODGATE_FIRST(type, field) \
	_Static_assert(__builtin_offsetof(struct type, field) == 0, #type "." #field " starts the struct")
#define PODGATE_NEXT(type, before, field)                                                         \
	_Static_assert(__builtin_offsetof(struct type, field) == PODGATE_FIELD_END(type, before), \
		       #type ": padding before " #field)
#define PODGATE_LAST(type, field) \
	_Static_assert(PODGATE_FIELD_END(type, field) == sizeof(struct type), #type ": padding after " #field)

PODGATE_FIRST(podgate_endpoint, identity);
PODGATE_NEXT(podgate_endpoint, identity, target_class);
PODGATE_NEXT(podgate_endpoint, target_class, pod_id);
PODGATE_NEXT(podgate_endpoint, pod_id, default_policy);
PODGATE_NEXT(podgate_endpoint, default_policy, cidr_class4);
PODGATE_NEXT(podgate_endpoint, cidr_class4, cidr_class6);
PODGATE_NEXT(podgate_endpoint, cidr_class6, flags);
PODGATE_NEXT(podgate_endpoint, flags, namespace_class);
PODGATE_NEXT(podgate_endpoint, namespace_class, addr4);
PODGATE_NEXT(podgate_endpoint, addr4, addr6);
PODGATE_LAST(podgate_endpoint, addr6);

PODGATE_FIRST(podgate_addr, addr);
PODGATE_LAST(podgate_addr, addr);

PODGATE_FIRST(podgate_addr_info, identity);
PODGATE_NEXT(podgate_addr_info, identity, target_class);
PODGATE_NEXT(podgate_addr_info, target_class, pod_id);
PODGATE_NEXT(podgate_addr_info, pod_id, default_policy);
PODGATE_NEXT(podgate_addr_info, default_policy, flags);
PODGATE_NEXT(podgate_addr_info, flags, namespace_class);
PODGATE_LAST(podgate_addr_info, namespace_class);

PODGATE_FIRST(podgate_lpm_addr_key, prefixlen);
PODGATE_NEXT(podgate_lpm_addr_key, prefixlen, addr);
PODGATE_LAST(podgate_lpm_addr_key, addr);

PODGATE_FIRST(podgate_cidr_info, cidr_class);
PODGATE_NEXT(podgate_cidr_info, cidr_class, flags);
PODGATE_LAST(podgate_cidr_info, flags);

PODGATE_FIRST(podgate_policy_key, prefixlen);
PODGATE_NEXT(podgate_policy_key, prefixlen, target_class);
PODGATE_NEXT(podgate_policy_key, target_class, source);
PODGATE_NEXT(podgate_policy_key, source, protocol);
PODGATE_NEXT(podgate_policy_key, protocol, pad);
PODGATE_NEXT(podgate_policy_key, pad, port);
PODGATE_LAST(podgate_policy_key, port);
/* The LPM bits are the data after prefixlen, all of it. */
_Static_assert(PODGATE_POLICY_KEY_BITS == 8 * (sizeof(struct podgate_policy_key) - sizeof(__u32)), "policy key bits");
_Static_assert(PODGATE_POLICY_PREFIX_PROTOCOL == 8 * __builtin_offsetof(struct podgate_policy_key, protocol) - 32 + 8,
	       "protocol prefix ends after protocol");
_Static_assert(PODGATE_POLICY_PREFIX_PORT == 8 * __builtin_offsetof(struct podgate_policy_key, port) - 32,
	       "port prefix starts at port");
_Static_assert(PODGATE_LPM_ADDR_BITS == 8 * sizeof(((struct podgate_lpm_addr_key *)0)->addr), "address bits");

PODGATE_FIRST(podgate_policy_value, policy_index);
PODGATE_NEXT(podgate_policy_value, policy_index, flags);
PODGATE_NEXT(podgate_policy_value, flags, hits);
PODGATE_LAST(podgate_policy_value, hits);

PODGATE_FIRST(podgate_peer, addr);
PODGATE_NEXT(podgate_peer, addr, port);
PODGATE_NEXT(podgate_peer, port, flags);
PODGATE_NEXT(podgate_peer, flags, pad);
PODGATE_LAST(podgate_peer, pad);

PODGATE_FIRST(podgate_peers, slot);
PODGATE_NEXT(podgate_peers, slot, next);
PODGATE_LAST(podgate_peers, next);

PODGATE_FIRST(podgate_config, abi_version);
PODGATE_NEXT(podgate_config, abi_version, flags);
PODGATE_NEXT(podgate_config, flags, node_id);
PODGATE_NEXT(podgate_config, node_id, pad);
PODGATE_LAST(podgate_config, pad);

PODGATE_FIRST(podgate_event, timestamp_ns);
PODGATE_NEXT(podgate_event, timestamp_ns, cgroup_id);
PODGATE_NEXT(podgate_event, cgroup_id, src_addr);
PODGATE_NEXT(podgate_event, src_addr, dst_addr);
PODGATE_NEXT(podgate_event, dst_addr, src_port);
PODGATE_NEXT(podgate_event, src_port, dst_port);
PODGATE_NEXT(podgate_event, dst_port, where);
PODGATE_NEXT(podgate_event, where, verdict);
PODGATE_NEXT(podgate_event, verdict, reason);
PODGATE_NEXT(podgate_event, reason, protocol);
PODGATE_NEXT(podgate_event, protocol, src_identity);
PODGATE_NEXT(podgate_event, src_identity, dst_identity);
PODGATE_NEXT(podgate_event, dst_identity, target_class);
PODGATE_NEXT(podgate_event, target_class, policy_index);
PODGATE_NEXT(podgate_event, policy_index, src_pod_id);
PODGATE_NEXT(podgate_event, src_pod_id, dst_pod_id);
PODGATE_NEXT(podgate_event, dst_pod_id, pid);
PODGATE_NEXT(podgate_event, pid, pad);
PODGATE_NEXT(podgate_event, pad, comm);
PODGATE_LAST(podgate_event, comm);

PODGATE_FIRST(podgate_report_key, src);
PODGATE_NEXT(podgate_report_key, src, dst);
PODGATE_NEXT(podgate_report_key, dst, src_port);
PODGATE_NEXT(podgate_report_key, src_port, dst_port);
PODGATE_NEXT(podgate_report_key, dst_port, protocol);
PODGATE_NEXT(podgate_report_key, protocol, pad);
PODGATE_LAST(podgate_report_key, pad);

_Static_assert(sizeof(struct podgate_endpoint) == 64, "endpoint layout");
_Static_assert(sizeof(struct podgate_addr) == 16, "addr layout");
_Static_assert(sizeof(struct podgate_addr_info) == 24, "addr_info layout");
_Static_assert(sizeof(struct podgate_lpm_addr_key) == 20, "lpm key layout");
_Static_assert(sizeof(struct podgate_cidr_info) == 8, "cidr layout");
_Static_assert(sizeof(struct podgate_policy_key) == 16, "policy key layout");
_Static_assert(sizeof(struct podgate_policy_value) == 16, "policy value layout");
_Static_assert(sizeof(struct podgate_peer) == 20, "peer layout");
_Static_assert(__builtin_offsetof(struct podgate_peer, port) == 16, "peer port offset");
_Static_assert(__builtin_offsetof(struct podgate_peers, next) == 2560, "peers next offset");
_Static_assert(sizeof(struct podgate_peers) == 2592, "peers layout");
_Static_assert((PODGATE_PEER_SETS & (PODGATE_PEER_SETS - 1)) == 0, "peer sets: a power of two");
_Static_assert(sizeof(struct podgate_config) == 16, "config layout");
_Static_assert(sizeof(struct podgate_event) == 104, "event layout");
_Static_assert(sizeof(struct podgate_report_key) == 40, "report key layout");
_Static_assert(PODGATE_COUNTER_DECISION(1, 3, 7) < PODGATE_COUNTER_EVENTS_LOST, "counter ranges");

#endif
