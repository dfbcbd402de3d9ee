// fsat: host file access confined beneath a directory fd, for the bind and copy backends.
//
// NOTE: Every path given here is relative to a source directory fd. Intermediate components are
// resolved by openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS), so a symlink
// swapped into the source by anyone, at any moment, fails the walk (ELOOP/EXDEV) instead of
// leading outside it. The last component is then acted on with an *at call that never follows it
// (AT_SYMLINK_NOFOLLOW, O_NOFOLLOW or the openat2 rules). See openat2(2).
//
// Calls are synchronous: metadata operations on a local disk cost less than a thread-pool round
// trip. Every function returns a negative errno instead of throwing, so the FUSE layer can answer
// the kernel without exceptions on hot paths.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#define RESOLVE_CONFINED (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)
// One byte more than PATH_MAX, so a path of exactly PATH_MAX - 1 bytes (legal) can be told
// from a truncated one.
#define MAX_PATH (PATH_MAX + 1)

static int open_beneath (int root, const char *rel, int flags, mode_t mode) {
  struct open_how how = {
    .flags = (unsigned long long) (flags | O_CLOEXEC),
    .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
    .resolve = RESOLVE_CONFINED,
  };
  long fd = syscall(SYS_openat2, root, *rel ? rel : ".", &how, sizeof how);
  return fd < 0 ? -errno : (int) fd;
}

// Opens the directory holding `rel`'s last component and points *name at that component.
// `rel` must name something below the root (not the root itself).
static int open_parent (int root, char *rel, const char **name) {
  char *slash = strrchr(rel, '/');
  if (slash == NULL) {
    *name = rel;
    return open_beneath(root, "", O_PATH | O_DIRECTORY, 0);
  }
  *slash = '\0';
  *name = slash + 1;
  int fd = open_beneath(root, rel, O_PATH | O_DIRECTORY, 0);
  *slash = '/';
  return fd;
}

// --- N-API plumbing ---------------------------------------------------------------------------

typedef struct { napi_env env; napi_value *argv; size_t argc; } args_t;

static int arg_i32 (args_t *a, size_t i) {
  int32_t v = 0;
  if (i < a->argc) napi_get_value_int32(a->env, a->argv[i], &v);
  return v;
}

static double arg_f64 (args_t *a, size_t i) {
  double v = 0;
  if (i < a->argc) napi_get_value_double(a->env, a->argv[i], &v);
  return v;
}

// Copies a string argument into buf; returns 0 or -ENAMETOOLONG / -EINVAL.
static int arg_path (args_t *a, size_t i, char *buf) {
  size_t len = 0;
  if (i >= a->argc || napi_get_value_string_utf8(a->env, a->argv[i], buf, MAX_PATH, &len) != napi_ok) return -EINVAL;
  if (len >= PATH_MAX) return -ENAMETOOLONG;
  return 0;
}

static napi_value num (napi_env env, double v) {
  napi_value out;
  napi_create_double(env, v, &out);
  return out;
}

#define ARGS(n)                                                         \
  napi_value argv_[n];                                                  \
  size_t argc_ = n;                                                     \
  napi_get_cb_info(env, info, &argc_, argv_, NULL, NULL);               \
  args_t a_ = { env, argv_, argc_ };                                    \
  args_t *a = &a_;

#define PATH_ARG(var, i)                                                \
  char var[MAX_PATH];                                                   \
  { int e_ = arg_path(a, i, var); if (e_ < 0) return num(env, e_); }

#define PARENT(rootArg, relVar, dirVar, nameVar)                        \
  const char *nameVar;                                                  \
  int dirVar = open_parent(rootArg, relVar, &nameVar);                  \
  if (dirVar < 0) return num(env, dirVar);

static double result (int rc) { return rc < 0 ? -errno : rc; }

// --- operations -------------------------------------------------------------------------------

// open(root, rel, flags, mode) -> fd | -errno
static napi_value fj_open (napi_env env, napi_callback_info info) {
  ARGS(4)
  PATH_ARG(rel, 1)
  return num(env, open_beneath(arg_i32(a, 0), rel, arg_i32(a, 2) | O_NOFOLLOW, (mode_t) arg_i32(a, 3)));
}

// Stat fields, in the order the FUSE layer reads them.
enum { ST_MODE, ST_UID, ST_GID, ST_SIZE, ST_NLINK, ST_INO, ST_RDEV, ST_BLKSIZE, ST_BLOCKS,
       ST_ATIME, ST_MTIME, ST_CTIME, ST_FIELDS };

