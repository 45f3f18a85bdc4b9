/* The steps of `identity`, in their order (idsteps.c); the params are checked by identity.c first. */
#ifndef BANGER_AGENT_IDSTEPS_H
#define BANGER_AGENT_IDSTEPS_H

#include <stdint.h>

#include "json.h"

typedef struct {
  const char *path;
  unsigned mode;
  sbuf data;
} id_file;

typedef struct {
  int has_clock;
  long long clock_ms;
  int has_entropy;
  sbuf entropy;
  const char *hostname;   /* NULL: step skipped */
  const char *machine_id; /* NULL: step skipped */
  int has_net;
  unsigned char mac[6];
  uint32_t ip, gw; /* network byte order; gw 0: no default route */
  int prefix;
  id_file *files;
  size_t nfiles;
  int sshd_reload;
} id_req;

typedef struct {
  const char *proc_root;
  sbuf done;  /* JSON strings, comma-separated: the steps that ran */
  sbuf notes; /* JSON strings, comma-separated */
  char err[512]; /* "STEP: what failed" */
} id_ctx;

/* Runs the requested steps in order; -1 at the first failure (cx->err names the step). */
int identity_run(const id_req *r, id_ctx *cx);

#endif
