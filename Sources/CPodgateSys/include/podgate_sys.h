#ifndef PODGATE_SYS_H
#define PODGATE_SYS_H

#include <stddef.h>

/* The Linux calls that Swift's Glibc module hides (they need _GNU_SOURCE,
 * which a clang module cannot switch on for a header), for every module that
 * needs one: the lab, the agent, the datapath and the tests. The definitions
 * live in podgate_sys.c, compiled as plain C with _GNU_SOURCE. */

/* setns(fd, CLONE_NEWNET): moves the calling thread into that network namespace. */
int podgate_sys_enter_netns(int fd);

/* prctl(PR_SET_PDEATHSIG, signal): the kernel sends `signal` when the parent exits. */
int podgate_sys_parent_death_signal(int signal);

/* sched_setaffinity(0, {cpu}): the calling process runs on CPU `cpu` only. */
int podgate_sys_pin_to_cpu(int cpu);

/* memmem: the first `needle` in `haystack`, or NULL. */
const void *podgate_sys_memmem(const void *haystack, size_t haystack_length, const void *needle, size_t needle_length);

/* renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE): swaps two paths in one step. */
int podgate_sys_exchange_paths(const char *a, const char *b);

#endif