static void pack_stat (const struct stat *st, double *out) {
  out[ST_MODE] = st->st_mode;
  out[ST_UID] = st->st_uid;
  out[ST_GID] = st->st_gid;
  out[ST_SIZE] = (double) st->st_size;
  out[ST_NLINK] = (double) st->st_nlink;
  out[ST_INO] = (double) st->st_ino;
  out[ST_RDEV] = (double) st->st_rdev;
  out[ST_BLKSIZE] = (double) st->st_blksize;
  out[ST_BLOCKS] = (double) st->st_blocks;
  out[ST_ATIME] = st->st_atim.tv_sec * 1e3 + st->st_atim.tv_nsec / 1e6;
  out[ST_MTIME] = st->st_mtim.tv_sec * 1e3 + st->st_mtim.tv_nsec / 1e6;
  out[ST_CTIME] = st->st_ctim.tv_sec * 1e3 + st->st_ctim.tv_nsec / 1e6;
}

// lstat(root, rel, out: Float64Array(12)) -> 0 | -errno; never follows the last component.
static napi_value fj_lstat (napi_env env, napi_callback_info info) {
  ARGS(3)
  PATH_ARG(rel, 1)
  double *out;
  size_t len;
  napi_typedarray_type type;
  napi_get_typedarray_info(env, a->argv[2], &type, &len, (void **) &out, NULL, NULL);
  if (type != napi_float64_array || len < ST_FIELDS) return num(env, -EINVAL);
  struct stat st;
  int root = arg_i32(a, 0);
  int rc;
  if (*rel == '\0') {
    rc = fstat(root, &st);
  } else {
    PARENT(root, rel, dir, name)
    rc = fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW);
    int saved = errno;
    close(dir);
    errno = saved;
  }
  if (rc < 0) return num(env, -errno);
  pack_stat(&st, out);
  return num(env, 0);
}

// fstat(fd, out: Float64Array(12)) -> 0 | -errno
static napi_value fj_fstat (napi_env env, napi_callback_info info) {
  ARGS(2)
  double *out;
  size_t len;
  napi_typedarray_type type;
  napi_get_typedarray_info(env, a->argv[1], &type, &len, (void **) &out, NULL, NULL);
  if (type != napi_float64_array || len < ST_FIELDS) return num(env, -EINVAL);
  struct stat st;
  if (fstat(arg_i32(a, 0), &st) < 0) return num(env, -errno);
  pack_stat(&st, out);
  return num(env, 0);
}

static uint32_t dtype_to_mode (unsigned char t) {
  switch (t) {
    case DT_DIR: return S_IFDIR;
    case DT_REG: return S_IFREG;
    case DT_LNK: return S_IFLNK;
    case DT_FIFO: return S_IFIFO;
    case DT_SOCK: return S_IFSOCK;
    case DT_CHR: return S_IFCHR;
    case DT_BLK: return S_IFBLK;
    default: return 0;
  }
}

// readdir(root, rel) -> [names: string[], types: number[]] | -errno (without "." and "..").
// NOTE: d_type comes from getdents, so listing a directory costs no stat per entry.
static napi_value fj_readdir (napi_env env, napi_callback_info info) {
  ARGS(2)
  PATH_ARG(rel, 1)
  int fd = open_beneath(arg_i32(a, 0), rel, O_RDONLY | O_DIRECTORY, 0);
  if (fd < 0) return num(env, fd);
  DIR *d = fdopendir(fd);
  if (d == NULL) {
    int e = errno;
    close(fd);
    return num(env, -e);
  }
  napi_value names, types, pair;
  napi_create_array(env, &names);
  napi_create_array(env, &types);
  uint32_t n = 0;
  struct dirent *de;
  errno = 0;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.' && (de->d_name[1] == '\0' || (de->d_name[1] == '.' && de->d_name[2] == '\0'))) continue;
    napi_value s, t;
    napi_create_string_utf8(env, de->d_name, NAPI_AUTO_LENGTH, &s);
    napi_create_uint32(env, dtype_to_mode(de->d_type), &t);
    napi_set_element(env, names, n, s);
    napi_set_element(env, types, n, t);
    n++;
  }
  int e = errno;
  closedir(d);
  if (e) return num(env, -e);
  napi_create_array_with_length(env, 2, &pair);
  napi_set_element(env, pair, 0, names);
  napi_set_element(env, pair, 1, types);
  return pair;
}

