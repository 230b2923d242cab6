/*
 * podgate_tc.h - podgate_edge on a node interface's tc ingress hook. libbpf's
 * bpf_tc_* take *_opts structs that must be zeroed including padding and
 * carry their size: built here with LIBBPF_OPTS, never from Swift.
 *
 * One filter per interface, at a fixed handle and priority, so attaching
 * again replaces podgate's program atomically (BPF_TC_F_REPLACE) and leaves
 * every other filter on the hook alone. Filters live in the kernel until
 * detached (they outlive the agent, like its pinned links).
 */
#ifndef PODGATE_TC_H
#define PODGATE_TC_H

#include <linux/types.h>

#define PODGATE_TC_HANDLE   0x70670001u /* "pg", 1 */
#define PODGATE_TC_PRIORITY 0x5047u     /* "PG" */

/* 0 or -errno. Creates the clsact qdisc if the interface has none. */
int podgate_tc_attach(int ifindex, int prog_fd);
/* 0 (also when podgate's filter is not there) or -errno. The qdisc stays: others may use it. */
int podgate_tc_detach(int ifindex);
/* The id of the program in podgate's filter: 0 or -errno (-ENOENT: none). */
int podgate_tc_query(int ifindex, __u32 *prog_id);

#endif
