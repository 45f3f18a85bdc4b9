/*
 * banger-agent: the guest side of banger (SPEC 8). One process, one poll() loop, no
 * threads and no runtime beyond a static libc.
 *
 * Protocol (docs/reference/agent.md): one JSON object per line in each direction.
 *   request:  {"v":1,"id":<number|string>,"method":"health"|"ports"|"exec"|"exec_input"|"exec_signal"|"exec_resize"|"shutdown"|"stats"|"identity"|"quiesce","params":{...}}
 *   response: {"v":1,"id":<same>,"ok":true,"result":{...}}
 *          or {"v":1,"id":<same|null>,"ok":false,"error":{"code":"...","message":"..."}}
 * Every request gets exactly one response; a malformed, oversized or unknown request gets
 * an error response and the agent carries on. Responses to one stream may come out of
 * order (an `exec` finishes later than a `health` sent after it): match them by id. A
 * streamed `exec` also sends event lines before its response (exec.c).
 *
 * Transports: AF_VSOCK stream connections on AGENT_VSOCK_PORT (Firecracker, QEMU with
 * vhost-vsock), and the virtio-serial port named "banger.agent" (a single stream that the
 * host side may connect to and leave at any time). `--stdio` serves one stream on fds 0/1,
 * which is how the host-side tests drive it over a socketpair.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "exec.h"
#include "identity.h"
#include "json.h"
#include "ports.h"
#include "shutdown.h"
#include "stats.h"

#ifndef AGENT_VERSION
#define AGENT_VERSION "dev"
#endif
#define AGENT_VSOCK_PORT 10789
#define SERIAL_PORT_NAME "banger.agent"
/* A request line longer than this is refused (and skipped up to its newline). */
#define MAX_REQUEST (1024 * 1024)
#define MAX_CONNS 16
/* A serial port whose host side is away is polled again after this long. */
#define SERIAL_RETRY_MS 20

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
/* <linux/vm_sockets.h> is not in musl's include path; the ABI is stable. */
struct sockaddr_vm_compat {
  sa_family_t svm_family;
  unsigned short svm_reserved1;
  unsigned int svm_port;
  unsigned int svm_cid;
  unsigned char svm_zero[sizeof(struct sockaddr) - sizeof(sa_family_t) - sizeof(unsigned short) - 2 * sizeof(unsigned int)];
};
#define VMADDR_CID_ANY_COMPAT 0xFFFFFFFFu

enum conn_kind { CONN_STDIO, CONN_SERIAL, CONN_VSOCK };
static const char *const kind_names[] = { "stdio", "serial", "vsock" };

typedef struct {
  int used;
  unsigned gen; /* bumped on every reuse of the slot, so a late exec result never reaches a newer peer */
  enum conn_kind kind;
  int rfd, wfd;
  char *buf;
  size_t len;
  int discarding; /* skipping the rest of an oversized line */
  int away;       /* serial: the host side is not connected */
  int eof;        /* stdio: no more requests will come; replies still go out */
  long long away_until_ms;
} conn;

static conn conns[MAX_CONNS];
static int sigchld_pipe[2] = { -1, -1 };
static const char *proc_root = "/proc";
static int stdio_mode = 0;
/* --identity-anywhere: identity and quiesce act outside a banger guest (tests in namespaces of their own). */
static int identity_anywhere = 0;

long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void logf_(const char *fmt, const char *a) {
  fprintf(stderr, "banger-agent: ");
  fprintf(stderr, fmt, a);
  fputc('\n', stderr);
}

void set_nonblock(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl >= 0) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Writes all of buf, waiting (bounded) when the peer is slow; gives up on error. */
static int write_all(int fd, const char *buf, size_t len) {
  size_t off = 0;
  long long deadline = now_ms() + 10000;
  while (off < len) {
    ssize_t n = write(fd, buf + off, len - off);
    if (n > 0) { off += (size_t)n; continue; }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      long long left = deadline - now_ms();
      if (left <= 0) return -1;
      struct pollfd p = { fd, POLLOUT, 0 };
      poll(&p, 1, (int)left);
      continue;
    }
    return -1;
  }
  return 0;
}

unsigned conn_gen(int ci) { return conns[ci].gen; }

