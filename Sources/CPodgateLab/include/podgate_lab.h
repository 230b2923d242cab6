#ifndef PODGATE_LAB_H
#define PODGATE_LAB_H

/* The Linux calls the lab needs that Swift's Glibc module hides (they need
 * _GNU_SOURCE, which a clang module cannot switch on for a header). The
 * definitions live in podgate_lab.c, compiled as plain C with _GNU_SOURCE. */

/* setns(fd, CLONE_NEWNET): moves the calling thread into that network namespace. */
int podgate_lab_enter_netns(int fd);

/* prctl(PR_SET_PDEATHSIG, signal): the kernel sends `signal` when the parent exits. */
int podgate_lab_parent_death_signal(int signal);

/* sched_setaffinity(0, {cpu}): the calling process runs on CPU `cpu` only. */
int podgate_lab_pin_to_cpu(int cpu);

#endif
