/* placeholder: replaced by the datapath work */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "podgate_abi.h"
char LICENSE[] SEC("license") = "GPL";
