/* `identity` (a restored clone becomes its own machine) and `quiesce` (before a template is saved): identity.c. */
#ifndef BANGER_AGENT_IDENTITY_H
#define BANGER_AGENT_IDENTITY_H

#include "json.h"

/*
 * `permitted`: the agent runs in a banger guest (or was told it may act anyway, for tests in
 * their own namespaces). Elsewhere, an agent run on a host (as the host-side tests run it)
 * must never change that host: params are still checked, then the request is refused.
 */
void do_identity(int ci, const char *id, const jval *params, const char *proc_root, int permitted);
/* sync(), then "3" into PROC/sys/vm/drop_caches; refused unless `permitted`, as above. */
void do_quiesce(int ci, const char *id, const char *proc_root, int permitted);

#endif
