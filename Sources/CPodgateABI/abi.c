/* The ABI is header-only; this file (compiled by the host compiler) proves
 * that no key or value in podgate_abi.h has implicit padding: each field
 * starts where the previous one ends and the last one ends at sizeof. A
 * padding byte is a byte no field owns, so nobody sets it, and a hash or
 * LPM key with a garbage byte is a different key. Padding is an explicit
 * `pad` field that both sides set to zero. */
#include <stddef.h>
#include "podgate_abi.h"

#define FIELD_END(type, field) (offsetof(struct type, field) + sizeof(((struct type *)0)->field))
#define FIRST(type, field) _Static_assert(offsetof(struct type, field) == 0, #type "." #field " starts the struct")
#define NEXT(type, before, field) \
	_Static_assert(offsetof(struct type, field) == FIELD_END(type, before), #type ": padding before " #field)
#define LAST(type, field) _Static_assert(FIELD_END(type, field) == sizeof(struct type), #type ": padding after " #field)

FIRST(podgate_endpoint, identity);
NEXT(podgate_endpoint, identity, target_class);
NEXT(podgate_endpoint, target_class, pod_id);
NEXT(podgate_endpoint, pod_id, default_policy);
NEXT(podgate_endpoint, default_policy, cidr_class4);
NEXT(podgate_endpoint, cidr_class4, cidr_class6);
NEXT(podgate_endpoint, cidr_class6, flags);
NEXT(podgate_endpoint, flags, pad);
NEXT(podgate_endpoint, pad, addr4);
NEXT(podgate_endpoint, addr4, addr6);
LAST(podgate_endpoint, addr6);

FIRST(podgate_addr, addr);
LAST(podgate_addr, addr);

FIRST(podgate_addr_info, identity);
NEXT(podgate_addr_info, identity, target_class);
NEXT(podgate_addr_info, target_class, pod_id);
NEXT(podgate_addr_info, pod_id, default_policy);
NEXT(podgate_addr_info, default_policy, flags);
NEXT(podgate_addr_info, flags, pad);
LAST(podgate_addr_info, pad);

FIRST(podgate_lpm_addr_key, prefixlen);
NEXT(podgate_lpm_addr_key, prefixlen, addr);
LAST(podgate_lpm_addr_key, addr);

FIRST(podgate_cidr_info, cidr_class);
NEXT(podgate_cidr_info, cidr_class, flags);
LAST(podgate_cidr_info, flags);

FIRST(podgate_policy_key, prefixlen);
NEXT(podgate_policy_key, prefixlen, target_class);
NEXT(podgate_policy_key, target_class, source);
NEXT(podgate_policy_key, source, protocol);
NEXT(podgate_policy_key, protocol, pad);
NEXT(podgate_policy_key, pad, port);
LAST(podgate_policy_key, port);

FIRST(podgate_policy_value, policy_index);
NEXT(podgate_policy_value, policy_index, flags);
NEXT(podgate_policy_value, flags, hits);
LAST(podgate_policy_value, hits);

FIRST(podgate_peer, addr);
NEXT(podgate_peer, addr, port);
NEXT(podgate_peer, port, flags);
NEXT(podgate_peer, flags, pad);
LAST(podgate_peer, pad);

FIRST(podgate_peers, slot);
NEXT(podgate_peers, slot, next);
LAST(podgate_peers, next);

FIRST(podgate_config, abi_version);
NEXT(podgate_config, abi_version, flags);
NEXT(podgate_config, flags, node_id);
NEXT(podgate_config, node_id, pad);
LAST(podgate_config, pad);

FIRST(podgate_event, timestamp_ns);
NEXT(podgate_event, timestamp_ns, cgroup_id);
NEXT(podgate_event, cgroup_id, src_addr);
NEXT(podgate_event, src_addr, dst_addr);
NEXT(podgate_event, dst_addr, src_port);
NEXT(podgate_event, src_port, dst_port);
NEXT(podgate_event, dst_port, where);
NEXT(podgate_event, where, verdict);
NEXT(podgate_event, verdict, reason);
NEXT(podgate_event, reason, protocol);
NEXT(podgate_event, protocol, src_identity);
NEXT(podgate_event, src_identity, dst_identity);
NEXT(podgate_event, dst_identity, target_class);
NEXT(podgate_event, target_class, policy_index);
NEXT(podgate_event, policy_index, src_pod_id);
NEXT(podgate_event, src_pod_id, dst_pod_id);
NEXT(podgate_event, dst_pod_id, pid);
NEXT(podgate_event, pid, pad);
NEXT(podgate_event, pad, comm);
LAST(podgate_event, comm);

FIRST(podgate_report_key, src);
NEXT(podgate_report_key, src, dst);
NEXT(podgate_report_key, dst, src_port);
NEXT(podgate_report_key, src_port, dst_port);
NEXT(podgate_report_key, dst_port, protocol);
NEXT(podgate_report_key, protocol, pad);
LAST(podgate_report_key, pad);