void send_line(int ci, unsigned gen, sbuf *msg) {
  /* Nothing is written to a serial port whose host side is away: it would only block. */
  if (ci < 0 || ci >= MAX_CONNS || !conns[ci].used || conns[ci].gen != gen || conns[ci].away) return;
  sb_putn(msg, "\n", 1);
  if (write_all(conns[ci].wfd, msg->data, msg->len) < 0 && conns[ci].kind == CONN_VSOCK) {
    /* A vsock peer that cannot take a reply is gone; the serial port stays ours. */
    shutdown(conns[ci].rfd, SHUT_RDWR);
  }
}

void reply_error(int ci, const char *id, const char *code, const char *message) {
  sbuf b;
  sb_init(&b);
  sb_printf(&b, "{\"v\":%d,\"id\":%s,\"ok\":false,\"error\":{\"code\":", PROTOCOL_VERSION, id ? id : "null");
  sb_json_str(&b, code, strlen(code));
  sb_puts(&b, ",\"message\":");
  sb_json_str(&b, message, strlen(message));
  sb_puts(&b, "}}");
  send_line(ci, conns[ci].gen, &b);
  sb_free(&b);
}

void reply_ok(int ci, unsigned gen, const char *id, const char *result) {
  sbuf b;
  sb_init(&b);
  sb_printf(&b, "{\"v\":%d,\"id\":%s,\"ok\":true,\"result\":", PROTOCOL_VERSION, id);
  sb_puts(&b, result);
  sb_puts(&b, "}");
  send_line(ci, gen, &b);
  sb_free(&b);
}

static int read_small_file(const char *path, char *out, size_t outlen) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, out, outlen - 1);
  close(fd);
  if (n < 0) return 0;
  out[n] = '\0';
  out[strcspn(out, "\n")] = '\0';
  return 1;
}

static void do_health(int ci, const char *id) {
  char boot_id[64] = "", uptime[64] = "0", host[256] = "", path[300];
  snprintf(path, sizeof path, "%s/sys/kernel/random/boot_id", proc_root);
  read_small_file(path, boot_id, sizeof boot_id);
  snprintf(path, sizeof path, "%s/uptime", proc_root);
  read_small_file(path, uptime, sizeof uptime);
  gethostname(host, sizeof host - 1);
  sbuf r;
  sb_init(&r);
  sb_puts(&r, "{\"boot_id\":");
  sb_json_str(&r, boot_id, strlen(boot_id));
  sb_printf(&r, ",\"uptime_s\":%.2f,\"hostname\":", strtod(uptime, NULL));
  sb_json_str(&r, host, strlen(host));
  sb_puts(&r, ",\"agent_version\":");
  sb_json_str(&r, AGENT_VERSION, strlen(AGENT_VERSION));
  sb_printf(&r, ",\"protocol\":%d,\"transport\":\"%s\",\"pid\":%d}", PROTOCOL_VERSION, kind_names[conns[ci].kind], (int)getpid());
  reply_ok(ci, conns[ci].gen, id, r.data);
  sb_free(&r);
}

static void do_ports(int ci, const char *id) {
  sbuf r;
  sb_init(&r);
  ports_json(proc_root, &r);
  reply_ok(ci, conns[ci].gen, id, r.data);
  sb_free(&r);
}

static void do_stats(int ci, const char *id) {
  sbuf r;
  sb_init(&r);
  stats_json(proc_root, &r);
  reply_ok(ci, conns[ci].gen, id, r.data);
  sb_free(&r);
}

/* Power off only inside a banger guest: running the agent on a host (as the tests do) must never stop it. */
static int in_banger_guest(void) {
  char cmdline[4096], path[300];
  snprintf(path, sizeof path, "%s/cmdline", proc_root);
  return read_small_file(path, cmdline, sizeof cmdline) && strstr(cmdline, "banger.root=") != NULL;
}

static void do_shutdown(int ci, const char *id) {
  if (stdio_mode || !in_banger_guest()) {
    reply_error(ci, id, "unsupported", "not a banger guest (no banger.root= on the kernel command line); refusing to power off");
    return;
  }
  reply_ok(ci, conns[ci].gen, id, "{\"powering_off\":true}");
  power_off_guest();
}

/*
 * The first line on the serial port: a host that is still waiting for answers from an agent
 * that died (the port's host side never sees the guest side close) learns that they will
 * not come. It carries no id, so no request is mistaken for answered.
 */
