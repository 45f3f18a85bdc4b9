/* `identity` (a restored clone becomes its own machine) and `quiesce` (before a template is saved): identity.c. */
#ifndef BANGER_AGENT_IDENTITY_H
#define BANGER_AGENT_IDENTITY_H

#include "json.h"

void do_identity(int ci, const char *id, const jval *params, const char *proc_root);
/* sync(), then "3" into PROC/sys/vm/drop_caches. */
void do_quiesce(int ci, const char *id, const char *proc_root);

#endif
