#ifndef BANGER_AGENT_PORTS_H
#define BANGER_AGENT_PORTS_H

#include "json.h"

/* Appends {"listeners":[{proto,address,port,pid,process},...]} for the /proc at `proc`. */
void ports_json(const char *proc, sbuf *out);

#endif