static void send_hello(int ci) {
  sbuf b;
  sb_init(&b);
  sb_printf(&b, "{\"v\":%d,\"event\":\"hello\",\"pid\":%d,\"agent_version\":", PROTOCOL_VERSION, (int)getpid());
  sb_json_str(&b, AGENT_VERSION, strlen(AGENT_VERSION));
  sb_puts(&b, "}");
  send_line(ci, conns[ci].gen, &b);
  sb_free(&b);
}

static void handle_line(int ci, char *line, size_t len) {
  while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t')) len--;
  size_t skip = 0;
  while (skip < len && (line[skip] == ' ' || line[skip] == '\t')) skip++;
  if (skip == len) return; /* blank lines are keep-alives */
  const char *err = NULL;
  jval *req = json_parse(line + skip, len - skip, &err);
  if (!req) {
    char msg[160];
    snprintf(msg, sizeof msg, "request is not valid JSON: %s", err);
    reply_error(ci, NULL, "parse_error", msg);
    return;
  }
  char *id = NULL;
  const jval *idv = json_get(req, "id");
  if (req->type != J_OBJ) { reply_error(ci, NULL, "bad_request", "a request is a JSON object"); goto out; }
  if (!idv || !(idv->type == J_STR || (idv->type == J_NUM && idv->end - idv->start <= 20))) {
    reply_error(ci, NULL, "bad_request", "request id must be a number or a string");
    goto out;
  }
  if (idv->type == J_STR) {
    sbuf b;
    sb_init(&b);
    sb_json_str(&b, idv->str, idv->len);
    id = b.data;
  } else id = strndup(line + skip + idv->start, idv->end - idv->start);
  const jval *v = json_get(req, "v");
  if (!v || v->type != J_NUM || v->num != PROTOCOL_VERSION) {
    char msg[160];
    snprintf(msg, sizeof msg, "this agent speaks protocol version %d; send \"v\":%d", PROTOCOL_VERSION, PROTOCOL_VERSION);
    reply_error(ci, id, "bad_version", msg);
    goto out;
  }
  const jval *m = json_get(req, "method");
  const jval *params = json_get(req, "params");
  if (!m || m->type != J_STR) { reply_error(ci, id, "bad_request", "request needs a \"method\" string"); goto out; }
  if (params && params->type != J_OBJ && params->type != J_NULL) { reply_error(ci, id, "bad_request", "\"params\" must be an object"); goto out; }
  if (strcmp(m->str, "health") == 0) do_health(ci, id);
  else if (strcmp(m->str, "ports") == 0) do_ports(ci, id);
  else if (strcmp(m->str, "exec") == 0) do_exec(ci, id, params);
  else if (strcmp(m->str, "exec_input") == 0) do_exec_input(ci, id, params);
  else if (strcmp(m->str, "exec_signal") == 0) do_exec_signal(ci, id, params);
  else if (strcmp(m->str, "exec_resize") == 0) do_exec_resize(ci, id, params);
  else if (strcmp(m->str, "shutdown") == 0) do_shutdown(ci, id);
  else if (strcmp(m->str, "stats") == 0) do_stats(ci, id);
  else if (strcmp(m->str, "identity") == 0) do_identity(ci, id, params, proc_root, identity_anywhere || in_banger_guest());
  else if (strcmp(m->str, "quiesce") == 0) do_quiesce(ci, id, proc_root, identity_anywhere || in_banger_guest());
  else {
    sbuf msg;
    sb_init(&msg);
    sb_puts(&msg, "unknown method ");
    sb_json_str(&msg, m->str, m->len < 64 ? m->len : 64);
    sb_puts(&msg, "; known: health, ports, exec, exec_input, exec_signal, exec_resize, shutdown, stats, identity, quiesce");
    reply_error(ci, id, "unknown_method", msg.data);
    sb_free(&msg);
  }
out:
  free(id);
  json_free(req);
}

static int add_conn(enum conn_kind kind, int rfd, int wfd) {
  for (int i = 0; i < MAX_CONNS; i++) {
    if (conns[i].used) continue;
    unsigned gen = conns[i].gen + 1;
    memset(&conns[i], 0, sizeof conns[i]);
    conns[i].used = 1;
    conns[i].gen = gen;
    conns[i].kind = kind;
    conns[i].rfd = rfd;
    conns[i].wfd = wfd;
    conns[i].buf = malloc(MAX_REQUEST);
    if (!conns[i].buf) abort();
    set_nonblock(rfd);
    if (wfd != rfd) set_nonblock(wfd);
    return i;
  }
  return -1;
}

