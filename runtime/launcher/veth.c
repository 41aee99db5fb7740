/*
 * The veth pair of a network-granted capsule, made by the launcher itself over rtnetlink (`--veth
 * NAME` with `--unshare net` and `--netns-ipv4 ADDR/PREFIX,GW`): no `ip` process in the spawn.
 * Sockets are opened in the host's namespace before `unshare`; after it, one RTM_NEWLINK makes
 * NAME there (up) with its peer `eth0` in the capsule's new namespace, NAME gets GW/PREFIX, and
 * netns.c configures the inside. The namespace has no name (nothing in /run/netns): it lives as
 * long as the capsule's processes, and the kernel deletes the pair with it. The launcher creates
 * one interface in the host's namespace and changes nothing else there.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "launch.h"

struct nlreq {
  struct nlmsghdr n;
  char buf[512];
};

static struct rtattr *tail(struct nlreq *r) { return (struct rtattr *)((char *)&r->n + NLMSG_ALIGN(r->n.nlmsg_len)); }

static void put(struct nlreq *r, unsigned short type, const void *data, size_t len) {
  if (NLMSG_ALIGN(r->n.nlmsg_len) + RTA_SPACE(len) > sizeof *r) dief("veth", "netlink message too long");
  struct rtattr *a = tail(r);
  a->rta_type = type;
  a->rta_len = RTA_LENGTH(len);
  if (len > 0) memcpy(RTA_DATA(a), data, len);
  r->n.nlmsg_len = NLMSG_ALIGN(r->n.nlmsg_len) + RTA_SPACE(len);
}

static struct rtattr *nest(struct nlreq *r, unsigned short type) {
  struct rtattr *a = tail(r);
  put(r, type, NULL, 0);
  return a;
}

static void end(struct nlreq *r, struct rtattr *a) { a->rta_len = (unsigned short)((char *)tail(r) - (char *)a); }

/* Sends one request and reads its acknowledgement: 0, or the kernel's errno. */
static int talk(int s, struct nlreq *r) {
  if (send(s, &r->n, r->n.nlmsg_len, 0) < 0) die("netlink send");
  char ack[1024];
  ssize_t got = recv(s, ack, sizeof ack, 0);
  if (got < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr))) die("netlink ack");
  struct nlmsghdr *h = (struct nlmsghdr *)ack;
  if (h->nlmsg_type != NLMSG_ERROR) dief("veth", "unexpected netlink answer");
  return -((struct nlmsgerr *)NLMSG_DATA(h))->error;
}

static void start(struct nlreq *r, unsigned short type, unsigned short flags) {
  memset(r, 0, sizeof *r);
  r->n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
  r->n.nlmsg_type = type;
  r->n.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
}

/* NAME (up) in the host's namespace, its peer eth0 in the namespace of `netns_fd`. */
static int new_pair(int s, const char *name, int netns_fd) {
  struct nlreq r;
  start(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  struct ifinfomsg *i = NLMSG_DATA(&r.n);
  i->ifi_family = AF_UNSPEC;
  i->ifi_flags = i->ifi_change = IFF_UP;
  put(&r, IFLA_IFNAME, name, strlen(name) + 1);
  struct rtattr *info = nest(&r, IFLA_LINKINFO);
  put(&r, IFLA_INFO_KIND, "veth", 4);
  struct rtattr *data = nest(&r, IFLA_INFO_DATA);
  struct rtattr *peer = nest(&r, VETH_INFO_PEER);
  r.n.nlmsg_len += NLMSG_ALIGN(sizeof(struct ifinfomsg)); /* the peer's ifinfomsg, zero */
  put(&r, IFLA_IFNAME, "eth0", 5);
  unsigned int fd = (unsigned int)netns_fd;
  put(&r, IFLA_NET_NS_FD, &fd, sizeof fd);
  end(&r, peer);
  end(&r, data);
  end(&r, info);
  return talk(s, &r);
}

/* Before `unshare`: the sockets that will reach the host's namespace afterwards. */
void veth_prepare(const struct policy *p, struct host_link *h) {
  h->rtnl = h->inet = -1;
  if (p->veth == NULL) return;
  h->rtnl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (h->rtnl < 0) die("netlink socket");
  h->inet = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (h->inet < 0) die("socket");
}

/* After `unshare(CLONE_NEWNET)`: the pair, the host end addressed, the inside configured; sockets closed. */
void veth_make(const struct policy *p, struct host_link *h) {
  if (p->veth == NULL) return;
  struct ipv4_spec v;
  parse_ipv4(p->netns_ipv4, &v);
  int ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (ns < 0) die("/proc/self/ns/net");
  /* NAME still there: the previous run's pair, whose namespace the kernel is still tearing down.
     Waited for (never deleted: the launcher removes no host interface), up to 2 s. */
  int err = new_pair(h->rtnl, p->veth, ns);
  for (int waited = 0; err == EEXIST && waited < 2000; waited += 5) {
    usleep(5000);
    err = new_pair(h->rtnl, p->veth, ns);
  }
  if (err != 0) {
    errno = err;
    die("veth");
  }
  close(ns);
  address_link(h->inet, p->veth, v.gw, v.prefix);
  /* No socket of the host's namespace may reach the capsule. */
  close(h->rtnl);
  close(h->inet);
  h->rtnl = h->inet = -1;
  configure_inside(p->netns_ipv4);
}
