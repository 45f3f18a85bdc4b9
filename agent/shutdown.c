/*
 * The agent's `shutdown` (docs/reference/agent.md): powers the guest off through whatever
 * runs as PID 1, so that it stops its services and unmounts cleanly:
 *   - systemd (/run/systemd/system exists): `systemctl poweroff --force`;
 *   - banger-init (/proc/1/exe is /.banger/init) or busybox init (/proc/1/exe is a busybox):
 *     SIGUSR2, which both take as "power off";
 *   - anything else (sysvinit, OpenRC's own init): the image's `poweroff`.
 * For the last two, a watchdog powers off with reboot(2) after WATCHDOG_S when the guest is
 * still up: an init that ignored the request must not leave `vm stop` to the host's hard stop.
 * The init's own shutdown normally kills the watchdog on its way down.
 */
#define _GNU_SOURCE
#include "shutdown.h"

#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define WATCHDOG_S 10

/* What PID 1 runs: 's' systemd, 'u' an init that powers off on SIGUSR2, 'o' another. */
static char init_kind(void) {
  struct stat st;
  if (stat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode)) return 's';
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/1/exe", exe, sizeof exe - 1);
  if (n <= 0) return 'o';
  exe[n] = '\0';
  const char *base = strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;
  if (strcmp(exe, "/.banger/init") == 0 || strcmp(base, "busybox") == 0) return 'u';
  return 'o';
}

static void run(const char *path, char *const argv[]) {
  pid_t pid = fork();
  if (pid == 0) {
    execv(path, argv);
    _exit(127);
  }
}

void power_off_guest(void) {
  sync();
  pid_t pid = fork();
  if (pid != 0) return;
  setsid();
  char kind = init_kind();
  if (kind == 's') {
    /* systemd stops nothing gracefully but still kills processes and unmounts cleanly (no
       watchdog: systemd's own shutdown must not be cut short). */
    execl("/bin/systemctl", "systemctl", "poweroff", "--force", (char *)NULL);
    reboot(RB_POWER_OFF);
    _exit(1);
  }
  if (kind == 'u') {
    kill(1, SIGUSR2);
  } else {
    run("/sbin/poweroff", (char *const[]){ "poweroff", NULL });
    run("/usr/sbin/poweroff", (char *const[]){ "poweroff", NULL });
  }
  sleep(WATCHDOG_S);
  sync();
  reboot(RB_POWER_OFF);
  _exit(1);
}
