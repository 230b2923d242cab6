#include <errno.h>
#include <bpf/libbpf.h>
#include "podgate_tc.h"

int podgate_tc_attach(int ifindex, int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	int err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		return err;
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = PODGATE_TC_HANDLE, .priority = PODGATE_TC_PRIORITY,
		    .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE);
	return bpf_tc_attach(&hook, &opts);
}

int podgate_tc_detach(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = PODGATE_TC_HANDLE, .priority = PODGATE_TC_PRIORITY);
	int err = bpf_tc_detach(&hook, &opts);
	return (err == -ENOENT || err == -EINVAL || err == -ENODEV) ? 0 : err;
}

int podgate_tc_query(int ifindex, __u32 *prog_id)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = PODGATE_TC_HANDLE, .priority = PODGATE_TC_PRIORITY);
	int err = bpf_tc_query(&hook, &opts);
	if (err)
		return err;
	*prog_id = opts.prog_id;
	return 0;
}
