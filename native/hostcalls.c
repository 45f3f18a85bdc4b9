/*
 * hostcalls: the few Linux system calls Node does not expose, for banger's root helper
 * and its tests. N-API only, so it builds against any Node's headers without node-gyp.
 *
 *   peerCred(fd)                         SO_PEERCRED of a unix socket: who is on the other end
 *   openat2(dirfd, path, flags, mode, resolve)   a path resolved under a directory descriptor,
 *                                        with RESOLVE_* flags (no symlinks, no escape, no mounts)
 *   linkAt(fd, dirfd, name)              linkat(fd, "", dirfd, name, AT_EMPTY_PATH): a hard link
 *                                        to the file behind a descriptor, never a name
 *   mknodAt(dirfd, name, mode, major, minor)
 *   mkdirAt(dirfd, name, mode)
 *   unlinkAt(dirfd, name, isDir)
 *   fchownAt(dirfd, name, uid, gid)      AT_SYMLINK_NOFOLLOW
 *   renameAt2(olddirfd, old, newdirfd, new, flags)   renameat2 (RENAME_EXCHANGE for the tests'
 *                                        hostile owner; RENAME_NOREPLACE)
 *   pidfdOpen(pid), pidfdSendSignal(pidfd, signal)   signal a process without a pid-reuse race
 *   loopAttach(fd)                       a free loop device backed by the file open as fd
 *                                        (LOOP_SET_FD: read-only when fd is); returns its path.
 *                                        losetup would reopen a /proc/PID/fd/N path by name.
 *
 * Errors are thrown as Error objects with `code` set to the errno name (ELOOP, EXDEV, ...),
 * like Node's own fs errors, so callers can tell a refused resolution from a missing file.
 * dirfd -100 is AT_FDCWD.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/loop.h>
#include <linux/openat2.h>
#include <sys/ioctl.h>
#include <node_api.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

static const char *errno_name(int e) {
  switch (e) {
    case ENOENT: return "ENOENT"; case EEXIST: return "EEXIST"; case ELOOP: return "ELOOP";
    case EXDEV: return "EXDEV"; case EAGAIN: return "EAGAIN"; case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR"; case EACCES: return "EACCES"; case EPERM: return "EPERM";
    case ENOTEMPTY: return "ENOTEMPTY"; case EBUSY: return "EBUSY"; case ESRCH: return "ESRCH";
    case EINVAL: return "EINVAL"; case ENOSYS: return "ENOSYS"; case EBADF: return "EBADF";
    case ENAMETOOLONG: return "ENAMETOOLONG"; case ENOSPC: return "ENOSPC"; case EROFS: return "EROFS";
    case EMLINK: return "EMLINK"; case ENXIO: return "ENXIO"; case EOPNOTSUPP: return "EOPNOTSUPP";
    default: return "EUNKNOWN";
  }
}

static napi_value throw_errno(napi_env env, const char *what, int e) {
  char msg[512];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(e));
  napi_value code, message, error;
  napi_create_string_utf8(env, errno_name(e), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_value errnum;
  napi_create_int32(env, -e, &errnum);
  napi_set_named_property(env, error, "errno", errnum);
  napi_throw(env, error);
  return NULL;
}

/* Reads argc arguments; returns 0 and throws a TypeError when they are not all there. */
static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv, const char *usage) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != want) {
    napi_throw_type_error(env, NULL, usage);
    return 0;
  }
  return 1;
}

static int get_i32(napi_env env, napi_value v, int32_t *out, const char *usage) {
  if (napi_get_value_int32(env, v, out) != napi_ok) { napi_throw_type_error(env, NULL, usage); return 0; }
  return 1;
}

static int get_u32(napi_env env, napi_value v, uint32_t *out, const char *usage) {
  if (napi_get_value_uint32(env, v, out) != napi_ok) { napi_throw_type_error(env, NULL, usage); return 0; }
  return 1;
}

/* A string argument into buf (at most PATH_MAX bytes); 0 with a TypeError otherwise. */
static int get_str(napi_env env, napi_value v, char *buf, size_t size, const char *usage) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, buf, size, &len) != napi_ok || len + 1 >= size || strlen(buf) != len) {
    napi_throw_type_error(env, NULL, usage);
    return 0;
  }
  return 1;
}

static napi_value int_value(napi_env env, int32_t n) {
  napi_value v;
  napi_create_int32(env, n, &v);
  return v;
}

static napi_value undefined_value(napi_env env) {
  napi_value v;
  napi_get_undefined(env, &v);
  return v;
}

