/*
 * The steps of `identity` (identity.c checked the params): clock, entropy, hostname,
 * machine_id, network, files, sshd_reload, in that order. The clock goes first so that
 * every file written later carries the right time; the network before the files and sshd
 * so that nothing announces the template's address once the clone's is set.
 */
#define _GNU_SOURCE
#include "idsteps.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <poll.h>
#include <unistd.h>

#include "agent.h"
#include "netcfg.h"
#include "wfile.h"

/* <linux/random.h> is not in musl's include path; the ioctl numbers are ABI. */
#define RNDADDENTROPY_ _IOW('R', 0x03, int[2])
#define RNDRESEEDCRNG_ _IO('R', 0x07)
#define SSHD_WAIT_MS 3000
#define SSHD_GONE_MS 300

static void add_item(sbuf *list, const char *s) {
  if (list->len) sb_puts(list, ",");
  sb_json_str(list, s, strlen(s));
}

static void note(id_ctx *cx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(id_ctx *cx, const char *fmt, ...) {
  char m[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(m, sizeof m, fmt, ap);
  va_end(ap);
  add_item(&cx->notes, m);
}

/* Fails the step: "STEP: DETAIL". */
static int step_fail(id_ctx *cx, const char *step, const char *detail) {
  snprintf(cx->err, sizeof cx->err, "%s: %s", step, detail);
  return -1;
}

static int sys_fail(id_ctx *cx, const char *step, const char *call) {
  char d[300];
  snprintf(d, sizeof d, "%s: %s", call, strerror(errno));
  return step_fail(cx, step, d);
}

static int step_clock(const id_req *r, id_ctx *cx) {
  struct timespec ts = { (time_t)(r->clock_ms / 1000), (long)(r->clock_ms % 1000) * 1000000L };
  return clock_settime(CLOCK_REALTIME, &ts) < 0 ? sys_fail(cx, "clock", "clock_settime") : 0;
}

static int step_entropy(const id_req *r, id_ctx *cx) {
  struct { int entropy_count, buf_size; unsigned char buf[512]; } info;
  info.entropy_count = (int)r->entropy.len * 8;
  info.buf_size = (int)r->entropy.len;
  memcpy(info.buf, r->entropy.data, r->entropy.len);
  int fd = open("/dev/random", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return sys_fail(cx, "entropy", "open /dev/random");
  int rc = ioctl(fd, RNDADDENTROPY_, &info);
  memset(&info, 0, sizeof info);
  if (rc < 0) { sys_fail(cx, "entropy", "RNDADDENTROPY"); close(fd); return -1; }
  if (ioctl(fd, RNDRESEEDCRNG_, 0) < 0) {
    if (errno != EINVAL && errno != ENOTTY) { sys_fail(cx, "entropy", "RNDRESEEDCRNG"); close(fd); return -1; }
    note(cx, "entropy: this kernel has no RNDRESEEDCRNG (before 4.17); the entropy was added, the CRNG reseeds on its own schedule");
  }
  close(fd);
  return 0;
}

/* 1 when /etc is a real directory; else 0 with a note saying what was left alone. */
static int etc_usable(id_ctx *cx, const char *step, const char *what) {
  struct stat st;
  if (lstat("/etc", &st) < 0) { note(cx, "%s: no /etc; %s not written", step, what); return 0; }
  if (S_ISLNK(st.st_mode)) { note(cx, "%s: warning: /etc is a symlink; %s left alone", step, what); return 0; }
  if (!S_ISDIR(st.st_mode)) { note(cx, "%s: /etc is not a directory; %s not written", step, what); return 0; }
  return 1;
}

static int replace(id_ctx *cx, const char *step, const char *path, const char *text, unsigned mode) {
  char err[400];
  int in_place = 0;
  if (wfile_replace(path, text, strlen(text), mode, &in_place, err, sizeof err) < 0) return step_fail(cx, step, err);
  if (in_place) note(cx, "%s: %s is a mount point; written in place", step, path);
  return 0;
}

static int step_hostname(const id_req *r, id_ctx *cx) {
  if (sethostname(r->hostname, strlen(r->hostname)) < 0) return sys_fail(cx, "hostname", "sethostname");
  if (!etc_usable(cx, "hostname", "/etc/hostname and /etc/hosts")) return 0;
  char text[400];
  snprintf(text, sizeof text, "%s\n", r->hostname);
  if (replace(cx, "hostname", "/etc/hostname", text, 0644) < 0) return -1;
  /* Exactly what the initramfs writes (src/kernelcat/initScript.ts). */
  snprintf(text, sizeof text, "127.0.0.1 localhost\n127.0.1.1 %s\n::1 localhost ip6-localhost ip6-loopback\n", r->hostname);
  return replace(cx, "hostname", "/etc/hosts", text, 0644);
}

/* Written whenever /etc is a real directory (created when the image had none); a D-Bus copy that is a regular file follows. */
static int step_machine_id(const id_req *r, id_ctx *cx) {
  if (!etc_usable(cx, "machine_id", "/etc/machine-id")) return 0;
  char text[40];
  snprintf(text, sizeof text, "%s\n", r->machine_id);
  if (replace(cx, "machine_id", "/etc/machine-id", text, 0444) < 0) return -1;
  struct stat st;
  if (lstat("/var/lib/dbus/machine-id", &st) == 0 && S_ISREG(st.st_mode))
    return replace(cx, "machine_id", "/var/lib/dbus/machine-id", text, 0444);
  return 0;
}

static int step_network(const id_req *r, id_ctx *cx) {
  char err[300];
  if (net_configure("eth0", r->mac, r->ip, r->prefix, r->gw, err, sizeof err) < 0) return step_fail(cx, "network", err);
  return 0;
}

static int step_files(const id_req *r, id_ctx *cx) {
  char err[400];
  for (size_t i = 0; i < r->nfiles; i++) {
    const id_file *f = &r->files[i];
    if (wfile_mkdir_parents(f->path, err, sizeof err) < 0) return step_fail(cx, "files", err);
    int in_place = 0;
    if (wfile_replace(f->path, f->data.data ? f->data.data : "", f->data.len, f->mode, &in_place, err, sizeof err) < 0)
      return step_fail(cx, "files", err);
    if (in_place) note(cx, "files: %s is a mount point; written in place", f->path);
  }
  return 0;
}

/* Whether 127.0.0.1:22 accepts a connection within 50 ms (each probe costs sshd a forked session: used once). */
static int ssh_accepts(void) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s < 0) return 0;
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(22), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  int ok = connect(s, (struct sockaddr *)&a, sizeof a) == 0;
  if (!ok && errno == EINPROGRESS) {
    struct pollfd p = { s, POLLOUT, 0 };
    int soerr = 1;
    socklen_t len = sizeof soerr;
    ok = poll(&p, 1, 50) == 1 && getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0;
  }
  close(s);
  return ok;
}

/* Whether a TCP socket (v4 or v6) listens on port 22 that 127.0.0.1 reaches: read from PROC/net/tcp{,6}, no connection made. */
static int port22_listening(const char *proc) {
  static const char *const files[] = { "net/tcp", "net/tcp6" };
  for (size_t i = 0; i < 2; i++) {
    char path[300], line[512], addr[64];
    unsigned port, state;
    snprintf(path, sizeof path, "%s/%s", proc, files[i]);
    FILE *f = fopen(path, "re");
    if (!f) continue;
    int found = 0;
    while (!found && fgets(line, sizeof line, f))
      if (sscanf(line, " %*d: %63[0-9A-Fa-f]:%x %*s %x", addr, &port, &state) == 3 && port == 22 && state == 0x0A)
        found = strspn(addr, "0") == strlen(addr) || strcmp(addr, "0100007F") == 0 || strcmp(addr, "0000000000000000FFFF00000100007F") == 0;
    fclose(f);
    if (found) return 1;
  }
  return 0;
}

/* The sshd listener's pid from its pidfile, when that process still is an sshd (its name starts with "sshd"). */
static int sshd_pid(id_ctx *cx) {
  static const char *const files[] = { "/run/sshd.pid", "/var/run/sshd.pid" };
  for (size_t i = 0; i < 2; i++) {
    char buf[32] = "", path[300], comm[64] = "";
    int fd = open(files[i], O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    int pid = n > 0 ? atoi(buf) : 0;
    if (pid <= 1) { note(cx, "sshd_reload: %s holds no pid; skipped", files[i]); return 0; }
    snprintf(path, sizeof path, "%s/%d/comm", cx->proc_root, pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    n = fd >= 0 ? read(fd, comm, sizeof comm - 1) : -1;
    if (fd >= 0) close(fd);
    if (n <= 0 || strncmp(comm, "sshd", 4) != 0) { note(cx, "sshd_reload: pid %d from %s is not a running sshd; skipped", pid, files[i]); return 0; }
    return pid;
  }
  note(cx, "sshd_reload: no /run/sshd.pid or /var/run/sshd.pid (sshd not running); skipped");
  return 0;
}

/*
 * SIGHUP makes sshd close its listeners and re-exec itself, loading the (new) host keys. The
 * wait watches the listener in /proc/net (a connection per probe would cost sshd a forked
 * session each): first until it is gone (or SSHD_GONE_MS passed: a re-exec quicker than a
 * probe), then until it is back and 127.0.0.1:22 accepts, at most SSHD_WAIT_MS in all.
 */
static int step_sshd_reload(id_ctx *cx) {
  int pid = sshd_pid(cx);
  if (!pid) return 0;
  int was_listening = port22_listening(cx->proc_root);
  if (kill(pid, SIGHUP) < 0) return sys_fail(cx, "sshd_reload", "kill SIGHUP");
  if (!was_listening) { note(cx, "sshd_reload: sshd (pid %d) was not listening on port 22; sent SIGHUP without waiting", pid); return 0; }
  long long start = now_ms();
  while (now_ms() - start < SSHD_GONE_MS && port22_listening(cx->proc_root)) usleep(2000);
  while (!port22_listening(cx->proc_root) || !ssh_accepts()) {
    if (now_ms() - start >= SSHD_WAIT_MS) return step_fail(cx, "sshd_reload", "sshd did not accept connections on 127.0.0.1:22 within 3 s of SIGHUP");
    usleep(5000);
  }
  note(cx, "sshd_reload: sshd (pid %d) accepting again after %lld ms", pid, now_ms() - start);
  return 0;
}

int identity_run(const id_req *r, id_ctx *cx) {
  struct { const char *name; int wanted; int (*run)(const id_req *, id_ctx *); } steps[] = {
    { "clock", r->has_clock, step_clock },
    { "entropy", r->has_entropy, step_entropy },
    { "hostname", r->hostname != NULL, step_hostname },
    { "machine_id", r->machine_id != NULL, step_machine_id },
    { "network", r->has_net, step_network },
    { "files", r->nfiles > 0, step_files },
    { "sshd_reload", r->sshd_reload, NULL },
  };
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    if (!steps[i].wanted) continue;
    if ((steps[i].run ? steps[i].run(r, cx) : step_sshd_reload(cx)) < 0) return -1;
    add_item(&cx->done, steps[i].name);
  }
  return 0;
}
