/*
 * banger-agent's commands (docs/reference/agent.md, "exec").
 *
 * Buffered (the original form): the answer carries stdout and stderr, each capped.
 * Streamed (`"stream": true`): the agent sends event lines with the request's id as things
 * happen, then the one answer with the status (stdout and stderr empty):
 *   {"v":1,"id":<id>,"event":"started","pid":<n>}
 *   {"v":1,"id":<id>,"event":"stdout"|"stderr","data":"<base64>"}
 * With `"stdin_open": true` the command's stdin stays open for `exec_input`
 * ({"job":<id>,"data":"<base64>","eof":bool}); `exec_signal` ({"job":<id>,"signal":n})
 * signals the command's process group. A streamed command whose connection goes away is
 * killed: its output has nowhere to go.
 */
#define _GNU_SOURCE
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "agent.h"
#include "pty.h"

#define DEFAULT_OUTPUT_CAP (1024 * 1024)
#define MAX_OUTPUT_CAP (16 * 1024 * 1024)
/* Bytes of stdin a streamed command may have pending before exec_input is refused. */
#define MAX_PENDING_STDIN (8 * 1024 * 1024)
/* Chunks read from one pipe per poll round, so one chatty command does not starve the rest. */
#define STREAM_CHUNKS_PER_ROUND 4

typedef struct {
  int used;
  int conn;
  unsigned gen;
  char *id; /* the request id's JSON text */
  pid_t pid;
  int stream;
  int out_fd, err_fd, in_fd;
  int pty_fd; /* tty: the master, kept for exec_resize and exec_signal (out_fd/in_fd are its dups) */
  sbuf out, err, in;
  size_t in_off;
  int in_eof; /* no more stdin will come: close the pipe once the buffer is written */
  size_t cap;
  int out_trunc, err_trunc;
  long long started_ms, deadline_ms;
  int status, timed_out;
} exec_job;

static exec_job jobs[MAX_EXECS];

static int json_int(const jval *v, long long lo, long long hi, long long *out) {
  if (!v || v->type != J_NUM || v->num != (double)(long long)v->num || v->num < (double)lo || v->num > (double)hi) return 0;
  *out = (long long)v->num;
  return 1;
}

static void sb_base64(sbuf *b, const unsigned char *s, size_t n) {
  static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  char q[4];
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0) | (i + 2 < n ? s[i + 2] : 0);
    q[0] = tbl[v >> 18 & 63];
    q[1] = tbl[v >> 12 & 63];
    q[2] = i + 1 < n ? tbl[v >> 6 & 63] : '=';
    q[3] = i + 2 < n ? tbl[v & 63] : '=';
    sb_putn(b, q, 4);
  }
}

static int b64val(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

/* Appends the decoded bytes of base64 text to b; 0 when the text is not base64. */
static int base64_append(sbuf *b, const char *s, size_t n);

/* Appends the decoded bytes to b; on bad input appends nothing and returns 0. */
int base64_decode(sbuf *b, const char *s, size_t n) {
  size_t start = b->len;
  int ok = base64_append(b, s, n);
  if (!ok) b->len = start;
  return ok;
}

static int base64_append(sbuf *b, const char *s, size_t n) {
  unsigned acc = 0;
  int bits = 0;
  size_t i = 0;
  for (; i < n && s[i] != '='; i++) {
    int v = b64val(s[i]);
    if (v < 0) return 0;
    acc = acc << 6 | (unsigned)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      char c = (char)(acc >> bits & 0xff);
      sb_putn(b, &c, 1);
    }
  }
  for (; i < n; i++)
    if (s[i] != '=') return 0;
  return 1;
}

static int free_job_slot(void) {
  for (int i = 0; i < MAX_EXECS; i++)
    if (!jobs[i].used) return i;
  return -1;
}

