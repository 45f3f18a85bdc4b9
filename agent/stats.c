/*
 * Guest statistics for `banger vm stats` and the daemon's idle check: memory from
 * /proc/meminfo, uptime, load, and the ESTABLISHED TCP connections into the guest. A
 * connection counts as inbound when its local port is one the guest listens on (state 0A
 * in /proc/net/tcp or tcp6) and its peer is not the guest's own loopback (a local client of
 * a local database is the guest talking to itself); an ssh session is one of them.
 */
#define _GNU_SOURCE
#include "stats.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TCP_ESTABLISHED 0x01u
#define TCP_LISTEN 0x0Au
/* Distinct inbound ports reported by name; the count covers them all. */
#define MAX_REPORTED_PORTS 32

/* The value in kB of one /proc/meminfo line, or -1 when the key is absent. */
static long long meminfo_kb(const char *proc, const char *key) {
  char path[300], line[256];
  snprintf(path, sizeof path, "%s/meminfo", proc);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  size_t klen = strlen(key);
  long long v = -1;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
      v = strtoll(line + klen + 1, NULL, 10);
      break;
    }
  }
  fclose(f);
  return v;
}

/* The first `n` numbers of a one-line /proc file (uptime, loadavg); the rest stay 0. */
static void read_numbers(const char *proc, const char *name, double *vals, int n) {
  char path[300], line[256];
  for (int i = 0; i < n; i++) vals[i] = 0;
  snprintf(path, sizeof path, "%s/%s", proc, name);
  FILE *f = fopen(path, "r");
  if (!f) return;
  if (fgets(line, sizeof line, f)) {
    char *p = line;
    for (int i = 0; i < n; i++) {
      char *end;
      vals[i] = strtod(p, &end);
      if (end == p) break;
      p = end;
    }
  }
  fclose(f);
}

/*
 * Whether a /proc/net/tcp{,6} address (hex words in host byte order) is loopback: 127.0.0.0/8,
 * ::1, or 127.0.0.0/8 mapped into IPv6.
 */
static int is_loopback(const char *hex, int v6) {
  size_t len = strlen(hex);
  if (!v6) {
    if (len != 8) return 0;
    struct in_addr a;
    a.s_addr = (uint32_t)strtoul(hex, NULL, 16);
    return ((const unsigned char *)&a.s_addr)[0] == 127;
  }
  if (len != 32) return 0;
  unsigned char b[16];
  for (int i = 0; i < 4; i++) {
    char word[9];
    memcpy(word, hex + i * 8, 8);
    word[8] = '\0';
    uint32_t w = (uint32_t)strtoul(word, NULL, 16);
    memcpy(&b[i * 4], &w, 4);
  }
  static const unsigned char loop6[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
  static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
  return memcmp(b, loop6, 16) == 0 || (memcmp(b, mapped, 12) == 0 && b[12] == 127);
}

typedef struct {
  unsigned ports[1024];
  size_t n;
} port_set;

static int port_set_has(const port_set *s, unsigned port) {
  for (size_t i = 0; i < s->n; i++)
    if (s->ports[i] == port) return 1;
  return 0;
}

static void port_set_add(port_set *s, unsigned port) {
  if (!port_set_has(s, port) && s->n < sizeof s->ports / sizeof s->ports[0]) s->ports[s->n++] = port;
}

/*
 * Walks /proc/net/<table>: with `count` NULL, adds every listening port to `listening`;
 * otherwise counts ESTABLISHED sockets whose local port is in `listening` and whose peer is
 * not loopback (and notes the port).
 */
static void scan_tcp(const char *proc, const char *table, port_set *listening, long long *count, port_set *seen) {
  int v6 = strcmp(table, "tcp6") == 0;
  char path[300], line[512];
  snprintf(path, sizeof path, "%s/net/%s", proc, table);
  FILE *f = fopen(path, "r");
  if (!f) return;
  if (!fgets(line, sizeof line, f)) { fclose(f); return; } /* header */
  while (fgets(line, sizeof line, f)) {
    char local[64], remote[64];
    unsigned state;
    /* sl local_address rem_address st ... */
    if (sscanf(line, " %*d: %63[0-9A-Fa-f:] %63[0-9A-Fa-f:] %x", local, remote, &state) != 3) continue;
    char *colon = strrchr(local, ':');
    char *rcolon = strrchr(remote, ':');
    if (!colon || !rcolon) continue;
    *rcolon = '\0';
    unsigned port = (unsigned)strtoul(colon + 1, NULL, 16);
    if (!count) {
      if (state == TCP_LISTEN) port_set_add(listening, port);
    } else if (state == TCP_ESTABLISHED && port_set_has(listening, port) && !is_loopback(remote, v6)) {
      (*count)++;
      port_set_add(seen, port);
    }
  }
  fclose(f);
}

void stats_json(const char *proc, sbuf *out) {
  long long total = meminfo_kb(proc, "MemTotal");
  long long avail = meminfo_kb(proc, "MemAvailable");
  if (avail < 0) avail = meminfo_kb(proc, "MemFree"); /* kernels before 3.14 */
  if (total < 0) total = 0;
  if (avail < 0) avail = 0;
  double uptime[1], load[3];
  read_numbers(proc, "uptime", uptime, 1);
  read_numbers(proc, "loadavg", load, 3);

  static port_set listening, seen;
  listening.n = seen.n = 0;
  long long established = 0;
  scan_tcp(proc, "tcp", &listening, NULL, NULL);
  scan_tcp(proc, "tcp6", &listening, NULL, NULL);
  scan_tcp(proc, "tcp", &listening, &established, &seen);
  scan_tcp(proc, "tcp6", &listening, &established, &seen);

  sb_printf(out, "{\"mem_total_bytes\":%lld,\"mem_available_bytes\":%lld,\"mem_used_bytes\":%lld", total * 1024,
            avail * 1024, (total > avail ? total - avail : 0) * 1024);
  sb_printf(out, ",\"uptime_s\":%.2f,\"load\":[%.2f,%.2f,%.2f]", uptime[0], load[0], load[1], load[2]);
  sb_printf(out, ",\"tcp_established_in\":%lld,\"tcp_established_in_ports\":[", established);
  for (size_t i = 0; i < seen.n && i < MAX_REPORTED_PORTS; i++) sb_printf(out, "%s%u", i ? "," : "", seen.ports[i]);
  sb_puts(out, "]}");
}
