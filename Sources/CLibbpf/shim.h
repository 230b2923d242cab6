#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <stdarg.h>
#include <stdio.h>

/* libbpf's print callback receives a va_list; format it here so Swift gets a string. */
static inline int podgate_vformat(char *buffer, size_t size, const char *format, va_list args) {
    return vsnprintf(buffer, size, format, args);
}

/* statfs(2): Glibc's Swift module does not export it; the datapath's
 * preflight uses it to recognise bpffs and cgroup2 mounts. */
#include <sys/vfs.h>