typedef struct {
  char **argv, **envp;
  const char *path; /* the program: argv[0], looked up in PATH; or the default shell */
  const char *cwd;
  long long timeout, cap;
  const jval *stdin_v;
  int stream, stdin_open;
  int tty;
  long long rows, cols;
  char term[64];
  char shell[512], shell_argv0[64];
} exec_plan_t;

static const char *check_env(const jval *env) {
  if (env && env->type != J_OBJ) return "params.env must be an object of strings";
  if (env)
    for (size_t i = 0; i < env->n; i++)
      if (env->items[i]->type != J_STR || strlen(env->items[i]->str) != env->items[i]->len || !env->keys[i][0] || strchr(env->keys[i], '=')) return "params.env must map names (without '=') to strings";
  return NULL;
}

static int flag(const jval *params, const char *key, int *out, const char **problem, const char *msg) {
  const jval *v = json_get(params, key);
  *out = 0;
  if (!v) return 1;
  if (v->type != J_BOOL) { *problem = msg; return 0; }
  *out = v->boolean;
  return 1;
}

static void build_env(exec_plan_t *p, const jval *env) {
  static const char *const base_env[] = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "USER=root", "LOGNAME=root", "LANG=C.UTF-8" };
  size_t nbase = sizeof base_env / sizeof base_env[0], nenv = env ? env->n : 0;
  char **envp = calloc(nbase + nenv + 2, sizeof *envp);
  if (!envp) abort();
  size_t k = 0;
  for (size_t i = 0; i < nbase; i++) {
    size_t nl = strcspn(base_env[i], "=");
    int overridden = 0;
    for (size_t j = 0; j < nenv; j++)
      if (strlen(env->keys[j]) == nl && strncmp(env->keys[j], base_env[i], nl) == 0) overridden = 1;
    if (!overridden) envp[k++] = strdup(base_env[i]);
  }
  for (size_t j = 0; j < nenv; j++) {
    sbuf kv;
    sb_init(&kv);
    sb_printf(&kv, "%s=%s", env->keys[j], env->items[j]->str);
    envp[k++] = kv.data;
  }
  int has_term = 0;
  for (size_t j = 0; j < nenv; j++) has_term |= strcmp(env->keys[j], "TERM") == 0;
  if (p->tty && !has_term) {
    sbuf kv;
    sb_init(&kv);
    sb_printf(&kv, "TERM=%s", p->term);
    envp[k++] = kv.data;
  }
  p->envp = envp;
}

/* params.tty {rows, cols, term?}: a terminal session (needs stream; its stdin is open). */
static const char *tty_plan(const jval *params, exec_plan_t *p) {
  const jval *t = json_get(params, "tty");
  if (!t || t->type == J_NULL) return NULL;
  if (t->type != J_OBJ) return "params.tty must be an object {rows, cols, term?}";
  if (!json_int(json_get(t, "rows"), 1, 10000, &p->rows) || !json_int(json_get(t, "cols"), 1, 10000, &p->cols))
    return "params.tty.rows and params.tty.cols must be whole numbers from 1 to 10000";
  const jval *term = json_get(t, "term");
  if (term && (term->type != J_STR || term->len == 0 || term->len >= sizeof p->term || strlen(term->str) != term->len))
    return "params.tty.term must be a terminal name (e.g. xterm-256color)";
  snprintf(p->term, sizeof p->term, "%s", term ? term->str : "xterm");
  if (!p->stream) return "params.tty needs params.stream (a terminal session is streamed)";
  p->tty = 1;
  p->stdin_open = 1;
  return NULL;
}

/* The cwd: params.cwd, else /root, else / (an image without /root and no work disk). */
static const char *default_cwd(void) {
  struct stat st;
  return stat("/root", &st) == 0 && S_ISDIR(st.st_mode) ? "/root" : "/";
}

