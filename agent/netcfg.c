/*
 * The `network` step of `identity` (identity.c, docs/reference/agent.md): gives an interface
 * a new MAC, IPv4 address and default route, then announces the address with a gratuitous
 * ARP. Only system calls (ioctl, rtnetlink, AF_PACKET): a guest image may have neither `ip`
 * nor `arping`. <linux/rtnetlink.h> is not in musl's include path, so the few rtnetlink
 * structures used here are declared below (the kernel ABI is stable).
 */
#define _GNU_SOURCE
#include "netcfg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

struct nl_hdr { uint32_t len; uint16_t type, flags; uint32_t seq, pid; };
struct nl_err { int error; struct nl_hdr msg; };
struct nl_addr { sa_family_t family; unsigned short pad; uint32_t pid, groups; };
struct if_addrmsg { uint8_t family, prefixlen, flags, scope; uint32_t index; };
struct rt_msg { uint8_t family, dst_len, src_len, tos, table, protocol, scope, type; uint32_t flags; };
struct rt_attr { uint16_t len, type; };

enum { NLMSG_ERR = 2, NLMSG_END = 3 };
enum { F_REQUEST = 0x1, F_ACK = 0x4, F_DUMP = 0x300, F_REPLACE = 0x100, F_EXCL = 0x200, F_CREATE = 0x400 };
enum { M_NEWADDR = 20, M_DELADDR = 21, M_GETADDR = 22, M_NEWROUTE = 24 };
enum { A_ADDRESS = 1, A_LOCAL = 2, A_BROADCAST = 4, RTA_OIF_ = 4, RTA_GATEWAY_ = 5 };
#define ALIGN4(n) (((n) + 3u) & ~3u)
#define MAX_ADDRS 64

typedef struct {
  struct nl_hdr h;
  union { struct if_addrmsg ifa; struct rt_msg rt; } m;
  char attrs[64];
} nl_req;

static void fail(char *err, size_t errlen, const char *what) { snprintf(err, errlen, "%s: %s", what, strerror(errno)); }

static void add_attr(nl_req *r, uint16_t type, const void *data, uint16_t len) {
  struct rt_attr *a = (struct rt_attr *)((char *)r + ALIGN4(r->h.len));
  a->type = type;
  a->len = (uint16_t)(sizeof *a + len);
  memcpy(a + 1, data, len);
  r->h.len = ALIGN4(r->h.len) + ALIGN4(a->len);
}

static int nl_open(void) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0 /* NETLINK_ROUTE */);
  if (fd < 0) return -1;
  struct timeval tv = { 2, 0 }; /* the kernel answers at once; never hang the agent */
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  struct nl_addr a = { AF_NETLINK, 0, 0, 0 };
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) { close(fd); return -1; }
  return fd;
}

/* Sends one request with F_ACK and returns 0 or -errno from the kernel's answer. */
static int nl_call(int fd, nl_req *r) {
  static uint32_t seq = 1;
  r->h.flags |= F_REQUEST | F_ACK;
  r->h.seq = ++seq;
  if (send(fd, r, r->h.len, 0) < 0) return -errno;
  char buf[8192];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -errno;
    for (struct nl_hdr *h = (struct nl_hdr *)buf; n >= (ssize_t)sizeof *h && h->len >= sizeof *h && (ssize_t)h->len <= n;) {
      if (h->seq == r->h.seq && h->type == NLMSG_ERR) return ((struct nl_err *)(h + 1))->error;
      n -= ALIGN4(h->len);
      h = (struct nl_hdr *)((char *)h + ALIGN4(h->len));
    }
  }
}

/* The IPv4 addresses (with their prefix lengths) on interface idx. */
static int list_v4(int fd, unsigned idx, uint32_t *addrs, uint8_t *plens, int max) {
  nl_req r;
  memset(&r, 0, sizeof r);
  r.h.len = sizeof r.h + sizeof r.m.ifa;
  r.h.type = M_GETADDR;
  r.h.flags = F_REQUEST | F_DUMP;
  r.h.seq = 1;
  r.m.ifa.family = AF_INET;
  if (send(fd, &r, r.h.len, 0) < 0) return -1;
  int count = 0;
  char buf[16384];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) return -1;
    for (struct nl_hdr *h = (struct nl_hdr *)buf; n >= (ssize_t)sizeof *h && h->len >= sizeof *h && (ssize_t)h->len <= n;) {
      if (h->type == NLMSG_END) return count;
      if (h->type == NLMSG_ERR) { errno = -((struct nl_err *)(h + 1))->error; return -1; }
      struct if_addrmsg *ifa = (struct if_addrmsg *)(h + 1);
      if (h->type == M_NEWADDR && ifa->index == idx && ifa->family == AF_INET && count < max) {
        size_t off = ALIGN4(sizeof *h) + ALIGN4(sizeof *ifa);
        uint32_t addr = 0;
        int have = 0;
        while (off + sizeof(struct rt_attr) <= h->len) {
          struct rt_attr *a = (struct rt_attr *)((char *)h + off);
          if (a->len < sizeof *a) break;
          if ((a->type == A_LOCAL || (a->type == A_ADDRESS && !have)) && a->len >= sizeof *a + 4) {
            memcpy(&addr, a + 1, 4);
            have = 1;
          }
          off += ALIGN4(a->len);
        }
        if (have) { addrs[count] = addr; plens[count++] = ifa->prefixlen; }
      }
      n -= ALIGN4(h->len);
      h = (struct nl_hdr *)((char *)h + ALIGN4(h->len));
    }
  }
}

