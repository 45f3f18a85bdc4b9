/*
 * Files that `identity` writes (identity.c): each is replaced, never written through. The
 * content goes to a temporary file in the same directory, is fsynced, then renamed over the
 * final name, so a reader sees the old or the new file whole, and a symlink planted at the
 * final name is replaced rather than followed.
 */
#define _GNU_SOURCE
#include "wfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *wfile_path_problem(const char *path, size_t len) {
  if (len == 0 || strlen(path) != len) return "must be a non-empty path without NUL bytes";
  if (path[0] != '/') return "must be absolute";
  if (len >= PATH_MAX - 32) return "is too long";
  if (path[len - 1] == '/') return "must name a file, not a directory";
  for (const char *c = path; *c;) {
    while (*c == '/') c++;
    size_t n = strcspn(c, "/");
    if (n == 2 && c[0] == '.' && c[1] == '.') return "must not contain \"..\" components";
    c += n;
  }
  return NULL;
}

static void fail(char *err, size_t errlen, const char *what, const char *path) {
  snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
}

int wfile_mkdir_parents(const char *path, char *err, size_t errlen) {
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (!slash || slash == dir) return 0;
  *slash = '\0';
  struct stat st;
  if (stat(dir, &st) == 0) {
    if (S_ISDIR(st.st_mode)) return 0;
    errno = ENOTDIR;
    fail(err, errlen, "parent", dir);
    return -1;
  }
  for (char *p = dir + 1;; p++) {
    if (*p != '/' && *p != '\0') continue;
    char saved = *p;
    *p = '\0';
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) { fail(err, errlen, "mkdir", dir); return -1; }
    *p = saved;
    if (!saved) break;
  }
  return 0;
}

static int write_all(int fd, const void *data, size_t n) {
  const char *p = data;
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* A file that is a mount point (systemd bind-mounts /run/machine-id over /etc/machine-id on a read-only /etc) cannot be renamed over: write it in place. */
static int write_in_place(const char *path, const void *data, size_t n, char *err, size_t errlen) {
  int fd = open(path, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) { fail(err, errlen, "open", path); return -1; }
  int rc = write_all(fd, data, n) < 0 || fsync(fd) < 0 ? -1 : 0;
  if (rc < 0) fail(err, errlen, "write", path);
  close(fd);
  return rc;
}

int wfile_replace(const char *path, const void *data, size_t n, unsigned mode, int *in_place, char *err, size_t errlen) {
  char tmp[PATH_MAX];
  const char *slash = strrchr(path, '/');
  int dirlen = (int)(slash - path);
  snprintf(tmp, sizeof tmp, "%.*s/.banger-%s.XXXXXX", dirlen, path, slash + 1);
  if (strlen(tmp) >= sizeof tmp - 1) { errno = ENAMETOOLONG; fail(err, errlen, "temporary file for", path); return -1; }
  int fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0) { fail(err, errlen, "create temporary file in", dirlen ? "its directory" : "/"); return -1; }
  const char *what = NULL;
  if (fchmod(fd, mode & 07777) < 0) what = "chmod";
  else if (write_all(fd, data, n) < 0) what = "write";
  else if (fsync(fd) < 0) what = "fsync";
  if (close(fd) < 0 && !what) what = "close";
  if (!what && rename(tmp, path) == 0) return 0;
  int saved = errno;
  unlink(tmp);
  errno = saved;
  if (!what && errno == EBUSY) {
    if (in_place) *in_place = 1;
    return write_in_place(path, data, n, err, errlen);
  }
  fail(err, errlen, what ? what : "rename onto", path);
  return -1;
}
