#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>
#include <net/if.h>
#include "podgate_links.h"

/* Sends one dump request and calls `each` for every reply message. */
static int dump(int type, int family, int (*each)(struct nlmsghdr *, void *), void *ctx)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	struct {
		struct nlmsghdr h;
		union { struct ifinfomsg i; struct rtmsg r; } m;
	} req;
	memset(&req, 0, sizeof(req));
	req.h.nlmsg_type = type;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.h.nlmsg_seq = 1;
	if (type == RTM_GETLINK) {
		req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
		req.m.i.ifi_family = family;
	} else {
		req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
		req.m.r.rtm_family = family;
	}
	if (send(fd, &req, req.h.nlmsg_len, 0) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	static __thread char buf[32768];
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int err = -errno;
			close(fd);
			return err;
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				close(fd);
				return 0;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);
				close(fd);
				return e->error ? e->error : -EIO;
			}
			each(h, ctx);
		}
	}
}

struct link_ctx { struct podgate_link *out; int max; int count; };

static int one_link(struct nlmsghdr *h, void *p)
{
	struct link_ctx *ctx = p;
	if (h->nlmsg_type != RTM_NEWLINK)
		return 0;
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	struct podgate_link l;
	memset(&l, 0, sizeof(l));
	l.ifindex = ifi->ifi_index;
	l.flags = ifi->ifi_flags;
	int len = IFLA_PAYLOAD(h);
	for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		switch (a->rta_type) {
		case IFLA_IFNAME:
			strncpy(l.name, RTA_DATA(a), sizeof(l.name) - 1);
			break;
		case IFLA_MASTER:
			l.master = *(int *)RTA_DATA(a);
			break;
		case IFLA_LINK_NETNSID:
			l.peer_netns = 1;
			break;
		case IFLA_LINKINFO: {
			int ilen = RTA_PAYLOAD(a);
			for (struct rtattr *i = RTA_DATA(a); RTA_OK(i, ilen); i = RTA_NEXT(i, ilen))
				if (i->rta_type == IFLA_INFO_KIND)
					strncpy(l.kind, RTA_DATA(i), sizeof(l.kind) - 1);
			break;
		}
		}
	}
	if (ctx->count < ctx->max)
		ctx->out[ctx->count] = l;
	ctx->count++;
	return 0;
}

int podgate_links_scan(struct podgate_link *out, int max)
{
	struct link_ctx ctx = { out, max, 0 };
	int err = dump(RTM_GETLINK, AF_UNSPEC, one_link, &ctx);
	return err ? err : ctx.count;
}

struct route_ctx { int *out; int max; int count; };

static void add_oif(struct route_ctx *ctx, int oif)
{
	if (ctx->count < ctx->max)
		ctx->out[ctx->count] = oif;
	ctx->count++;
}

static int one_route(struct nlmsghdr *h, void *p)
{
	struct route_ctx *ctx = p;
	if (h->nlmsg_type != RTM_NEWROUTE)
		return 0;
	struct rtmsg *r = NLMSG_DATA(h);
	if (r->rtm_dst_len != 0 || r->rtm_type != RTN_UNICAST)
		return 0;
	unsigned int table = r->rtm_table;
	int len = RTM_PAYLOAD(h);
	for (struct rtattr *a = RTM_RTA(r); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == RTA_TABLE)
			table = *(unsigned int *)RTA_DATA(a);
	if (table != RT_TABLE_MAIN)
		return 0;
	len = RTM_PAYLOAD(h);
	for (struct rtattr *a = RTM_RTA(r); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == RTA_OIF) {
			add_oif(ctx, *(int *)RTA_DATA(a));
		} else if (a->rta_type == RTA_MULTIPATH) {
			struct rtnexthop *nh = RTA_DATA(a);
			int left = RTA_PAYLOAD(a);
			while (left >= (int)sizeof(*nh) && nh->rtnh_len >= sizeof(*nh) && nh->rtnh_len <= left) {
				add_oif(ctx, nh->rtnh_ifindex);
				left -= RTNH_ALIGN(nh->rtnh_len);
				nh = RTNH_NEXT(nh);
			}
		}
	}
	return 0;
}

int podgate_default_route_interfaces(int *out, int max)
{
	struct route_ctx ctx = { out, max, 0 };
	int err = dump(RTM_GETROUTE, AF_INET, one_route, &ctx);
	if (!err)
		err = dump(RTM_GETROUTE, AF_INET6, one_route, &ctx);
	return err ? err : ctx.count;
}