static int addr_msg(int fd, uint16_t type, uint16_t flags, unsigned idx, uint32_t ip, uint8_t prefix) {
  nl_req r;
  memset(&r, 0, sizeof r);
  r.h.len = sizeof r.h + sizeof r.m.ifa;
  r.h.type = type;
  r.h.flags = flags;
  r.m.ifa = (struct if_addrmsg){ AF_INET, prefix, 0, 0, idx };
  add_attr(&r, A_LOCAL, &ip, 4);
  add_attr(&r, A_ADDRESS, &ip, 4);
  if (type == M_NEWADDR && prefix < 31) {
    uint32_t mask = prefix ? htonl(~0u << (32 - prefix)) : 0, bcast = ip | ~mask;
    add_attr(&r, A_BROADCAST, &bcast, 4);
  }
  return nl_call(fd, &r);
}

static int default_route(int fd, unsigned idx, uint32_t gw) {
  nl_req r;
  memset(&r, 0, sizeof r);
  r.h.len = sizeof r.h + sizeof r.m.rt;
  r.h.type = M_NEWROUTE;
  r.h.flags = F_CREATE | F_REPLACE; /* a default route left by the template is replaced */
  r.m.rt = (struct rt_msg){ AF_INET, 0, 0, 0, 254 /* main */, 3 /* boot */, 0 /* universe */, 1 /* unicast */, 0 };
  add_attr(&r, RTA_GATEWAY_, &gw, 4);
  uint32_t oif = idx;
  add_attr(&r, RTA_OIF_, &oif, 4);
  return nl_call(fd, &r);
}

static int set_flags(int s, const char *ifname, int up) {
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) return -1;
  if (up) ifr.ifr_flags |= IFF_UP;
  else ifr.ifr_flags &= ~IFF_UP;
  return ioctl(s, SIOCSIFFLAGS, &ifr);
}

static int set_mac(int s, const char *ifname, const unsigned char mac[6]) {
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
  ifr.ifr_hwaddr.sa_family = 1; /* ARPHRD_ETHER */
  memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
  return ioctl(s, SIOCSIFHWADDR, &ifr);
}

/* An ARP announcement (RFC 5227: a request with sender = target = ip) broadcast from mac. */
static int announce(unsigned idx, const unsigned char mac[6], uint32_t ip) {
  int s = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(0x0806));
  if (s < 0) return -1;
  unsigned char p[28];
  memset(p, 0, sizeof p);
  p[1] = 1;                 /* hardware: Ethernet */
  p[2] = 0x08;              /* protocol: IPv4 */
  p[4] = 6;
  p[5] = 4;
  p[7] = 1;                 /* request */
  memcpy(p + 8, mac, 6);    /* sender MAC */
  memcpy(p + 14, &ip, 4);   /* sender IP */
  memcpy(p + 24, &ip, 4);   /* target IP; target MAC stays zero */
  struct sockaddr_ll to;
  memset(&to, 0, sizeof to);
  to.sll_family = AF_PACKET;
  to.sll_protocol = htons(0x0806);
  to.sll_ifindex = (int)idx;
  to.sll_halen = 6;
  memset(to.sll_addr, 0xff, 6);
  ssize_t n = sendto(s, p, sizeof p, 0, (struct sockaddr *)&to, sizeof to);
  int saved = errno;
  close(s);
  errno = saved;
  return n == (ssize_t)sizeof p ? 0 : -1;
}

/* Removes every IPv4 address of idx, adds ip/prefix and the default route via gw. */
static int readdress(unsigned idx, uint32_t ip, int prefix, uint32_t gw, char *err, size_t errlen) {
  int fd = nl_open();
  if (fd < 0) { fail(err, errlen, "netlink socket"); return -1; }
  uint32_t addrs[MAX_ADDRS];
  uint8_t plens[MAX_ADDRS];
  int n = list_v4(fd, idx, addrs, plens, MAX_ADDRS), rc;
  if (n < 0) { fail(err, errlen, "RTM_GETADDR"); close(fd); return -1; }
  for (int i = 0; i < n; i++) {
    /* Deleting a primary address also drops its secondaries: those are already gone. */
    rc = addr_msg(fd, M_DELADDR, 0, idx, addrs[i], plens[i]);
    if (rc < 0 && rc != -EADDRNOTAVAIL && rc != -ENOENT) { errno = -rc; fail(err, errlen, "RTM_DELADDR"); close(fd); return -1; }
  }
  rc = addr_msg(fd, M_NEWADDR, F_CREATE | F_REPLACE, idx, ip, (uint8_t)prefix);
  if (rc < 0) { errno = -rc; fail(err, errlen, "RTM_NEWADDR"); close(fd); return -1; }
  if (gw) {
    rc = default_route(fd, idx, gw);
    if (rc < 0 && rc != -EEXIST) { errno = -rc; fail(err, errlen, "RTM_NEWROUTE (default)"); close(fd); return -1; }
  }
  close(fd);
  return 0;
}

int net_configure(const char *ifname, const unsigned char mac[6], uint32_t ip, int prefix, uint32_t gw, char *err, size_t errlen) {
  unsigned idx = if_nametoindex(ifname);
  if (!idx) { snprintf(err, errlen, "no interface %s: %s", ifname, strerror(errno)); return -1; }
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) { fail(err, errlen, "socket"); return -1; }
  int rc = -1;
  if (set_flags(s, ifname, 0) < 0) fail(err, errlen, "SIOCSIFFLAGS (down)");
  else if (set_mac(s, ifname, mac) < 0) fail(err, errlen, "SIOCSIFHWADDR");
  else if (set_flags(s, ifname, 1) < 0) fail(err, errlen, "SIOCSIFFLAGS (up)");
  else rc = 0;
  close(s);
  if (rc < 0 || readdress(idx, ip, prefix, gw, err, errlen) < 0) return -1;
  if (announce(idx, mac, ip) < 0) { fail(err, errlen, "gratuitous ARP"); return -1; }
  return 0;
}