/* peerCred(fd) -> { pid, uid, gid } */
static napi_value peer_cred(napi_env env, napi_callback_info info) {
  static const char usage[] = "peerCred(fd) needs one file descriptor";
  napi_value argv[1];
  int32_t fd;
  if (!get_args(env, info, 1, argv, usage) || !get_i32(env, argv[0], &fd, usage)) return NULL;
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return throw_errno(env, "getsockopt(SO_PEERCRED)", errno);
  napi_value out, pid, uid, gid;
  napi_create_object(env, &out);
  napi_create_int32(env, cred.pid, &pid);
  napi_create_uint32(env, cred.uid, &uid);
  napi_create_uint32(env, cred.gid, &gid);
  napi_set_named_property(env, out, "pid", pid);
  napi_set_named_property(env, out, "uid", uid);
  napi_set_named_property(env, out, "gid", gid);
  return out;
}

/* openat2(dirfd, path, flags, mode, resolve) -> fd (O_CLOEXEC always added) */
static napi_value js_openat2(napi_env env, napi_callback_info info) {
  static const char usage[] = "openat2(dirfd, path, flags, mode, resolve)";
  napi_value argv[5];
  int32_t dirfd;
  uint32_t flags, mode, resolve;
  char path[4096];
  if (!get_args(env, info, 5, argv, usage) || !get_i32(env, argv[0], &dirfd, usage) || !get_str(env, argv[1], path, sizeof path, usage)
      || !get_u32(env, argv[2], &flags, usage) || !get_u32(env, argv[3], &mode, usage) || !get_u32(env, argv[4], &resolve, usage)) return NULL;
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = (uint64_t)flags | O_CLOEXEC;
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = resolve;
  long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
  if (fd < 0) {
    char what[4200];
    snprintf(what, sizeof what, "openat2 %s", path);
    return throw_errno(env, what, errno);
  }
  return int_value(env, (int32_t)fd);
}

/* linkAt(fd, dirfd, name): a new name in dirfd for the file open as fd (needs CAP_DAC_READ_SEARCH) */
static napi_value link_at(napi_env env, napi_callback_info info) {
  static const char usage[] = "linkAt(fd, dirfd, name)";
  napi_value argv[3];
  int32_t fd, dirfd;
  char name[4096];
  if (!get_args(env, info, 3, argv, usage) || !get_i32(env, argv[0], &fd, usage) || !get_i32(env, argv[1], &dirfd, usage)
      || !get_str(env, argv[2], name, sizeof name, usage)) return NULL;
  if (linkat(fd, "", dirfd, name, AT_EMPTY_PATH) != 0) return throw_errno(env, "linkat", errno);
  return undefined_value(env);
}

/* mknodAt(dirfd, name, mode, major, minor): mode carries the type (S_IFBLK/S_IFCHR) and permissions */
static napi_value mknod_at(napi_env env, napi_callback_info info) {
  static const char usage[] = "mknodAt(dirfd, name, mode, major, minor)";
  napi_value argv[5];
  int32_t dirfd;
  uint32_t mode, major_n, minor_n;
  char name[4096];
  if (!get_args(env, info, 5, argv, usage) || !get_i32(env, argv[0], &dirfd, usage) || !get_str(env, argv[1], name, sizeof name, usage)
      || !get_u32(env, argv[2], &mode, usage) || !get_u32(env, argv[3], &major_n, usage) || !get_u32(env, argv[4], &minor_n, usage)) return NULL;
  if (!S_ISBLK(mode) && !S_ISCHR(mode)) { napi_throw_type_error(env, NULL, "mknodAt: mode must name a block or character device"); return NULL; }
  if (mknodat(dirfd, name, mode, makedev(major_n, minor_n)) != 0) return throw_errno(env, "mknodat", errno);
  return undefined_value(env);
}

static napi_value mkdir_at(napi_env env, napi_callback_info info) {
  static const char usage[] = "mkdirAt(dirfd, name, mode)";
  napi_value argv[3];
  int32_t dirfd;
  uint32_t mode;
  char name[4096];
  if (!get_args(env, info, 3, argv, usage) || !get_i32(env, argv[0], &dirfd, usage) || !get_str(env, argv[1], name, sizeof name, usage)
      || !get_u32(env, argv[2], &mode, usage)) return NULL;
  if (mkdirat(dirfd, name, mode) != 0) return throw_errno(env, "mkdirat", errno);
  return undefined_value(env);
}

static napi_value unlink_at(napi_env env, napi_callback_info info) {
  static const char usage[] = "unlinkAt(dirfd, name, isDir)";
  napi_value argv[3];
  int32_t dirfd;
  bool is_dir;
  char name[4096];
  if (!get_args(env, info, 3, argv, usage) || !get_i32(env, argv[0], &dirfd, usage) || !get_str(env, argv[1], name, sizeof name, usage)) return NULL;
  if (napi_get_value_bool(env, argv[2], &is_dir) != napi_ok) { napi_throw_type_error(env, NULL, usage); return NULL; }
  if (unlinkat(dirfd, name, is_dir ? AT_REMOVEDIR : 0) != 0) return throw_errno(env, "unlinkat", errno);
  return undefined_value(env);
}

