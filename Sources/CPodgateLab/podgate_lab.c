#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <sys/prctl.h>

#include "podgate_lab.h"

int podgate_lab_enter_netns(int fd) { return setns(fd, CLONE_NEWNET); }

int podgate_lab_parent_death_signal(int signal) { return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0UL, 0UL, 0UL); }

int podgate_lab_pin_to_cpu(int cpu) {
    if (cpu < 0 || cpu >= CPU_SETSIZE) { errno = EINVAL; return -1; }
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set);
}