static void drop_conn(int i) {
  close(conns[i].rfd);
  if (conns[i].wfd != conns[i].rfd) close(conns[i].wfd);
  free(conns[i].buf);
  conns[i].buf = NULL;
  conns[i].used = 0;
}

/* Splits what arrived into lines; an over-long line gets one error and is skipped to its end. */
static void consume(int ci) {
  conn *c = &conns[ci];
  size_t start = 0;
  for (size_t i = 0; i < c->len; i++) {
    if (c->buf[i] != '\n') continue;
    if (c->discarding) c->discarding = 0;
    else handle_line(ci, c->buf + start, i - start);
    if (!conns[ci].used) return;
    start = i + 1;
  }
  memmove(c->buf, c->buf + start, c->len - start);
  c->len -= start;
  if (c->len == MAX_REQUEST) {
    if (!c->discarding) {
      char msg[128];
      snprintf(msg, sizeof msg, "request longer than %d bytes; skipped up to its newline", MAX_REQUEST);
      reply_error(ci, NULL, "too_large", msg);
    }
    c->discarding = 1;
    c->len = 0;
  }
}

/* Returns 0 when the stream ended (or, for serial, the host went away). */
static int read_conn(int ci) {
  conn *c = &conns[ci];
  for (;;) {
    ssize_t n = read(c->rfd, c->buf + c->len, MAX_REQUEST - c->len);
    if (n > 0) {
      c->away = 0; /* the host side is back: replies may go out again */
      c->len += (size_t)n;
      consume(ci);
      if (!conns[ci].used) return 0;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 1;
    return 0;
  }
}

/* The virtio-serial port named banger.agent, found through sysfs (no udev needed). */
static int open_serial(const char *path) {
  if (path) return open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
  DIR *d = opendir("/sys/class/virtio-ports");
  if (!d) return -1;
  struct dirent *e;
  int fd = -1;
  while ((e = readdir(d)) && fd < 0) {
    if (e->d_name[0] == '.') continue;
    char p[300], name[128];
    snprintf(p, sizeof p, "/sys/class/virtio-ports/%s/name", e->d_name);
    if (!read_small_file(p, name, sizeof name) || strcmp(name, SERIAL_PORT_NAME) != 0) continue;
    snprintf(p, sizeof p, "/dev/%s", e->d_name);
    fd = open(p, O_RDWR | O_CLOEXEC | O_NOCTTY);
  }
  closedir(d);
  return fd;
}

static int listen_vsock(unsigned port) {
  int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  struct sockaddr_vm_compat a;
  memset(&a, 0, sizeof a);
  a.svm_family = AF_VSOCK;
  a.svm_port = port;
  a.svm_cid = VMADDR_CID_ANY_COMPAT;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 16) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static void on_sigchld(int sig) {
  (void)sig;
  int saved = errno;
  if (write(sigchld_pipe[1], "x", 1) < 0) { /* the pipe is full: a wake-up is pending anyway */ }
  errno = saved;
}

static void usage(void) {
  fprintf(stderr,
          "usage: banger-agent [--stdio] [--serial PATH | --no-serial] [--vsock-port N | --no-vsock] [--proc DIR] [--identity-anywhere] [--version]\n"
          "Serves banger's guest agent protocol (version %d) on the virtio-serial port \"%s\" and on vsock port %d.\n",
          PROTOCOL_VERSION, SERIAL_PORT_NAME, AGENT_VSOCK_PORT);
}

int main(int argc, char **argv) {
  const char *serial_path = NULL;
  int want_serial = 1, want_vsock = 1;
  unsigned vsock_port = AGENT_VSOCK_PORT;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--stdio")) { stdio_mode = 1; want_serial = want_vsock = 0; }
    else if (!strcmp(argv[i], "--serial") && i + 1 < argc) serial_path = argv[++i];
    else if (!strcmp(argv[i], "--no-serial")) want_serial = 0;
    else if (!strcmp(argv[i], "--vsock-port") && i + 1 < argc) vsock_port = (unsigned)strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--no-vsock")) want_vsock = 0;
    else if (!strcmp(argv[i], "--proc") && i + 1 < argc) proc_root = argv[++i];
    else if (!strcmp(argv[i], "--identity-anywhere")) identity_anywhere = 1;
    else if (!strcmp(argv[i], "--version")) { printf("banger-agent %s (protocol %d)\n", AGENT_VERSION, PROTOCOL_VERSION); return 0; }
    else { usage(); return 2; }
  }
  signal(SIGPIPE, SIG_IGN);
  if (pipe2(sigchld_pipe, O_CLOEXEC | O_NONBLOCK) < 0) return 1;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigchld;
  sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigaction(SIGCHLD, &sa, NULL);

  int serial_ci = -1, vsock_fd = -1;
  long long serial_next_try = 0;
  if (stdio_mode) add_conn(CONN_STDIO, 0, 1);
  if (want_vsock) {
    vsock_fd = listen_vsock(vsock_port);
    if (vsock_fd < 0) logf_("vsock unavailable (%s); serving the serial port only", strerror(errno));
  }

  for (;;) {
    long long now = now_ms();
    if (want_serial && serial_ci < 0 && now >= serial_next_try) {
      int fd = open_serial(serial_path);
      if (fd >= 0 && (serial_ci = add_conn(CONN_SERIAL, fd, fd)) >= 0) send_hello(serial_ci);
      else serial_next_try = now + 200; /* the port appears once virtio-serial has probed */
    }
    struct pollfd pfd[1 + 1 + MAX_CONNS + 3 * MAX_EXECS];
    int owner[sizeof pfd / sizeof pfd[0]];
    int n = 0;
    long long wake = -1;
    pfd[n] = (struct pollfd){ sigchld_pipe[0], POLLIN, 0 }; owner[n++] = -1;
    if (vsock_fd >= 0) { pfd[n] = (struct pollfd){ vsock_fd, POLLIN, 0 }; owner[n++] = -2; }
    for (int i = 0; i < MAX_CONNS; i++) {
      if (!conns[i].used || conns[i].eof) continue;
      if (conns[i].away && now < conns[i].away_until_ms) {
        if (wake < 0 || conns[i].away_until_ms < wake) wake = conns[i].away_until_ms;
        continue;
      }
      pfd[n] = (struct pollfd){ conns[i].rfd, POLLIN, 0 }; owner[n++] = i;
    }
    n = exec_poll_fds(pfd, owner, n, &wake);
    if (want_serial && serial_ci < 0 && (wake < 0 || serial_next_try < wake)) wake = serial_next_try;
    int timeout = wake < 0 ? -1 : (int)(wake > now ? wake - now : 0);
    int ready = poll(pfd, (nfds_t)n, timeout);
    if (ready < 0 && errno != EINTR) return 1;
    now = now_ms();
    exec_check_deadlines(now);
    for (int k = 0; ready > 0 && k < n; k++) {
      if (!pfd[k].revents) continue;
      int o = owner[k];
      if (o == -1) {
        char drainbuf[64];
        while (read(sigchld_pipe[0], drainbuf, sizeof drainbuf) > 0) {}
      } else if (o == -2) {
        int cfd = accept4(vsock_fd, NULL, NULL, SOCK_CLOEXEC);
        if (cfd >= 0 && add_conn(CONN_VSOCK, cfd, cfd) < 0) close(cfd);
      } else if (o >= 0 && o < MAX_CONNS) {
        if (!conns[o].used) continue;
        if (!read_conn(o)) {
          if (conns[o].kind != CONN_STDIO) exec_conn_lost(o, conns[o].gen);
          if (conns[o].kind == CONN_SERIAL) {
            /* The host side is not connected: the port reports hang-up until it is. */
            conns[o].away = 1;
            conns[o].away_until_ms = now + SERIAL_RETRY_MS;
            conns[o].len = 0;
            conns[o].discarding = 0;
          } else if (conns[o].kind == CONN_STDIO) {
            /* The single stdio peer stopped sending: answer what runs, then exit (below). */
            conns[o].eof = 1;
          } else drop_conn(o);
        } else conns[o].away = 0;
      } else if (o >= EXEC_OWNER_BASE) {
        exec_on_ready(o);
      }
    }
    exec_reap();
    if (stdio_mode && conns[0].eof && !exec_busy()) return 0;
  }
}
