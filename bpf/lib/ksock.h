/*
 * ksock.h - the few kernel types the socket iterators read, declared here
 * instead of a generated vmlinux.h. preserve_access_index makes every field
 * access a CO-RE relocation: libbpf finds each field BY NAME in the running
 * kernel's BTF at load, so only the names must match, not the layout.
 * Declared fields are the ones used; the kernel's structs have many more.
 */
#ifndef PODGATE_KSOCK_H
#define PODGATE_KSOCK_H

#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct podgate_k_in6 {
	__u8 s6_addr[16];
};

struct kernfs_node {
	__u64 id;                       /* the cgroup ID (inode number) */
} __attribute__((preserve_access_index));

struct cgroup_subsys_state {
	struct cgroup_subsys_state *parent;
} __attribute__((preserve_access_index));

/* `self` is struct cgroup's first member: a parent css is its cgroup. */
struct cgroup {
	struct cgroup_subsys_state self;
	struct kernfs_node *kn;
} __attribute__((preserve_access_index));

struct sock_cgroup_data {
	struct cgroup *cgroup;
} __attribute__((preserve_access_index));

struct sock_common {
	__be32 skc_daddr;
	__be32 skc_rcv_saddr;
	__be16 skc_dport;
	__u16 skc_num;                  /* local port, host order */
	unsigned short skc_family;
	volatile unsigned char skc_state;
	struct podgate_k_in6 skc_v6_daddr;
	struct podgate_k_in6 skc_v6_rcv_saddr;
} __attribute__((preserve_access_index));

struct sock {
	struct sock_common __sk_common;
	struct sock_cgroup_data sk_cgrp_data;
	__u32 sk_max_ack_backlog;
} __attribute__((preserve_access_index));

struct udp_sock;
struct seq_file;

struct bpf_iter_meta {
	struct seq_file *seq;
	__u64 session_id;
	__u64 seq_num;
} __attribute__((preserve_access_index));

struct bpf_iter__tcp {
	struct bpf_iter_meta *meta;
	struct sock_common *sk_common;
} __attribute__((preserve_access_index));

struct bpf_iter__udp {
	struct bpf_iter_meta *meta;
	struct udp_sock *udp_sk;
} __attribute__((preserve_access_index));

/* Kernel 6.5+: closes the socket (TCP: sends a RST, the owner sees
 * ECONNABORTED). Allowed only in iter/tcp and iter/udp, which hold the
 * socket's lock. Without it in the kernel's BTF the object fails to load
 * and revocation is reported unavailable. */
extern int bpf_sock_destroy(struct sock_common *sk) __ksym;

#endif