/* argv, or (a terminal session without one) the guest's default shell. */
static const char *argv_plan(const jval *argv, exec_plan_t *p) {
  if (p->tty && (!argv || (argv->type == J_ARR && argv->n == 0))) {
    if (!pty_default_shell(p->shell, sizeof p->shell, p->shell_argv0, sizeof p->shell_argv0))
      return NULL; /* do_exec answers exec_failed: nothing to run */
    p->argv = calloc(2, sizeof *p->argv);
    if (!p->argv) abort();
    p->argv[0] = p->shell_argv0;
    p->path = p->shell;
    return NULL;
  }
  if (!argv || argv->type != J_ARR || argv->n == 0 || argv->n > 4096) return "params.argv must be a non-empty array of strings";
  for (size_t i = 0; i < argv->n; i++)
    if (argv->items[i]->type != J_STR || strlen(argv->items[i]->str) != argv->items[i]->len) return "params.argv must hold strings without NUL bytes";
  p->argv = calloc(argv->n + 1, sizeof *p->argv);
  if (!p->argv) abort();
  for (size_t i = 0; i < argv->n; i++) p->argv[i] = argv->items[i]->str;
  p->path = p->argv[0];
  return NULL;
}

/* Validates exec params; fills the plan (argv pointing into params). Returns an error message or NULL. */
static const char *exec_plan(const jval *params, exec_plan_t *p) {
  const char *problem = NULL;
  const jval *env = json_get(params, "env");
  if ((problem = check_env(env))) return problem;
  const jval *c = json_get(params, "cwd");
  if (c && (c->type != J_STR || strlen(c->str) != c->len || c->str[0] != '/')) return "params.cwd must be an absolute path";
  p->cwd = c ? c->str : default_cwd();
  const jval *t = json_get(params, "timeout_ms");
  p->timeout = 0;
  if (t && !json_int(t, 0, 86400000LL, &p->timeout)) return "params.timeout_ms must be a whole number of milliseconds (0 = none)";
  const jval *m = json_get(params, "max_output");
  p->cap = DEFAULT_OUTPUT_CAP;
  if (m && !json_int(m, 0, MAX_OUTPUT_CAP, &p->cap)) return "params.max_output must be a byte count up to 16 MiB";
  p->stdin_v = json_get(params, "stdin");
  if (p->stdin_v && p->stdin_v->type != J_STR) return "params.stdin must be a string";
  if (!flag(params, "stream", &p->stream, &problem, "params.stream must be true or false")) return problem;
  if (!flag(params, "stdin_open", &p->stdin_open, &problem, "params.stdin_open must be true or false")) return problem;
  if (p->stdin_open && !p->stream) return "params.stdin_open needs params.stream (exec_input feeds a streamed command)";
  if ((problem = tty_plan(params, p))) return problem;
  if ((problem = argv_plan(json_get(params, "argv"), p))) return problem;
  build_env(p, env);
  return NULL;
}

static void free_plan(exec_plan_t *p) {
  for (char **e = p->envp; e && *e; e++) free(*e);
  free(p->envp);
  free(p->argv);
}

