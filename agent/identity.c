/*
 * `identity` and `quiesce` (docs/reference/agent.md). A warm start restores every clone from
 * the same saved guest, so right after the restore the host sends `identity` to make the
 * clone its own machine: clock, kernel random state, hostname, machine-id, MAC/IP, files
 * (ssh host key, authorized_keys, ...), and an sshd that serves the new host key. `quiesce`
 * runs in the template before it is saved: sync and drop the page cache, so the saved memory
 * state is small.
 *
 * All params are checked before any step runs (bad_request, nothing changed). The steps then
 * run in a fixed order; the first that fails answers identity_failed naming it, and the later
 * ones do not run. The request is on the critical path of a warm start: apart from the bounded
 * sshd wait, everything here is a handful of system calls.
 */
#define _GNU_SOURCE
#include "identity.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "exec.h"
#include "idsteps.h"
#include "wfile.h"

#define MAX_FILES 64
#define MAX_FILES_BYTES (8u * 1024 * 1024)

static int whole(const jval *v, double lo, double hi, long long *out) {
  if (!v || v->type != J_NUM || v->num != (double)(long long)v->num || v->num < lo || v->num > hi) return 0;
  *out = (long long)v->num;
  return 1;
}

static int plain_str(const jval *v) { return v && v->type == J_STR && strlen(v->str) == v->len; }

static int parse_mac(const char *s, unsigned char mac[6]) {
  unsigned v[6];
  char tail;
  if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6) return 0;
  for (int i = 0; i < 17; i++)
    if (i % 3 == 2 ? s[i] != ':' : !strchr("0123456789abcdefABCDEF", s[i])) return 0;
  for (int i = 0; i < 6; i++) mac[i] = (unsigned char)v[i];
  if (mac[0] & 1) return 0; /* multicast */
  return mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5];
}

static int parse_cidr(const char *s, uint32_t *ip, int *prefix) {
  char buf[32];
  const char *slash = strchr(s, '/');
  if (!slash || slash - s >= (long)sizeof buf || !slash[1] || strlen(slash + 1) > 2) return 0;
  memcpy(buf, s, (size_t)(slash - s));
  buf[slash - s] = '\0';
  char *end;
  long p = strtol(slash + 1, &end, 10);
  if (*end || p < 1 || p > 32 || slash[1] < '0' || slash[1] > '9') return 0;
  *prefix = (int)p;
  return inet_pton(AF_INET, buf, ip) == 1 && *ip != 0;
}

static int dns_label(const jval *v) {
  if (!plain_str(v) || v->len < 1 || v->len > 63 || v->str[0] == '-' || v->str[v->len - 1] == '-') return 0;
  for (size_t i = 0; i < v->len; i++) {
    char c = v->str[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) return 0;
  }
  return 1;
}

