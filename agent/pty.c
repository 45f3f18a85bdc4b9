/*
 * Pseudo-terminals for `exec` with `tty` (docs/reference/agent.md, "Terminal sessions").
 * The command runs in a new session whose controlling terminal is the pty's slave; the
 * agent keeps the master: output is read from it, input written to it, the window size set on it.
 */
#define _GNU_SOURCE
#include "pty.h"

#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

int pty_open(int *master, int *slave, int rows, int cols) {
  struct winsize ws = { (unsigned short)rows, (unsigned short)cols, 0, 0 };
  if (openpty(master, slave, NULL, NULL, &ws) < 0) return errno ? errno : EIO;
  fcntl(*master, F_SETFD, FD_CLOEXEC);
  return 0;
}

int pty_resize(int master, int rows, int cols) {
  struct winsize ws = { (unsigned short)rows, (unsigned short)cols, 0, 0 };
  return ioctl(master, TIOCSWINSZ, &ws);
}

static int executable(const char *path) {
  return path[0] == '/' && access(path, X_OK) == 0;
}

/* Root's shell field in /etc/passwd, or "" when there is no such line. */
static void passwd_root_shell(char *out, size_t n) {
  out[0] = '\0';
  FILE *f = fopen("/etc/passwd", "re");
  if (!f) return;
  char line[1024];
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "root:", 5) != 0) continue;
    char *shell = strrchr(line, ':');
    if (!shell) break;
    shell++;
    shell[strcspn(shell, "\r\n")] = '\0';
    snprintf(out, n, "%s", shell);
    break;
  }
  fclose(f);
}

int pty_default_shell(char *path, size_t pathlen, char *argv0, size_t argv0len) {
  char shell[512];
  passwd_root_shell(shell, sizeof shell);
  /* An account locked with nologin or false is no shell to open a session with. */
  if (strstr(shell, "nologin") || strstr(shell, "/false")) shell[0] = '\0';
  const char *pick = executable(shell) ? shell : executable("/bin/sh") ? "/bin/sh" : NULL;
  if (pick) {
    const char *base = strrchr(pick, '/') + 1;
    snprintf(path, pathlen, "%s", pick);
    snprintf(argv0, argv0len, "-%s", base);
    return 1;
  }
  if (!executable("/bin/busybox")) return 0;
  /* busybox runs the applet its argv[0] names, a leading '-' (login shell) stripped. */
  snprintf(path, pathlen, "/bin/busybox");
  snprintf(argv0, argv0len, "-sh");
  return 1;
}