// readlink(root, rel) -> string | -errno
static napi_value fj_readlink (napi_env env, napi_callback_info info) {
  ARGS(2)
  PATH_ARG(rel, 1)
  PARENT(arg_i32(a, 0), rel, dir, name)
  char buf[MAX_PATH];
  ssize_t n = readlinkat(dir, name, buf, sizeof buf - 1);
  int e = errno;
  close(dir);
  if (n < 0) return num(env, -e);
  napi_value out;
  napi_create_string_utf8(env, buf, (size_t) n, &out);
  return out;
}

// mkdir(root, rel, mode), mknod(root, rel, mode, dev), symlink(root, rel, target),
// unlink(root, rel), rmdir(root, rel) -> 0 | -errno
static napi_value fj_mkdir (napi_env env, napi_callback_info info) {
  ARGS(3)
  PATH_ARG(rel, 1)
  PARENT(arg_i32(a, 0), rel, dir, name)
  double rc = result(mkdirat(dir, name, (mode_t) arg_i32(a, 2)));
  close(dir);
  return num(env, rc);
}

static napi_value fj_mknod (napi_env env, napi_callback_info info) {
  ARGS(4)
  PATH_ARG(rel, 1)
  PARENT(arg_i32(a, 0), rel, dir, name)
  double rc = result(mknodat(dir, name, (mode_t) arg_i32(a, 2), (dev_t) arg_f64(a, 3)));
  close(dir);
  return num(env, rc);
}

static napi_value fj_symlink (napi_env env, napi_callback_info info) {
  ARGS(3)
  PATH_ARG(rel, 1)
  PATH_ARG(target, 2)
  PARENT(arg_i32(a, 0), rel, dir, name)
  double rc = result(symlinkat(target, dir, name));
  close(dir);
  return num(env, rc);
}

static napi_value fj_unlink (napi_env env, napi_callback_info info) {
  ARGS(2)
  PATH_ARG(rel, 1)
  PARENT(arg_i32(a, 0), rel, dir, name)
  double rc = result(unlinkat(dir, name, 0));
  close(dir);
  return num(env, rc);
}

static napi_value fj_rmdir (napi_env env, napi_callback_info info) {
  ARGS(2)
  PATH_ARG(rel, 1)
  PARENT(arg_i32(a, 0), rel, dir, name)
  double rc = result(unlinkat(dir, name, AT_REMOVEDIR));
  close(dir);
  return num(env, rc);
}

// rename(root, from, to, flags) and link(root, from, to) -> 0 | -errno
typedef int (*two_names_fn) (int fdir, const char *fname, int tdir, const char *tname, unsigned flags);

static int do_rename (int fdir, const char *fname, int tdir, const char *tname, unsigned flags) {
  return renameat2(fdir, fname, tdir, tname, flags);
}

static int do_link (int fdir, const char *fname, int tdir, const char *tname, unsigned flags) {
  return linkat(fdir, fname, tdir, tname, (int) flags);
}

static napi_value two_names (napi_env env, napi_callback_info info, two_names_fn fn) {
  ARGS(4)
  PATH_ARG(from, 1)
  PATH_ARG(to, 2)
  int root = arg_i32(a, 0);
  PARENT(root, from, fdir, fname)
  const char *tname;
  int tdir = open_parent(root, to, &tname);
  if (tdir < 0) { close(fdir); return num(env, tdir); }
  double rc = result(fn(fdir, fname, tdir, tname, (unsigned) arg_i32(a, 3)));
  close(fdir);
  close(tdir);
  return num(env, rc);
}

static napi_value fj_rename (napi_env env, napi_callback_info info) { return two_names(env, info, do_rename); }
static napi_value fj_link (napi_env env, napi_callback_info info) { return two_names(env, info, do_link); }

// chmod(root, rel, mode), chown(root, rel, uid, gid) -> 0 | -errno; never follow the last component.
static napi_value fj_chmod (napi_env env, napi_callback_info info) {
  ARGS(3)
  PATH_ARG(rel, 1)
  int root = arg_i32(a, 0);
  mode_t mode = (mode_t) arg_i32(a, 2);
  if (*rel == '\0') return num(env, result(fchmod(root, mode)));
  PARENT(root, rel, dir, name)
  double rc = result(fchmodat(dir, name, mode, AT_SYMLINK_NOFOLLOW));
  close(dir);
  return num(env, rc);
}

static napi_value fj_chown (napi_env env, napi_callback_info info) {
  ARGS(4)
  PATH_ARG(rel, 1)
  int root = arg_i32(a, 0);
  uid_t uid = (uid_t) arg_f64(a, 2);
  gid_t gid = (gid_t) arg_f64(a, 3);
  if (*rel == '\0') return num(env, result(fchown(root, uid, gid)));
  PARENT(root, rel, dir, name)
  double rc = result(fchownat(dir, name, uid, gid, AT_SYMLINK_NOFOLLOW));
  close(dir);
  return num(env, rc);
}

