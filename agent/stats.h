#ifndef BANGER_AGENT_STATS_H
#define BANGER_AGENT_STATS_H

#include "json.h"

/*
 * Appends the `stats` result for the /proc at `proc`:
 * {"mem_total_bytes","mem_available_bytes","mem_used_bytes","uptime_s","load":[1,5,15],
 *  "tcp_established_in","tcp_established_in_ports":[...]}
 */
void stats_json(const char *proc, sbuf *out);

#endif
