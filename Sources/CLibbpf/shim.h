#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <stdarg.h>
#include <stdio.h>

/* libbpf's print callback receives a va_list; format it here so Swift gets a string. */
static inline int podgate_vformat(char *buffer, size_t size, const char *format, va_list args) {
    return vsnprintf(buffer, size, format, args);
}

/* ---- libbpf options structs: built here, never in Swift ------------------
 * libbpf's OPTS_VALID rejects (EINVAL, before any syscall) an options struct
 * with a non-zero byte past the last field it knows, trailing padding
 * included. Swift does not zero padding, so a struct built in Swift works or
 * not depending on what the stack held (release builds failed to open maps).
 * LIBBPF_OPTS zeroes the whole struct, then sets the fields. */

static inline int podgate_obj_get(const char *path, __u32 file_flags) {
    LIBBPF_OPTS(bpf_obj_get_opts, opts, .file_flags = file_flags);
    return bpf_obj_get_opts(path, &opts);
}

static inline int podgate_map_update_batch(int fd, const void *keys, const void *values, __u32 *count, __u64 elem_flags) {
    LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = elem_flags);
    return bpf_map_update_batch(fd, keys, values, count, &opts);
}

/* Opens an object from memory. The verifier log of a failed load (and the
 * BTF log) lands in log_buf (the kernel keeps its last bytes when it is
 * larger), so the loader can put its last lines in the error. log_level 0:
 * libbpf asks for a log only when a load fails, then retries with level 1. */
static inline struct bpf_object *podgate_object_open_mem(const void *bytes, size_t size, const char *name,
                                                         char *log_buf, size_t log_size, __u32 log_level) {
    LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = name, .kernel_log_buf = log_buf,
                .kernel_log_size = log_size, .kernel_log_level = log_level);
    return bpf_object__open_mem(bytes, size, &opts);
}

/* statfs(2): Glibc's Swift module does not export it; the datapath's
 * preflight uses it to recognise bpffs and cgroup2 mounts. */
#include <sys/vfs.h>
