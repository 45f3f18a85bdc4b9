/*
 * banger-init: PID 1 of a guest whose image is not systemd-based (docs/reference/agent.md,
 * "Guests without systemd"). The initramfs switch_roots into /.banger/init when the image
 * has it. It mounts what the image's userland would otherwise mount (/proc, /sys, /dev,
 * /dev/pts, /dev/shm, /run, /tmp), starts the agent (/.banger/agent) in a session of its
 * own, then:
 *   - with /.banger/next-init (one line: the absolute path of the image's own init, e.g.
 *     /sbin/init), execs it; the agent lives on under a small keeper process (keep_agent)
 *     that restarts it when it dies;
 *   - without, stays PID 1: reaps orphans, restarts the agent when it dies (with backoff),
 *     and on SIGTERM, SIGINT (Ctrl-Alt-Del), SIGPWR or SIGUSR2 (the agent's `shutdown`,
 *     as busybox init understands it) stops every process (SIGTERM and SIGHUP, a grace
 *     period, SIGKILL), syncs, remounts / read-only and powers off.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define AGENT_PATH "/.banger/agent"
#define NEXT_INIT_FILE "/.banger/next-init"
/* Agent restarts back off from 1 s to this; an agent that ran this long starts over at 1 s. */
#define MAX_BACKOFF_S 30
/* How long processes get between SIGTERM and SIGKILL at power-off. */
#define STOP_GRACE_MS 5000

static void say(const char *fmt, const char *a) {
  fprintf(stderr, "banger-init: ");
  fprintf(stderr, fmt, a);
  fputc('\n', stderr);
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether `dir` is a mount point, from /proc/self/mountinfo (field 5). */
static int mounted(const char *dir) {
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (!f) return 0;
  char line[4096];
  int found = 0;
  while (!found && fgets(line, sizeof line, f)) {
    char *p = line;
    for (int field = 0; field < 4 && p; field++) p = strchr(p, ' ') ? strchr(p, ' ') + 1 : NULL;
    if (!p) continue;
    size_t n = strcspn(p, " ");
    found = n == strlen(dir) && strncmp(p, dir, n) == 0;
  }
  fclose(f);
  return found;
}

/* Mounts fstype at dir unless something is mounted there; makes dir when it can. */
static void ensure_mount(const char *fstype, const char *dir, unsigned long flags, const char *data) {
  if (mkdir(dir, 0755) < 0 && errno != EEXIST) return; /* a read-only or odd image: go without */
  if (mounted(dir)) return;
  if (mount(fstype, dir, fstype, flags, data) < 0) say("cannot mount %s", dir);
}

static void mount_basics(void) {
  if (access("/proc/self", F_OK) < 0) {
    mkdir("/proc", 0555);
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) say("cannot mount %s", "/proc");
  }
  ensure_mount("sysfs", "/sys", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  ensure_mount("devtmpfs", "/dev", MS_NOSUID, "mode=0755");
  ensure_mount("devpts", "/dev/pts", MS_NOSUID | MS_NOEXEC, "gid=5,mode=620,ptmxmode=666");
  ensure_mount("tmpfs", "/dev/shm", MS_NOSUID | MS_NODEV, "mode=1777");
  ensure_mount("tmpfs", "/run", MS_NOSUID | MS_NODEV, "mode=0755");
  ensure_mount("tmpfs", "/tmp", MS_NOSUID | MS_NODEV, "mode=1777");
  /* /dev/ptmx from devtmpfs is the legacy node; point it at the devpts instance. */
  if (access("/dev/pts/ptmx", F_OK) == 0 && access("/dev/ptmx", F_OK) < 0) symlink("pts/ptmx", "/dev/ptmx");
}

/* The agent in a session of its own, its output on the console. */
static pid_t start_agent(void) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  setsid();
  int fd = open("/dev/console", O_RDWR | O_NOCTTY);
  if (fd < 0) fd = open("/dev/null", O_RDWR);
  if (fd >= 0) {
    dup2(fd, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    if (fd > 2) close(fd);
  }
  execl(AGENT_PATH, "banger-agent", (char *)NULL);
  say("cannot run " AGENT_PATH ": %s", strerror(errno));
  _exit(127);
}

/* The path in /.banger/next-init, or NULL (no file, or not an absolute path). */
static char *next_init(void) {
  static char path[4096];
  FILE *f = fopen(NEXT_INIT_FILE, "re");
  if (!f) return NULL;
  char *got = fgets(path, sizeof path, f);
  fclose(f);
  if (!got) return NULL;
  path[strcspn(path, "\r\n")] = '\0';
  if (path[0] != '/') {
    say("ignoring " NEXT_INIT_FILE ": \"%s\" is not an absolute path", path);
    return NULL;
  }
  return path;
}

/* Reaps what exited; returns whether `watch` was among them. */
static int reap(pid_t watch) {
  int hit = 0;
  pid_t p;
  while ((p = waitpid(-1, NULL, WNOHANG)) > 0)
    if (p == watch) hit = 1;
  return hit;
}

static void power_off(void) {
  say("%s", "powering off");
  kill(-1, SIGTERM);
  kill(-1, SIGHUP); /* interactive shells ignore SIGTERM but end on a hang-up */
  kill(-1, SIGCONT);
  long long deadline = now_ms() + STOP_GRACE_MS;
  while (now_ms() < deadline) {
    reap(0);
    if (kill(-1, 0) < 0 && errno == ESRCH) break; /* nothing but us is left */
    struct timespec ts = { 0, 50 * 1000000 };
    nanosleep(&ts, NULL);
  }
  kill(-1, SIGKILL);
  reap(0);
  sync();
  mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY, NULL);
  sync();
  reboot(RB_POWER_OFF);
  for (;;) pause();
}

