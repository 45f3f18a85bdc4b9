/*
 * Listening sockets of the guest, read from /proc/net/{tcp,tcp6,udp,udp6}, each matched
 * to its process through the socket inode under /proc/<pid>/fd.
 */
#define _GNU_SOURCE
#include "ports.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
  unsigned long inode;
  int pid;
} owner;

typedef struct {
  owner *items;
  size_t n, cap;
} owners;

static void owners_add(owners *o, unsigned long inode, int pid) {
  if (o->n == o->cap) {
    o->cap = o->cap ? o->cap * 2 : 64;
    o->items = realloc(o->items, o->cap * sizeof *o->items);
    if (!o->items) abort();
  }
  o->items[o->n].inode = inode;
  o->items[o->n].pid = pid;
  o->n++;
}

/* Every socket inode held open by any process (processes we may not read are skipped). */
static void scan_owners(const char *proc, owners *o) {
  DIR *d = opendir(proc);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!isdigit((unsigned char)e->d_name[0])) continue;
    char fddir[300];
    snprintf(fddir, sizeof fddir, "%s/%s/fd", proc, e->d_name);
    DIR *fds = opendir(fddir);
    if (!fds) continue;
    struct dirent *f;
    while ((f = readdir(fds))) {
      if (f->d_name[0] == '.') continue;
      char link[600], target[64];
      snprintf(link, sizeof link, "%s/%s", fddir, f->d_name);
      ssize_t n = readlink(link, target, sizeof target - 1);
      if (n <= 0) continue;
      target[n] = '\0';
      unsigned long inode;
      if (sscanf(target, "socket:[%lu]", &inode) == 1) owners_add(o, inode, atoi(e->d_name));
    }
    closedir(fds);
  }
  closedir(d);
}

static int owner_of(const owners *o, unsigned long inode) {
  for (size_t i = 0; i < o->n; i++)
    if (o->items[i].inode == inode) return o->items[i].pid;
  return 0;
}

/*
 * A listener's process name: the basename of the program it runs (/proc/PID/exe), which does
 * not change with what a runtime calls its main thread (Node 24 names it "MainThread"); the
 * comm is the fallback when the exe link cannot be read (a kernel thread, a deleted binary).
 */
static void process_name(const char *proc, int pid, char *out, size_t outlen) {
  out[0] = '\0';
  if (pid <= 0) return;
  char path[300], target[4096];
  snprintf(path, sizeof path, "%s/%d/exe", proc, pid);
  ssize_t n = readlink(path, target, sizeof target - 1);
  if (n > 0) {
    target[n] = '\0';
    char *del = strstr(target, " (deleted)");
    if (del && del[10] == '\0') *del = '\0';
    const char *base = strrchr(target, '/');
    base = base ? base + 1 : target;
    size_t len = strlen(base);
    if (len > 0) {
      if (len >= outlen) len = outlen - 1;
      memcpy(out, base, len);
      out[len] = '\0';
      return;
    }
  }
  snprintf(path, sizeof path, "%s/%d/comm", proc, pid);
  FILE *f = fopen(path, "r");
  if (!f) return;
  if (fgets(out, (int)outlen, f)) out[strcspn(out, "\n")] = '\0';
  fclose(f);
}

/* The kernel prints each 32-bit word of the address in host byte order. */
static int format_address(const char *hex, int v6, char *out, size_t outlen) {
  if (!v6) {
    struct in_addr a;
    if (strlen(hex) != 8) return 0;
    a.s_addr = (uint32_t)strtoul(hex, NULL, 16);
    return inet_ntop(AF_INET, &a, out, (socklen_t)outlen) != NULL;
  }
  struct in6_addr a;
  if (strlen(hex) != 32) return 0;
  for (int i = 0; i < 4; i++) {
    char word[9];
    memcpy(word, hex + i * 8, 8);
    word[8] = '\0';
    uint32_t w = (uint32_t)strtoul(word, NULL, 16);
    memcpy(&a.s6_addr[i * 4], &w, 4);
  }
  return inet_ntop(AF_INET6, &a, out, (socklen_t)outlen) != NULL;
}

static void scan_table(const char *proc, const char *proto, int v6, int udp, const owners *o, sbuf *out, int *first) {
  char path[300];
  snprintf(path, sizeof path, "%s/net/%s", proc, proto);
  FILE *f = fopen(path, "r");
  if (!f) return;
  char line[512];
  if (!fgets(line, sizeof line, f)) { fclose(f); return; } /* header */
  while (fgets(line, sizeof line, f)) {
    char local[64], remote[64];
    unsigned state;
    unsigned long inode;
    /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
    if (sscanf(line, " %*d: %63[0-9A-Fa-f:] %63[0-9A-Fa-f:] %x %*s %*s %*s %*u %*u %lu", local, remote, &state, &inode) != 4) continue;
    /* TCP: LISTEN (0x0A). UDP: unconnected (0x07, shown by the kernel as TCP_CLOSE). */
    if (state != (udp ? 0x07u : 0x0Au)) continue;
    char *colon = strrchr(local, ':');
    if (!colon) continue;
    *colon = '\0';
    unsigned port = (unsigned)strtoul(colon + 1, NULL, 16);
    char addr[INET6_ADDRSTRLEN];
    if (!format_address(local, v6, addr, sizeof addr)) continue;
    int pid = owner_of(o, inode);
    char comm[64];
    process_name(proc, pid, comm, sizeof comm);
    if (!*first) sb_puts(out, ",");
    *first = 0;
    sb_puts(out, "{\"proto\":");
    sb_json_str(out, proto, strlen(proto));
    sb_puts(out, ",\"address\":");
    sb_json_str(out, addr, strlen(addr));
    sb_printf(out, ",\"port\":%u,\"pid\":", port);
    if (pid > 0) sb_printf(out, "%d", pid); else sb_puts(out, "null");
    sb_puts(out, ",\"process\":");
    if (comm[0]) sb_json_str(out, comm, strlen(comm)); else sb_puts(out, "null");
    sb_puts(out, "}");
  }
  fclose(f);
}

void ports_json(const char *proc, sbuf *out) {
  owners o = { NULL, 0, 0 };
  scan_owners(proc, &o);
  int first = 1;
  sb_puts(out, "{\"listeners\":[");
  scan_table(proc, "tcp", 0, 0, &o, out, &first);
  scan_table(proc, "tcp6", 1, 0, &o, out, &first);
  scan_table(proc, "udp", 0, 1, &o, out, &first);
  scan_table(proc, "udp6", 1, 1, &o, out, &first);
  sb_puts(out, "]}");
  free(o.items);
}
