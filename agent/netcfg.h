/* The `network` step of `identity`: new MAC, IPv4 address and default route (netcfg.c). */
#ifndef BANGER_AGENT_NETCFG_H
#define BANGER_AGENT_NETCFG_H

#include <stddef.h>
#include <stdint.h>

/*
 * On ifname: link down, MAC set, link up; every IPv4 address removed, ip/prefix added, the
 * default route via gw (0: none) added or replaced; then an ARP announcement of ip from mac.
 * ip and gw in network byte order. -1 with "WHAT: strerror" in err on the first failure.
 */
int net_configure(const char *ifname, const unsigned char mac[6], uint32_t ip, int prefix, uint32_t gw, char *err, size_t errlen);

#endif