static int machine_id_ok(const jval *v) {
  if (!plain_str(v) || v->len != 32) return 0;
  int nonzero = 0;
  for (size_t i = 0; i < 32; i++) {
    char c = v->str[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return 0;
    nonzero |= c != '0';
  }
  return nonzero;
}

static const char *parse_network(const jval *n, id_req *r) {
  if (n->type != J_OBJ) return "params.network must be an object {mac, ip_cidr, gateway}";
  const jval *mac = json_get(n, "mac"), *cidr = json_get(n, "ip_cidr"), *gw = json_get(n, "gateway");
  if (!plain_str(mac) || !parse_mac(mac->str, r->mac)) return "params.network.mac must be a unicast MAC like 52:54:00:12:34:56";
  if (!plain_str(cidr) || !parse_cidr(cidr->str, &r->ip, &r->prefix)) return "params.network.ip_cidr must be an IPv4 address with a prefix length, like 172.16.0.9/24";
  if (gw && gw->type != J_NULL && (!plain_str(gw) || inet_pton(AF_INET, gw->str, &r->gw) != 1 || r->gw == 0))
    return "params.network.gateway must be an IPv4 address";
  r->has_net = 1;
  return NULL;
}

static const char *parse_files(const jval *fs, id_req *r, char *msg, size_t msglen) {
  if (fs->type != J_ARR || fs->n > MAX_FILES) return "params.files must be an array of at most 64 {path, mode, content_b64}";
  r->files = calloc(fs->n ? fs->n : 1, sizeof *r->files);
  if (!r->files) abort();
  size_t total = 0;
  for (size_t i = 0; i < fs->n; i++) {
    const jval *f = fs->items[i], *path = json_get(f, "path"), *mode = json_get(f, "mode"), *c = json_get(f, "content_b64");
    id_file *out = &r->files[r->nfiles++];
    sb_init(&out->data);
    long long m = 0600;
    const char *why = f->type != J_OBJ ? "must be an object {path, mode, content_b64}"
                      : !path || path->type != J_STR ? "needs a path"
                      : wfile_path_problem(path->str, path->len);
    if (why) { snprintf(msg, msglen, "params.files[%zu].path %s", i, why); return msg; }
    if (mode && !whole(mode, 0, 07777, &m)) { snprintf(msg, msglen, "params.files[%zu].mode must be a permission number (0-4095, e.g. 384 for 0600)", i); return msg; }
    if (!c || c->type != J_STR || !base64_decode(&out->data, c->str, c->len)) { snprintf(msg, msglen, "params.files[%zu].content_b64 must be base64", i); return msg; }
    out->path = path->str;
    out->mode = (unsigned)m;
    total += out->data.len;
    if (total > MAX_FILES_BYTES) { snprintf(msg, msglen, "params.files hold more than %u bytes in all", MAX_FILES_BYTES); return msg; }
  }
  return NULL;
}

/* NULL when params are usable (filled into r); else the problem, for bad_request. */
static const char *parse_identity(const jval *p, id_req *r, char *msg, size_t msglen) {
  const jval *v;
  if (!p || p->type != J_OBJ) return NULL;
  if ((v = json_get(p, "clock_unix_ms")) && v->type != J_NULL) {
    if (!whole(v, 1, 1e15, &r->clock_ms)) return "params.clock_unix_ms must be a positive whole number of milliseconds since 1970";
    r->has_clock = 1;
  }
  if ((v = json_get(p, "entropy_b64")) && v->type != J_NULL) {
    if (v->type != J_STR || !base64_decode(&r->entropy, v->str, v->len) || r->entropy.len < 32 || r->entropy.len > 512)
      return "params.entropy_b64 must be base64 of 32 to 512 bytes";
    r->has_entropy = 1;
  }
  if ((v = json_get(p, "hostname")) && v->type != J_NULL) {
    if (!dns_label(v)) return "params.hostname must be a DNS label (1-63 letters, digits and '-', not starting or ending with '-')";
    r->hostname = v->str;
  }
  if ((v = json_get(p, "machine_id")) && v->type != J_NULL) {
    if (!machine_id_ok(v)) return "params.machine_id must be 32 lowercase hex digits, not all zero";
    r->machine_id = v->str;
  }
  const char *why;
  if ((v = json_get(p, "network")) && v->type != J_NULL && (why = parse_network(v, r))) return why;
  if ((v = json_get(p, "files")) && v->type != J_NULL && (why = parse_files(v, r, msg, msglen))) return why;
  if ((v = json_get(p, "sshd_reload")) && v->type != J_NULL) {
    if (v->type != J_BOOL) return "params.sshd_reload must be a boolean";
    r->sshd_reload = v->boolean;
  }
  return NULL;
}

static void free_req(id_req *r) {
  sb_free(&r->entropy);
  for (size_t i = 0; i < r->nfiles; i++) sb_free(&r->files[i].data);
  free(r->files);
}

void do_identity(int ci, const char *id, const jval *params, const char *proc_root, int permitted) {
  unsigned gen = conn_gen(ci);
  id_req r;
  memset(&r, 0, sizeof r);
  sb_init(&r.entropy);
  char msg[256];
  const char *bad = parse_identity(params, &r, msg, sizeof msg);
  if (bad) {
    reply_error(ci, id, "bad_request", bad);
    free_req(&r);
    return;
  }
  if (!permitted) {
    reply_error(ci, id, "unsupported", "not a banger guest (no banger.root= on the kernel command line); refusing to change this machine's identity");
    free_req(&r);
    return;
  }
  id_ctx cx;
  memset(&cx, 0, sizeof cx);
  cx.proc_root = proc_root;
  sb_init(&cx.done);
  sb_init(&cx.notes);
  if (identity_run(&r, &cx) < 0) {
    reply_error(ci, id, "identity_failed", cx.err);
  } else {
    sbuf out;
    sb_init(&out);
    sb_printf(&out, "{\"done\":[%s],\"notes\":[%s]}", cx.done.data ? cx.done.data : "", cx.notes.data ? cx.notes.data : "");
    reply_ok(ci, gen, id, out.data);
    sb_free(&out);
  }
  sb_free(&cx.done);
  sb_free(&cx.notes);
  free_req(&r);
}

void do_quiesce(int ci, const char *id, const char *proc_root, int permitted) {
  if (!permitted) {
    reply_error(ci, id, "unsupported", "not a banger guest (no banger.root= on the kernel command line); refusing to drop this machine's caches");
    return;
  }
  sync();
  char path[300], msg[400];
  snprintf(path, sizeof path, "%s/sys/vm/drop_caches", proc_root);
  int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0 || write(fd, "3\n", 2) != 2) {
    snprintf(msg, sizeof msg, "write 3 to %s: %s", path, strerror(errno));
    if (fd >= 0) close(fd);
    reply_error(ci, id, "quiesce_failed", msg);
    return;
  }
  close(fd);
  reply_ok(ci, conn_gen(ci), id, "{}");
}