/* In the child: its own session (with the pty as its terminal), the pipes as 0/1/2, then exec; on failure the reason goes up failp. */
static void child_exec(const exec_plan_t *p, int in, int out, int err, int failp) {
  setsid();
  if (p->tty) ioctl(in, TIOCSCTTY, 0);
  signal(SIGPIPE, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  dup2(in, 0);
  dup2(out, 1);
  dup2(err, 2);
  if (p->tty && in > 2) close(in); /* the slave, now 0, 1 and 2 */
  char step = 'c';
  if (chdir(p->cwd) == 0) {
    step = 'e';
    execvpe(p->path, p->argv, p->envp);
  }
  /* Tell the parent why (the pipe closes silently on a successful exec). */
  char msg[16];
  int n = snprintf(msg, sizeof msg, "%c%d", step, errno);
  if (write(failp, msg, (size_t)n) < 0) { /* nothing more to do */ }
  _exit(127);
}

/*
 * The child's stdin/stdout/stderr (child[]) and the agent's ends (fds[]: stdin to write,
 * stdout to read, stderr to read, the pty master; -1 where there is none). A terminal
 * session has the pty's slave as all three and the master (duplicated) as every agent end.
 * 0 on success, else errno.
 */
static int open_stdio(const exec_plan_t *p, int child[3], int fds[4]) {
  if (p->tty) {
    int master, slave, e = pty_open(&master, &slave, (int)p->rows, (int)p->cols);
    if (e) return e;
    child[0] = child[1] = child[2] = slave;
    fds[0] = fcntl(master, F_DUPFD_CLOEXEC, 0);
    fds[1] = master;
    fds[2] = -1;
    fds[3] = fcntl(master, F_DUPFD_CLOEXEC, 0);
    return 0;
  }
  int pipes[3][2];
  for (int k = 0; k < 3; k++) {
    if (pipe2(pipes[k], O_CLOEXEC) < 0) {
      int e = errno;
      for (int m = 0; m < k; m++) { close(pipes[m][0]); close(pipes[m][1]); }
      return e;
    }
  }
  child[0] = pipes[0][0]; fds[0] = pipes[0][1];
  child[1] = pipes[1][1]; fds[1] = pipes[1][0];
  child[2] = pipes[2][1]; fds[2] = pipes[2][0];
  fds[3] = -1;
  return 0;
}

static void close_child_ends(int child[3]) {
  close(child[0]);
  if (child[1] != child[0]) close(child[1]);
  if (child[2] != child[0] && child[2] != child[1]) close(child[2]);
}

/* Forks the command; returns its pid, or -1 with the reason in msg. */
static pid_t spawn_job(const exec_plan_t *p, int fds[4], char *msg, size_t msglen) {
  int child[3], failp[2], e;
  if ((e = open_stdio(p, child, fds))) { snprintf(msg, msglen, "%s", strerror(e)); return -1; }
  if (pipe2(failp, O_CLOEXEC) < 0) {
    snprintf(msg, msglen, "%s", strerror(errno));
    close_child_ends(child);
    for (int k = 0; k < 4; k++) if (fds[k] >= 0) close(fds[k]);
    return -1;
  }
  pid_t pid = fork();
  if (pid == 0) child_exec(p, child[0], child[1], child[2], failp[1]);
  close_child_ends(child);
  close(failp[1]);
  char why[16] = "";
  ssize_t wn;
  do wn = read(failp[0], why, sizeof why - 1); while (wn < 0 && errno == EINTR);
  close(failp[0]);
  if (pid < 0 || wn > 0) {
    if (pid < 0) snprintf(msg, msglen, "fork: %s", strerror(errno));
    else {
      why[wn] = '\0';
      int err = atoi(why + 1);
      if (why[0] == 'c') snprintf(msg, msglen, "cannot change to %s: %s", p->cwd, strerror(err));
      else snprintf(msg, msglen, "cannot run %s: %s", p->path, strerror(err));
      waitpid(pid, NULL, 0);
    }
    for (int k = 0; k < 4; k++) if (fds[k] >= 0) close(fds[k]);
    return -1;
  }
  return pid;
}

static void send_event(exec_job *j, const char *event, const char *data, size_t n) {
  sbuf b;
  sb_init(&b);
  sb_printf(&b, "{\"v\":%d,\"id\":%s,\"event\":\"%s\",", PROTOCOL_VERSION, j->id, event);
  if (data) {
    sb_puts(&b, "\"data\":\"");
    sb_base64(&b, (const unsigned char *)data, n);
    sb_puts(&b, "\"}");
  } else sb_printf(&b, "\"pid\":%d}", (int)j->pid);
  send_line(j->conn, j->gen, &b);
  sb_free(&b);
}

void do_exec(int ci, const char *id, const jval *params) {
  exec_plan_t p;
  memset(&p, 0, sizeof p);
  if (!params || params->type != J_OBJ) { reply_error(ci, id, "bad_request", "exec needs params {argv, env?, cwd?, stdin?, timeout_ms?, max_output?, stream?, stdin_open?, tty?}"); return; }
  const char *problem = exec_plan(params, &p);
  if (problem) { reply_error(ci, id, "bad_request", problem); return; }
  if (!p.path) { free_plan(&p); reply_error(ci, id, "exec_failed", "cannot run a shell: the guest has no root login shell in /etc/passwd, no /bin/sh and no /bin/busybox; give the command to run"); return; }
  int slot = free_job_slot();
  if (slot < 0) { free_plan(&p); reply_error(ci, id, "busy", "too many commands running; retry when one finishes"); return; }
  int fds[4];
  char msg[512];
  pid_t pid = spawn_job(&p, fds, msg, sizeof msg);
  if (pid < 0) { free_plan(&p); reply_error(ci, id, "exec_failed", msg); return; }
  exec_job *j = &jobs[slot];
  memset(j, 0, sizeof *j);
  j->used = 1;
  j->conn = ci;
  j->gen = conn_gen(ci);
  j->id = strdup(id);
  j->pid = pid;
  j->stream = p.stream;
  j->out_fd = fds[1];
  j->err_fd = fds[2];
  j->in_fd = fds[0];
  j->pty_fd = fds[3];
  set_nonblock(j->out_fd);
  if (j->err_fd >= 0) set_nonblock(j->err_fd);
  set_nonblock(j->in_fd);
  sb_init(&j->out);
  sb_init(&j->err);
  sb_init(&j->in);
  if (p.stdin_v && p.stdin_v->len) sb_putn(&j->in, p.stdin_v->str, p.stdin_v->len);
  j->in_eof = !p.stdin_open;
  if (j->in_eof && j->in.len == 0) { close(j->in_fd); j->in_fd = -1; }
  j->cap = (size_t)p.cap;
  j->started_ms = now_ms();
  j->deadline_ms = p.timeout ? j->started_ms + p.timeout : 0;
  free_plan(&p);
  if (j->stream) send_event(j, "started", NULL, 0);
}

/* The job a request's "job" names: the running command started by that request id on this connection. */
static exec_job *find_job(int ci, const jval *params) {
  const jval *job = params ? json_get(params, "job") : NULL;
  if (!job) return NULL;
  sbuf key;
  sb_init(&key);
  if (job->type == J_STR) sb_json_str(&key, job->str, job->len);
  else if (job->type == J_NUM && job->num == (double)(long long)job->num) sb_printf(&key, "%lld", (long long)job->num);
  else { sb_free(&key); return NULL; }
  exec_job *found = NULL;
  for (int i = 0; i < MAX_EXECS && !found; i++)
    if (jobs[i].used && jobs[i].conn == ci && jobs[i].gen == conn_gen(ci) && strcmp(jobs[i].id, key.data) == 0) found = &jobs[i];
  sb_free(&key);
  return found;
}

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

void do_exec_input(int ci, const char *id, const jval *params) {
  exec_job *j = find_job(ci, params);
  if (!j || !j->stream) { reply_error(ci, id, "not_found", "no streamed command with that job id runs on this connection"); return; }
  const jval *data = json_get(params, "data"), *eof = json_get(params, "eof");
  if ((data && data->type != J_STR) || (eof && eof->type != J_BOOL)) { reply_error(ci, id, "bad_request", "exec_input needs params {job, data? (base64), eof? (bool)}"); return; }
  int closed = j->in_fd < 0;
  if (data && !closed) {
    if (j->in.len - j->in_off + data->len > MAX_PENDING_STDIN) { reply_error(ci, id, "busy", "the command has not read its pending stdin yet; send again later"); return; }
    if (!base64_decode(&j->in, data->str, data->len)) { reply_error(ci, id, "bad_request", "params.data must be base64"); return; }
  }
  if (eof && eof->boolean) j->in_eof = 1;
  if (j->in_fd >= 0 && j->in_eof && j->in_off >= j->in.len) close_fd(&j->in_fd);
  char r[96];
  snprintf(r, sizeof r, "{\"buffered\":%zu,\"closed\":%s}", closed ? 0 : j->in.len - j->in_off, closed ? "true" : "false");
  reply_ok(ci, conn_gen(ci), id, r);
}

void do_exec_signal(int ci, const char *id, const jval *params) {
  exec_job *j = find_job(ci, params);
  long long sig;
  if (!j) { reply_error(ci, id, "not_found", "no command with that job id runs on this connection"); return; }
  if (!json_int(json_get(params, "signal"), 1, 64, &sig)) { reply_error(ci, id, "bad_request", "params.signal must be a signal number (1-64)"); return; }
  /* A terminal session's signal goes where Ctrl-C would: the terminal's foreground process group. */
  pid_t pgrp = j->pty_fd >= 0 ? tcgetpgrp(j->pty_fd) : -1;
  int sent = kill(pgrp > 0 ? -pgrp : -j->pid, (int)sig) == 0;
  reply_ok(ci, conn_gen(ci), id, sent ? "{\"sent\":true}" : "{\"sent\":false}");
}

void do_exec_resize(int ci, const char *id, const jval *params) {
  exec_job *j = find_job(ci, params);
  long long rows, cols;
  if (!j || j->pty_fd < 0) { reply_error(ci, id, "not_found", "no terminal session with that job id runs on this connection"); return; }
  if (!json_int(json_get(params, "rows"), 1, 10000, &rows) || !json_int(json_get(params, "cols"), 1, 10000, &cols)) { reply_error(ci, id, "bad_request", "exec_resize needs params {job, rows, cols} (1-10000)"); return; }
  int ok = pty_resize(j->pty_fd, (int)rows, (int)cols) == 0;
  reply_ok(ci, conn_gen(ci), id, ok ? "{\"resized\":true}" : "{\"resized\":false}");
}

/*
 * Reads what is available from one output pipe: kept (at most cap bytes) or sent as events.
 * Returns 0 on EOF, 1 when the pipe is empty for now, 2 when a streamed job's share of this round is used up.
 */
static int drain(exec_job *j, int *fd, sbuf *b, int *trunc, const char *event) {
  char chunk[65536];
  for (int round = 0; !j->stream || round < STREAM_CHUNKS_PER_ROUND; round++) {
    ssize_t n = read(*fd, chunk, sizeof chunk);
    if (n > 0) {
      if (j->stream) { send_event(j, event, chunk, (size_t)n); continue; }
      size_t keep = b->len < j->cap ? j->cap - b->len : 0;
      if ((size_t)n > keep) *trunc = 1;
      sb_putn(b, chunk, (size_t)n < keep ? (size_t)n : keep);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 1;
    close(*fd);
    *fd = -1;
    return 0;
  }
  return 2;
}

/* All that a pipe still holds (the command is done; a background child may keep it open). */
static void drain_rest(exec_job *j, int *fd, sbuf *b, int *trunc, const char *event) {
  /* Bounded: a background child that writes without end must not hold the answer back forever. */
  for (int rounds = 0; *fd >= 0 && rounds < 256 && drain(j, fd, b, trunc, event) == 2; rounds++) {}
}

static void finish_job(exec_job *j) {
  drain_rest(j, &j->out_fd, &j->out, &j->out_trunc, "stdout");
  drain_rest(j, &j->err_fd, &j->err, &j->err_trunc, "stderr");
  close_fd(&j->out_fd);
  close_fd(&j->err_fd);
  close_fd(&j->in_fd);
  close_fd(&j->pty_fd);
  sbuf r;
  sb_init(&r);
  int code = WIFEXITED(j->status) ? WEXITSTATUS(j->status) : -1;
  int sig = WIFSIGNALED(j->status) ? WTERMSIG(j->status) : 0;
  sb_printf(&r, "{\"exit_code\":%d,\"signal\":%d,\"timed_out\":%s,\"duration_ms\":%lld,\"stdout\":", code, sig, j->timed_out ? "true" : "false", now_ms() - j->started_ms);
  sb_json_str(&r, j->out.data ? j->out.data : "", j->out.len);
  sb_puts(&r, ",\"stderr\":");
  sb_json_str(&r, j->err.data ? j->err.data : "", j->err.len);
  sb_printf(&r, ",\"stdout_truncated\":%s,\"stderr_truncated\":%s}", j->out_trunc ? "true" : "false", j->err_trunc ? "true" : "false");
  reply_ok(j->conn, j->gen, j->id, r.data);
  sb_free(&r);
  sb_free(&j->out);
  sb_free(&j->err);
  sb_free(&j->in);
  free(j->id);
  j->used = 0;
}

void exec_reap(void) {
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    for (int i = 0; i < MAX_EXECS; i++)
      if (jobs[i].used && jobs[i].pid == pid) {
        jobs[i].status = status;
        finish_job(&jobs[i]);
      }
  }
}

int exec_poll_fds(struct pollfd *pfd, int *owner, int n, long long *wake) {
  for (int i = 0; i < MAX_EXECS; i++) {
    exec_job *j = &jobs[i];
    if (!j->used) continue;
    if (j->out_fd >= 0) { pfd[n] = (struct pollfd){ j->out_fd, POLLIN, 0 }; owner[n++] = EXEC_OWNER_BASE + i; }
    if (j->err_fd >= 0) { pfd[n] = (struct pollfd){ j->err_fd, POLLIN, 0 }; owner[n++] = 2 * EXEC_OWNER_BASE + i; }
    if (j->in_fd >= 0 && j->in_off < j->in.len) { pfd[n] = (struct pollfd){ j->in_fd, POLLOUT, 0 }; owner[n++] = 3 * EXEC_OWNER_BASE + i; }
    if (j->deadline_ms && !j->timed_out && (*wake < 0 || j->deadline_ms < *wake)) *wake = j->deadline_ms;
  }
  return n;
}

static void feed_stdin(exec_job *j) {
  ssize_t w = write(j->in_fd, j->in.data + j->in_off, j->in.len - j->in_off);
  if (w > 0) j->in_off += (size_t)w;
  if (w < 0 && errno != EAGAIN && errno != EINTR) { close_fd(&j->in_fd); return; } /* the command closed its stdin */
  if (j->in_off >= j->in.len) {
    j->in.len = j->in_off = 0;
    if (j->in_eof) close_fd(&j->in_fd);
  }
}

void exec_on_ready(int o) {
  exec_job *j = &jobs[o % EXEC_OWNER_BASE];
  if (!j->used) return;
  if (o < 2 * EXEC_OWNER_BASE) { if (j->out_fd >= 0) drain(j, &j->out_fd, &j->out, &j->out_trunc, "stdout"); }
  else if (o < 3 * EXEC_OWNER_BASE) { if (j->err_fd >= 0) drain(j, &j->err_fd, &j->err, &j->err_trunc, "stderr"); }
  else if (j->in_fd >= 0) feed_stdin(j);
}

void exec_check_deadlines(long long now) {
  for (int i = 0; i < MAX_EXECS; i++) {
    exec_job *j = &jobs[i];
    if (j->used && j->deadline_ms && !j->timed_out && now >= j->deadline_ms) {
      j->timed_out = 1;
      kill(-j->pid, SIGKILL);
    }
  }
}

int exec_busy(void) {
  for (int i = 0; i < MAX_EXECS; i++)
    if (jobs[i].used) return 1;
  return 0;
}

void exec_conn_lost(int ci, unsigned gen) {
  for (int i = 0; i < MAX_EXECS; i++)
    if (jobs[i].used && jobs[i].stream && jobs[i].conn == ci && jobs[i].gen == gen) kill(-jobs[i].pid, SIGKILL);
}
