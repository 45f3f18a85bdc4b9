/* The terminal side of `exec` with `tty` (pty.c): the pseudo-terminal and the default shell. */
#ifndef BANGER_AGENT_PTY_H
#define BANGER_AGENT_PTY_H

#include <stddef.h>

/* A pty pair of rows x cols; the master is close-on-exec. 0 on success, else errno. */
int pty_open(int *master, int *slave, int rows, int cols);
/* Sets the window size (the kernel sends SIGWINCH to the foreground process group). */
int pty_resize(int master, int rows, int cols);
/*
 * The interactive shell when no command is given: root's login shell from /etc/passwd if it
 * exists, else /bin/sh, else /bin/busybox (as sh). Fills path and argv0 ("-NAME": a login
 * shell); 0 when the guest has none of them.
 */
int pty_default_shell(char *path, size_t pathlen, char *argv0, size_t argv0len);

#endif