static void ms_to_timespec (double ms, struct timespec *ts) {
  if (ms < 0) {
    ts->tv_sec = 0;
    ts->tv_nsec = UTIME_OMIT;
    return;
  }
  ts->tv_sec = (time_t) (ms / 1e3);
  ts->tv_nsec = (long) ((ms - (double) ts->tv_sec * 1e3) * 1e6);
}

// utimens(root, rel, atimeMs, mtimeMs) -> 0 | -errno; a negative time leaves that field as it is.
static napi_value fj_utimens (napi_env env, napi_callback_info info) {
  ARGS(4)
  PATH_ARG(rel, 1)
  struct timespec ts[2];
  ms_to_timespec(arg_f64(a, 2), &ts[0]);
  ms_to_timespec(arg_f64(a, 3), &ts[1]);
  int root = arg_i32(a, 0);
  if (*rel == '\0') return num(env, result(futimens(root, ts)));
  PARENT(root, rel, dir, name)
  double rc = result(utimensat(dir, name, ts, AT_SYMLINK_NOFOLLOW));
  close(dir);
  return num(env, rc);
}

// statfs(fd, out: Float64Array(7)) -> 0 | -errno: bsize, frsize, blocks, bfree, bavail, files, ffree
static napi_value fj_statfs (napi_env env, napi_callback_info info) {
  ARGS(2)
  double *out;
  size_t len;
  napi_typedarray_type type;
  napi_get_typedarray_info(env, a->argv[1], &type, &len, (void **) &out, NULL, NULL);
  if (type != napi_float64_array || len < 7) return num(env, -EINVAL);
  struct statvfs sv;
  if (fstatvfs(arg_i32(a, 0), &sv) < 0) return num(env, -errno);
  out[0] = (double) sv.f_bsize;
  out[1] = (double) sv.f_frsize;
  out[2] = (double) sv.f_blocks;
  out[3] = (double) sv.f_bfree;
  out[4] = (double) sv.f_bavail;
  out[5] = (double) sv.f_files;
  out[6] = (double) sv.f_ffree;
  return num(env, 0);
}

// Plain descriptor calls, so callers need not mix Node's fs (which throws) with this module.
static napi_value fj_close (napi_env env, napi_callback_info info) {
  ARGS(1)
  return num(env, result(close(arg_i32(a, 0))));
}

static napi_value fj_ftruncate (napi_env env, napi_callback_info info) {
  ARGS(2)
  return num(env, result(ftruncate(arg_i32(a, 0), (off_t) arg_f64(a, 1))));
}

static napi_value fj_fchmod (napi_env env, napi_callback_info info) {
  ARGS(2)
  return num(env, result(fchmod(arg_i32(a, 0), (mode_t) arg_i32(a, 1))));
}

static napi_value fj_fchown (napi_env env, napi_callback_info info) {
  ARGS(3)
  return num(env, result(fchown(arg_i32(a, 0), (uid_t) arg_f64(a, 1), (gid_t) arg_f64(a, 2))));
}

// peerCredentials(fd) -> [pid, uid, gid] | -errno: who is at the other end of a Unix socket.
static napi_value fj_peer_credentials (napi_env env, napi_callback_info info) {
  ARGS(1)
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(arg_i32(a, 0), SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) return num(env, -errno);
  napi_value out;
  napi_create_array_with_length(env, 3, &out);
  napi_set_element(env, out, 0, num(env, cred.pid));
  napi_set_element(env, out, 1, num(env, cred.uid));
  napi_set_element(env, out, 2, num(env, cred.gid));
  return out;
}

static napi_value init (napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
#define FN(js, c) { js, NULL, c, NULL, NULL, NULL, napi_enumerable, NULL }
    FN("open", fj_open), FN("lstat", fj_lstat), FN("fstat", fj_fstat), FN("readdir", fj_readdir),
    FN("readlink", fj_readlink), FN("mkdir", fj_mkdir), FN("mknod", fj_mknod),
    FN("symlink", fj_symlink), FN("unlink", fj_unlink), FN("rmdir", fj_rmdir),
    FN("rename", fj_rename), FN("link", fj_link), FN("chmod", fj_chmod), FN("chown", fj_chown),
    FN("utimens", fj_utimens), FN("statfs", fj_statfs), FN("close", fj_close),
    FN("ftruncate", fj_ftruncate), FN("fchmod", fj_fchmod), FN("fchown", fj_fchown),
    FN("peerCredentials", fj_peer_credentials),
#undef FN
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