static napi_value fchown_at(napi_env env, napi_callback_info info) {
  static const char usage[] = "fchownAt(dirfd, name, uid, gid)";
  napi_value argv[4];
  int32_t dirfd;
  uint32_t uid, gid;
  char name[4096];
  if (!get_args(env, info, 4, argv, usage) || !get_i32(env, argv[0], &dirfd, usage) || !get_str(env, argv[1], name, sizeof name, usage)
      || !get_u32(env, argv[2], &uid, usage) || !get_u32(env, argv[3], &gid, usage)) return NULL;
  if (fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) != 0) return throw_errno(env, "fchownat", errno);
  return undefined_value(env);
}

static napi_value rename_at2(napi_env env, napi_callback_info info) {
  static const char usage[] = "renameAt2(olddirfd, oldname, newdirfd, newname, flags)";
  napi_value argv[5];
  int32_t olddir, newdir;
  uint32_t flags;
  char oldname[4096], newname[4096];
  if (!get_args(env, info, 5, argv, usage) || !get_i32(env, argv[0], &olddir, usage) || !get_str(env, argv[1], oldname, sizeof oldname, usage)
      || !get_i32(env, argv[2], &newdir, usage) || !get_str(env, argv[3], newname, sizeof newname, usage) || !get_u32(env, argv[4], &flags, usage)) return NULL;
  if (syscall(SYS_renameat2, olddir, oldname, newdir, newname, flags) != 0) return throw_errno(env, "renameat2", errno);
  return undefined_value(env);
}

static napi_value pidfd_open_js(napi_env env, napi_callback_info info) {
  static const char usage[] = "pidfdOpen(pid)";
  napi_value argv[1];
  int32_t pid;
  if (!get_args(env, info, 1, argv, usage) || !get_i32(env, argv[0], &pid, usage)) return NULL;
  if (pid <= 0) { napi_throw_type_error(env, NULL, "pidfdOpen: pid must be positive"); return NULL; }
  long fd = syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) return throw_errno(env, "pidfd_open", errno);
  int flags = fcntl((int)fd, F_GETFD);
  if (flags >= 0) fcntl((int)fd, F_SETFD, flags | FD_CLOEXEC);
  return int_value(env, (int32_t)fd);
}

static napi_value pidfd_send_signal_js(napi_env env, napi_callback_info info) {
  static const char usage[] = "pidfdSendSignal(pidfd, signal)";
  napi_value argv[2];
  int32_t fd, sig;
  if (!get_args(env, info, 2, argv, usage) || !get_i32(env, argv[0], &fd, usage) || !get_i32(env, argv[1], &sig, usage)) return NULL;
  if (syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) != 0) return throw_errno(env, "pidfd_send_signal", errno);
  return undefined_value(env);
}

/* loopAttach(fd) -> "/dev/loopN": the file behind fd, never a name, backs the device */
static napi_value loop_attach(napi_env env, napi_callback_info info) {
  static const char usage[] = "loopAttach(fd)";
  napi_value argv[1];
  int32_t fd;
  if (!get_args(env, info, 1, argv, usage) || !get_i32(env, argv[0], &fd, usage)) return NULL;
  int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
  if (ctl < 0) return throw_errno(env, "open /dev/loop-control", errno);
  /* Another process may take the free device between GET_FREE and SET_FD: try again. */
  for (int attempt = 0; attempt < 32; attempt++) {
    int n = ioctl(ctl, LOOP_CTL_GET_FREE);
    if (n < 0) { int e = errno; close(ctl); return throw_errno(env, "LOOP_CTL_GET_FREE", e); }
    char path[32];
    snprintf(path, sizeof path, "/dev/loop%d", n);
    int dev = open(path, O_RDWR | O_CLOEXEC);
    if (dev < 0) { if (errno == ENOENT) continue; int e = errno; close(ctl); return throw_errno(env, path, e); }
    int r = ioctl(dev, LOOP_SET_FD, fd);
    int e = errno;
    close(dev);
    if (r == 0) {
      close(ctl);
      napi_value out;
      napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &out);
      return out;
    }
    if (e != EBUSY) { close(ctl); return throw_errno(env, "LOOP_SET_FD", e); }
  }
  close(ctl);
  return throw_errno(env, "no free loop device", EBUSY);
}

static void export_fn(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn);
  napi_set_named_property(env, exports, name, fn);
}

static napi_value init(napi_env env, napi_value exports) {
  export_fn(env, exports, "peerCred", peer_cred);
  export_fn(env, exports, "openat2", js_openat2);
  export_fn(env, exports, "linkAt", link_at);
  export_fn(env, exports, "mknodAt", mknod_at);
  export_fn(env, exports, "mkdirAt", mkdir_at);
  export_fn(env, exports, "unlinkAt", unlink_at);
  export_fn(env, exports, "fchownAt", fchown_at);
  export_fn(env, exports, "renameAt2", rename_at2);
  export_fn(env, exports, "pidfdOpen", pidfd_open_js);
  export_fn(env, exports, "pidfdSendSignal", pidfd_send_signal_js);
  export_fn(env, exports, "loopAttach", loop_attach);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
