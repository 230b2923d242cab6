/*
 * podgate_links.h - what `--edge-interfaces auto` needs to know about the
 * interfaces of the calling thread's network namespace, read with rtnetlink
 * (RTM_GETLINK and RTM_GETROUTE dumps). sysfs would show the namespace that
 * mounted it, not the thread's; netlink sockets belong to the thread's.
 */
#ifndef PODGATE_LINKS_H
#define PODGATE_LINKS_H

#include <linux/types.h>

struct podgate_link {
	int ifindex;
	int master;          /* IFLA_MASTER: the bridge (or bond) it is a port of, 0 if none */
	unsigned int flags;  /* IFF_* */
	int peer_netns;      /* 1 if IFLA_LINK_NETNSID is present: its peer lives in another netns */
	char kind[16];       /* IFLA_INFO_KIND ("veth", "bridge", "vxlan", ...); "" for physical devices */
	char name[16];
};

/* Fills up to `max` links; returns how many there are (may exceed max: call again larger) or -errno. */
int podgate_links_scan(struct podgate_link *out, int max);
/* Fills up to `max` ifindexes of interfaces that a default route (IPv4 or IPv6,
 * main table, multipath nexthops included) leaves through; returns the count or -errno. */
int podgate_default_route_interfaces(int *out, int max);

#endif
