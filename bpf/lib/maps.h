/*
 * maps.h - every map of the datapath, declared once. Layouts and capacities
 * come from podgate_abi.h; the agent may change max_entries before load.
 *
 * Pinning is done by the Swift loader (bpf_map__set_pin_path per map before
 * load), not by LIBBPF_PIN_BY_NAME: the pin directory is the agent's choice,
 * and an existing pin is reused so a restart keeps every entry.
 */
#ifndef PODGATE_MAPS_H
#define PODGATE_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "podgate_abi.h"

/* Local pod (and container) cgroups: cgroup id -> endpoint. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PODGATE_ENDPOINTS_MAX);
	__type(key, __u64);
	__type(value, struct podgate_endpoint);
} podgate_endpts SEC(".maps");

/* Every known address of the cluster (pods, this node, other nodes). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PODGATE_IPCACHE_MAX);
	__type(key, struct podgate_addr);
	__type(value, struct podgate_addr_info);
} podgate_ipcache SEC(".maps");

/* Prefixes named by policies and --cluster-networks (LPM needs NO_PREALLOC). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, PODGATE_CIDRS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct podgate_lpm_addr_key);
	__type(value, struct podgate_cidr_info);
} podgate_cidrs SEC(".maps");

/* Allow entries and "covered port" markers (see policy.h). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, PODGATE_POLICY_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct podgate_policy_key);
	__type(value, struct podgate_policy_value);
} podgate_policy SEC(".maps");

/* Single-port allow entries and markers (see policy.h): exact, hashed. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PODGATE_POLICY_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct podgate_policy_key);
	__type(value, struct podgate_policy_value);
} podgate_exact SEC(".maps");

/* Datagram peers per socket (flows.h): socket -> struct podgate_peers.
 * Storage lives and dies with each socket; nothing is shared between sockets. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct podgate_peers);
} podgate_flows SEC(".maps");

/* The node's non-pod interfaces where podgate_edge runs (edge.h):
 * ifindex -> reserved (0). Written by the agent when it attaches there. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PODGATE_EDGES_MAX);
	__type(key, __u32);
	__type(value, __u32);
} podgate_edges SEC(".maps");

/* Denied and audited connections; written only by events.h. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PODGATE_EVENTS_BYTES);
} podgate_events SEC(".maps");

/* Server-side refusals already reported (events.h): dedupes SYN retransmits. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PODGATE_REPORTED_MAX);
	__type(key, struct podgate_report_key);
	__type(value, __u64);
} podgate_reportd SEC(".maps");

/* Decision counters; written only by events.h. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PODGATE_COUNTERS_MAX);
	__type(key, __u32);
	__type(value, __u64);
} podgate_counter SEC(".maps");

/* One entry: the agent's configuration; abi_version 0 = not configured. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct podgate_config);
} podgate_config SEC(".maps");

#endif
