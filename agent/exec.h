/*
 * `exec`, `exec_input`, `exec_signal` and `exec_resize` (docs/reference/agent.md): commands
 * in their own session, buffered (one answer with the output) or streamed (event lines as
 * output arrives, stdin fed by `exec_input`, signals by `exec_signal`), optionally on a
 * pseudo-terminal (`tty`, its window size set by `exec_resize`).
 */
#ifndef BANGER_AGENT_EXEC_H
#define BANGER_AGENT_EXEC_H

#include <poll.h>

#include "json.h"

#define MAX_EXECS 16
/* poll() owners: 1000+slot stdout, 2000+slot stderr, 3000+slot stdin. */
#define EXEC_OWNER_BASE 1000

/* Appends the bytes base64 text s (n chars) decodes to; on bad input appends nothing and returns 0. */
int base64_decode(sbuf *b, const char *s, size_t n);

void do_exec(int ci, const char *id, const jval *params);
void do_exec_input(int ci, const char *id, const jval *params);
void do_exec_signal(int ci, const char *id, const jval *params);
void do_exec_resize(int ci, const char *id, const jval *params);

/* Adds the jobs' pipes to pfd/owner from index n; returns the new count. Lowers *wake to the next deadline. */
int exec_poll_fds(struct pollfd *pfd, int *owner, int n, long long *wake);
/* A pipe of a job is ready (owner as set by exec_poll_fds). */
void exec_on_ready(int owner);
/* Kills the jobs whose timeout passed. */
void exec_check_deadlines(long long now);
/* Reaps exited children and answers for their jobs. */
void exec_reap(void);
/* Whether any job still runs. */
int exec_busy(void);
/* Connection ci (generation gen) went away: its streamed jobs have nowhere to send output and are killed. */
void exec_conn_lost(int ci, unsigned gen);

#endif
