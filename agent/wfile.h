/* Files replaced atomically for `identity` (wfile.c). */
#ifndef BANGER_AGENT_WFILE_H
#define BANGER_AGENT_WFILE_H

#include <stddef.h>

/* NULL when path (len bytes) is absolute, has no NUL and no ".." component; else why not. */
const char *wfile_path_problem(const char *path, size_t len);
/* Creates the missing parent directories of path (0700, owned by the agent: root). */
int wfile_mkdir_parents(const char *path, char *err, size_t errlen);
/*
 * Replaces path with data (mode), through a temporary file in its directory that is fsynced
 * and renamed over it. A path that is a mount point (EBUSY) is written in place instead,
 * with *in_place set. -1 with "WHAT PATH: strerror" in err.
 */
int wfile_replace(const char *path, const void *data, size_t n, unsigned mode, int *in_place, char *err, size_t errlen);

#endif