/* PID 1 with no init of the image's: the agent kept alive, orphans reaped, signals obeyed. */
static void supervise(sigset_t *set, pid_t agent) {
  unsigned backoff = 1;
  long long started = now_ms(), restart_at = 0;
  for (;;) {
    struct timespec wait = { 1, 0 };
    siginfo_t info;
    int sig = sigtimedwait(set, &info, &wait);
    if (sig == SIGTERM || sig == SIGINT || sig == SIGPWR || sig == SIGUSR2) power_off();
    if (agent > 0 && reap(agent)) {
      agent = 0;
      if (now_ms() - started > MAX_BACKOFF_S * 1000LL) backoff = 1;
      restart_at = now_ms() + backoff * 1000LL;
      fprintf(stderr, "banger-init: the agent exited; restarting it in %u s\n", backoff);
      backoff = backoff * 2 > MAX_BACKOFF_S ? MAX_BACKOFF_S : backoff * 2;
    } else if (agent <= 0) reap(0);
    if (agent <= 0 && now_ms() >= restart_at) {
      agent = start_agent();
      started = now_ms();
    }
  }
}

/*
 * Under the image's own init: a small process (this program, not PID 1) that runs the agent
 * and starts it again when it exits, with the same backoff. The init's shutdown ends it
 * with its SIGTERM like any other process.
 */
static void keep_agent(void) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  setsid();
  unsigned backoff = 1;
  for (;;) {
    long long started = now_ms();
    pid_t agent = start_agent();
    while (agent > 0 && waitpid(agent, NULL, 0) < 0 && errno == EINTR) {}
    if (now_ms() - started > MAX_BACKOFF_S * 1000LL) backoff = 1;
    fprintf(stderr, "banger-init: the agent exited; restarting it in %u s\n", backoff);
    sleep(backoff);
    backoff = backoff * 2 > MAX_BACKOFF_S ? MAX_BACKOFF_S : backoff * 2;
  }
}

int main(int argc, char **argv) {
  (void)argc;
  if (getpid() != 1) {
    fprintf(stderr, "banger-init: must run as PID 1 (the initramfs starts it)\n");
    return 2;
  }
  sigset_t set;
  sigemptyset(&set);
  int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGPWR, SIGUSR1, SIGUSR2, SIGHUP };
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaddset(&set, sigs[i]);
  sigprocmask(SIG_BLOCK, &set, NULL);
  mount_basics();
  char *next = next_init();
  if (next) {
    pid_t keeper = fork();
    if (keeper == 0) keep_agent();
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    argv[0] = next;
    execv(next, argv);
    say("cannot run the image's init %s; staying PID 1 without it", next);
    sigprocmask(SIG_BLOCK, &set, NULL);
    if (keeper > 0) kill(keeper, SIGKILL);
  }
  pid_t agent = start_agent();
  /* Ctrl-Alt-Del (Firecracker's power-off request) becomes SIGINT to us instead of a reboot. */
  reboot(RB_DISABLE_CAD);
  supervise(&set, agent);
  return 0;
}
