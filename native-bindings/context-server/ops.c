// The FUSE low-level operations on names and files (directories: dirs.c; xattrs: xattrs.c).
//
// NOTE: every handler replies exactly once, with a result or an errno; none may crash the server.
#include "context-server.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { FMODE_EXEC = 0x20 };  // __FMODE_EXEC: the open the kernel sends for execve(2)
static const off_t LARGE_FILE = 1 << 20;  // read-only files from this size pass through
// NOTE: openat2 refuses unknown flags; these are the ones an open may carry through to the host.
static const int OPEN_FLAGS = O_ACCMODE | O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME | O_SYNC | O_DSYNC | O_TRUNC | O_LARGEFILE;

static void op_init (void *userdata, struct fuse_conn_info *conn) {
  clock_gettime(CLOCK_REALTIME, &started);
  // NOTE: the kernel clears set-id bits on write and truncate itself (as for any unprivileged
  // writer) when the server does not claim to.
  conn->want &= ~FUSE_CAP_HANDLE_KILLPRIV;
  if (conn->capable & FUSE_CAP_EXPIRE_ONLY) conn->want |= FUSE_CAP_EXPIRE_ONLY;
  if (conn->capable & FUSE_CAP_PARALLEL_DIROPS) conn->want |= FUSE_CAP_PARALLEL_DIROPS;
  conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
}

static void op_lookup (fuse_req_t req, fuse_ino_t parent, const char *name) {
  struct fuse_entry_param e;
  int rc = lookup_entry(req, parent, name, &e);
  if (rc) fuse_reply_err(req, -rc);
  else fuse_reply_entry(req, &e);
}

static void op_forget (fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  node_forget(node_of(ino), nlookup);
  fuse_reply_none(req);
}

static void op_forget_multi (fuse_req_t req, size_t count, struct fuse_forget_data *forgets) {
  for (size_t i = 0; i < count; i++) node_forget(node_of(forgets[i].ino), forgets[i].nlookup);
  fuse_reply_none(req);
}

// Every attribute reply but entries (resolve.c, dirs.c) and create: the ids shown (identity.c).
static void reply_attr (fuse_req_t req, struct stat *st, double timeout) {
  identity_show(st);
  fuse_reply_attr(req, st, timeout);
}

static void op_getattr (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  struct stat st;
  if (fi) {
    if (fstat((int) fi->fh, &st) < 0) return (void) fuse_reply_err(req, errno);
    st.st_ino = node_of(ino)->serial;
    return reply_attr(req, &st, SHORT_TIMEOUT);
  }
  struct at a;
  int rc = resolve_node(req, &a, ino);
  if (rc == -ESTALE) {
    int fd = node_open_fd(node_of(ino));
    if (fd >= 0 && fstat(fd, &st) == 0) {
      close(fd);
      st.st_ino = node_of(ino)->serial;
      return reply_attr(req, &st, SHORT_TIMEOUT);
    }
    if (fd >= 0) close(fd);
  }
  if (rc) return (void) fuse_reply_err(req, -rc);
  rc = stat_at(&a, &st);
  double t = timeout(a.m);
  done(&a);
  if (rc) fuse_reply_err(req, -rc);
  else reply_attr(req, &st, t);
}

static void op_setattr (fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi) {
  struct at a;
  int obj = -1;
  int rc = resolve_node(req, &a, ino);
  if (rc == -ESTALE) rc = resolve_orphan(req, &a, ino, &obj);
  if (rc) return (void) fuse_reply_err(req, -rc);
  if (!a.m) rc = -EPERM;
  else if (a.m->read_only) rc = -EROFS;
  if (obj < 0) obj = rc ? -1 : mount_open(a.m, a.inner, O_PATH | O_NOFOLLOW);
  if (!rc && obj < 0) rc = obj;
  struct stat st;
  if (!rc && fstat(obj, &st) < 0) rc = -errno;
  char proc[32];
  if (!rc) proc_path(proc, sizeof proc, obj);
  if (!rc && (to_set & FUSE_SET_ATTR_MODE)) {
    // NOTE: container root must not make set-id programs on the host; clearing bits (the kernel's
    // kill-priv on write) and keeping them are fine.
    if (a.m->host && !S_ISDIR(st.st_mode) && (attr->st_mode & ~st.st_mode & (S_ISUID | S_ISGID))) rc = -EPERM;
    else if (S_ISLNK(st.st_mode)) rc = -EOPNOTSUPP;
    else {
      // NOTE: without CAP_FSETID the kernel drops S_ISGID from a chmod by a caller outside the
      // file's group; the kernel already applied that rule to the real caller (default_permissions),
      // so the server acts in the file's group for this one call (setfsgid is per thread).
      int was = (int) syscall(SYS_setfsgid, st.st_gid);
      if ((fi ? fchmod((int) fi->fh, attr->st_mode & 07777) : chmod(proc, attr->st_mode & 07777)) < 0) rc = -errno;
      syscall(SYS_setfsgid, was);
    }
  }
  if (!rc && (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID))) {
    uid_t uid = to_set & FUSE_SET_ATTR_UID ? attr->st_uid : (uid_t) -1;
    gid_t gid = to_set & FUSE_SET_ATTR_GID ? attr->st_gid : (gid_t) -1;
    rc = identity_chown(obj, &st, uid, gid);
  }
  if (!rc && (to_set & FUSE_SET_ATTR_SIZE)) {
    int fd = fi ? (int) fi->fh : a.path ? mount_open(a.m, a.inner, O_WRONLY) : open(proc, O_WRONLY | O_CLOEXEC);
    if (!fi && !a.path && fd < 0) fd = -errno;
    if (fd < 0) rc = fd;
    else if (ftruncate(fd, attr->st_size) < 0) rc = -errno;
    if (!fi && fd >= 0) close(fd);
  }
  if (!rc && (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME))) {
    struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_nsec = UTIME_OMIT } };
    if (to_set & FUSE_SET_ATTR_ATIME_NOW) ts[0].tv_nsec = UTIME_NOW;
    else if (to_set & FUSE_SET_ATTR_ATIME) ts[0] = attr->st_atim;
    if (to_set & FUSE_SET_ATTR_MTIME_NOW) ts[1].tv_nsec = UTIME_NOW;
    else if (to_set & FUSE_SET_ATTR_MTIME) ts[1] = attr->st_mtim;
    if (fi) rc = futimens((int) fi->fh, ts) < 0 ? -errno : 0;
    else if (!S_ISLNK(st.st_mode)) rc = utimensat(AT_FDCWD, proc, ts, 0) < 0 ? -errno : 0;
    else {
      const char *name;
      int dir = a.inner[1] ? mount_parent(a.m, a.inner, &name) : -EROFS;
      rc = dir < 0 ? dir : (utimensat(dir, name, ts, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0);
      if (dir >= 0) close(dir);
    }
  }
  if (!rc && fstat(obj, &st) < 0) rc = -errno;
  if (obj >= 0) close(obj);
  double t = timeout(a.m);
  done(&a);
  st.st_ino = node_of(ino)->serial;
  if (rc) fuse_reply_err(req, -rc);
  else reply_attr(req, &st, t);
}

static void op_readlink (fuse_req_t req, fuse_ino_t ino) {
  struct at a;
  int rc = resolve_node(req, &a, ino);
  if (rc) return (void) fuse_reply_err(req, -rc);
  char buf[PATH_MAX + 1];
  ssize_t n = -EINVAL;
  if (a.m && a.inner[1] == '\0') n = readlinkat(a.m->root_fd, "", buf, PATH_MAX);
  else if (a.m) {
    const char *name;
    int dir = mount_parent(a.m, a.inner, &name);
    n = dir < 0 ? dir : readlinkat(dir, name, buf, PATH_MAX);
    if (dir >= 0) close(dir);
  }
  if (n == -1) n = -errno;
  if (n >= 0) buf[n] = '\0';
  char host[PATH_MAX];
  bool outside = n >= 0 && hostview_leads_out(buf) && hostview_outside(fuse_req_ctx(req)->pid);
  if (outside) n = hostview_link(a.path, buf, host, sizeof host);
  done(&a);
  if (n < 0) return (void) fuse_reply_err(req, (int) -n);
  fuse_reply_readlink(req, outside ? host : buf);
}

// Gives a new object the caller's ownership (and its parent's group where that is set-gid).
// NOTE: the caller's ids as the kernel sends them: a container in a user namespace stores its
// host ids (container root: the idmap's base). Nothing to do when the thread already acts as them.
static int own (fuse_req_t req, int dir, const char *name) {
  const struct fuse_ctx *c = fuse_req_ctx(req);
  struct stat pst;
  if (fstat(dir, &pst) < 0) return -errno;
  gid_t gid = pst.st_mode & S_ISGID ? (gid_t) -1 : c->gid;
  if (identity_acting_as(c->uid, gid)) return 0;
  if (fchownat(dir, name, c->uid, gid, AT_SYMLINK_NOFOLLOW) < 0) return -errno;
  return 0;
}

enum make { MAKE_NODE, MAKE_DIR, MAKE_LINK };

static void make (fuse_req_t req, fuse_ino_t parent, const char *name, enum make kind, mode_t mode, dev_t rdev, const char *link) {
  struct at a;
  int rc = resolve_child(req, &a, parent, name, true);
  if (rc) return (void) fuse_reply_err(req, -rc);
  // NOTE: no device node and no set-id file on the host. In the server's own stores (RAMFS, copy
  // layers: nodev, nosuid, as is the FUSE mount) they are inert, and POSIX tools may make them.
  if (kind == MAKE_NODE && a.m->host && ((mode & (S_ISUID | S_ISGID)) || S_ISCHR(mode) || S_ISBLK(mode))) rc = -EPERM;
  const char *last;
  int dir = rc ? rc : parent_for_create(&a, &last);
  if (dir < 0) rc = dir;
  else {
    int r = kind == MAKE_DIR ? mkdirat(dir, last, mode & 07777) : kind == MAKE_LINK ? symlinkat(link, dir, last) : mknodat(dir, last, mode, rdev);
    rc = r < 0 ? -errno : own(req, dir, last);
    close(dir);
  }
  done(&a);
  if (rc) return (void) fuse_reply_err(req, -rc);
  reply_entry(req, parent, name);
}

static void op_mknod (fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev) { make(req, parent, name, MAKE_NODE, mode, rdev, NULL); }
static void op_mkdir (fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode) { make(req, parent, name, MAKE_DIR, mode, 0, NULL); }
static void op_symlink (fuse_req_t req, const char *link, fuse_ino_t parent, const char *name) { make(req, parent, name, MAKE_LINK, 0, 0, link); }

static void remove_name (fuse_req_t req, fuse_ino_t parent, const char *name, int flags) {
  struct at a;
  int rc = resolve_child(req, &a, parent, name, false);
  if (rc) return (void) fuse_reply_err(req, -rc);
  const char *last;
  int dir = mount_parent(a.m, a.inner, &last);
  if (dir < 0) rc = dir;
  else {
    rc = unlinkat(dir, last, flags) < 0 ? -errno : 0;
    close(dir);
  }
  done(&a);
  if (!rc) node_unlink(node_of(parent), name);
  fuse_reply_err(req, -rc);
}

static void op_unlink (fuse_req_t req, fuse_ino_t parent, const char *name) { remove_name(req, parent, name, 0); }
static void op_rmdir (fuse_req_t req, fuse_ino_t parent, const char *name) { remove_name(req, parent, name, AT_REMOVEDIR); }

// NOTE: both ends are held under the table's read lock at once (glibc's default rwlock prefers
// readers, so taking it twice in one thread cannot deadlock against a waiting writer).
// The parent directories of two names in one mount (EXDEV across mounts), for rename and link.
static int two_parents (struct at *a, struct at *b, int *d1, const char **n1, int *d2, const char **n2) {
  *d1 = *d2 = -1;
  if (a->m != b->m) return -EXDEV;
  *d1 = mount_parent(a->m, a->inner, n1);
  *d2 = mount_parent(b->m, b->inner, n2);
  return *d1 < 0 ? *d1 : *d2 < 0 ? *d2 : 0;
}

static void op_rename (fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent, const char *newname, unsigned int flags) {
  if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) return (void) fuse_reply_err(req, EINVAL);
  struct at a, b;
  int rc = resolve_child(req, &a, parent, name, false);
  if (rc) return (void) fuse_reply_err(req, -rc);
  rc = resolve_child(req, &b, newparent, newname, false);
  if (rc) {
    done(&a);
    return (void) fuse_reply_err(req, -rc);
  }
  const char *n1, *n2;
  int d1, d2;
  rc = two_parents(&a, &b, &d1, &n1, &d2, &n2);
  if (!rc && renameat2(d1, n1, d2, n2, flags) < 0) rc = -errno;
  if (d1 >= 0) close(d1);
  if (d2 >= 0) close(d2);
  done(&b);
  done(&a);
  if (!rc) node_rename(node_of(parent), name, node_of(newparent), newname, flags & RENAME_EXCHANGE);
  fuse_reply_err(req, -rc);
}

static void op_link (fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname) {
  struct at a, b;
  int rc = resolve_node(req, &a, ino);
  if (rc) return (void) fuse_reply_err(req, -rc);
  if (!a.m || a.inner[1] == '\0') {
    done(&a);
    return (void) fuse_reply_err(req, a.m ? EXDEV : EPERM);
  }
  rc = resolve_child(req, &b, newparent, newname, true);
  if (rc) {
    done(&a);
    return (void) fuse_reply_err(req, -rc);
  }
  const char *n1, *n2;
  int d1, d2;
  rc = two_parents(&a, &b, &d1, &n1, &d2, &n2);
  if (!rc && linkat(d1, n1, d2, n2, 0) < 0) rc = -errno;
  if (d1 >= 0) close(d1);
  if (d2 >= 0) close(d2);
  done(&b);
  done(&a);
  if (rc) return (void) fuse_reply_err(req, -rc);
  reply_entry(req, newparent, newname);
}

static void set_open_flags (struct fuse_file_info *fi, struct mount *m, struct node *n, int fd) {
  struct stat st;
  if (m->cache_long) fi->keep_cache = 1;
  else if (n && fstat(fd, &st) == 0) {
    // NOTE: a read-write bind can change on the host at any time: its pages are kept across opens
    // only while the file's size and mtime are what the last open saw (libfuse's auto_cache).
    nodes_lock();
    fi->keep_cache = n->seen_size == st.st_size && n->seen_mtime.tv_sec == st.st_mtim.tv_sec && n->seen_mtime.tv_nsec == st.st_mtim.tv_nsec;
    n->seen_size = st.st_size;
    n->seen_mtime = st.st_mtim;
    nodes_unlock();
  }
  if ((fi->flags & O_ACCMODE) == O_RDONLY) fi->noflush = 1;
}

// How passthrough.c opens a node's backing file for reading and writing when it needs one.
struct reopen {
  struct mount *m;
  const char *inner;
};

static int reopen_rdwr (void *ctx) {
  struct reopen *r = ctx;
  return mount_open(r->m, r->inner, O_RDWR);
}

static void op_open (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  struct at a;
  int rc = resolve_node(req, &a, ino);
  if (rc) return (void) fuse_reply_err(req, -rc);
  bool writes = (fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC);
  if (!a.m) rc = -EISDIR;
  else if (writes && a.m->read_only) rc = -EROFS;
  int fd = rc ? rc : mount_open(a.m, a.inner, fi->flags & OPEN_FLAGS);
  if (!rc && fd < 0) rc = fd;
  // NOTE: a write through a shared mapping (or passthrough) never reaches a path where the kernel
  // clears set-id bits, so a host file opened for writing loses them here, at once: the host must
  // never run as root code the container wrote (issue 10, finding 3).
  struct stat wst;
  if (!rc && writes && a.m->host && fstat(fd, &wst) == 0 && S_ISREG(wst.st_mode) && (wst.st_mode & (S_ISUID | S_ISGID)))
    (void) fchmod(fd, wst.st_mode & 07777 & ~(S_ISUID | S_ISGID));
  // NOTE: judged on the file just opened, so nothing can be swapped in between check and use.
  struct stat st;
  if (!rc && (fi->flags & FMODE_EXEC) && fstat(fd, &st) == 0) {
    char **paths = node_paths(a.node);
    const char *path = a.path;
    const struct fuse_ctx *c = fuse_req_ctx(req);
    const char *refused = paths ? policy_decide(paths, fd, st.st_mode, c->pid, &path) : "not-allowed";
    event_launch(path, c->pid, c->uid, refused);
    for (size_t i = 0; paths && paths[i]; i++) free(paths[i]);
    free(paths);
    if (refused) {
      close(fd);
      rc = -EPERM;
    }
  }
  if (!rc) {
    set_open_flags(fi, a.m, a.node, fd);
    struct reopen r = { a.m, a.inner };
    struct stat big;
    enum pass pass = writes ? PASS_WRITES
                     : a.m->read_only && fstat(fd, &big) == 0 && big.st_size >= LARGE_FILE ? PASS_LARGE_READ_ONLY
                     : PASS_NO;
    passthrough_opened(a.node, fd, pass, reopen_rdwr, &r);
  }
  done(&a);
  if (rc) return (void) fuse_reply_err(req, -rc);
  fi->fh = (uint64_t) fd;
  if (fuse_reply_open(req, fi) == -ENOENT) {
    // NOTE: the caller was interrupted: the kernel never saw this open.
    passthrough_released(node_of(ino), fd);
    close(fd);
  }
}

static void op_create (fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi) {
  struct at a;
  int rc = resolve_child(req, &a, parent, name, true);
  if (rc) return (void) fuse_reply_err(req, -rc);
  if (a.m->host && (mode & (S_ISUID | S_ISGID))) rc = -EPERM;
  const char *last;
  int dir = rc ? rc : parent_for_create(&a, &last);
  int fd = -1;
  if (!rc && dir < 0) rc = dir;
  if (!rc) {
    // NOTE: always O_EXCL: the kernel sends CREATE for a name it believes absent; a file another
    // writer made meanwhile must not be opened past its permissions nor given to the caller.
    fd = openat(dir, last, (fi->flags & OPEN_FLAGS) | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 07777);
    rc = fd < 0 ? -errno : own(req, dir, last);
  }
  if (dir >= 0) close(dir);
  struct stat st;
  if (!rc && fstat(fd, &st) < 0) rc = -errno;
  struct fuse_entry_param e = { 0 };
  if (!rc) {
    struct node *n = node_get(a.m->id, st.st_dev, st.st_ino, node_of(parent), name);
    if (!n) rc = -ENOMEM;
    else {
      st.st_ino = n->serial;
      identity_show(&st);
      e.ino = node_ino(n);
      e.attr = st;
      e.attr_timeout = e.entry_timeout = timeout(a.m);
      set_open_flags(fi, a.m, n, fd);
      struct reopen r = { a.m, a.inner };
      passthrough_opened(n, fd, PASS_WRITES, reopen_rdwr, &r);
    }
  }
  done(&a);
  if (rc) {
    if (fd >= 0) close(fd);
    return (void) fuse_reply_err(req, -rc);
  }
  fi->fh = (uint64_t) fd;
  if (fuse_reply_create(req, &e, fi) == -ENOENT) {
    passthrough_released(node_of(e.ino), fd);
    close(fd);
  }
}

static void op_read (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
  buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
  buf.buf[0].fd = (int) fi->fh;
  buf.buf[0].pos = off;
  fuse_reply_data(req, &buf, FUSE_BUF_NO_SPLICE);
}

static void op_write_buf (fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in, off_t off, struct fuse_file_info *fi) {
  struct fuse_bufvec out = FUSE_BUFVEC_INIT(fuse_buf_size(in));
  out.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
  out.buf[0].fd = (int) fi->fh;
  out.buf[0].pos = off;
  ssize_t n = fuse_buf_copy(&out, in, 0);
  if (n < 0) fuse_reply_err(req, (int) -n);
  else fuse_reply_write(req, (size_t) n);
}

static void op_flush (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) { fuse_reply_err(req, 0); }

static void op_release (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  passthrough_released(node_of(ino), (int) fi->fh);
  close((int) fi->fh);
  fuse_reply_err(req, 0);
}

static void op_fsync (fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi) {
  int rc = datasync ? fdatasync((int) fi->fh) : fsync((int) fi->fh);
  fuse_reply_err(req, rc < 0 ? errno : 0);
}

static void op_statfs (fuse_req_t req, fuse_ino_t ino) {
  struct at a;
  int rc = resolve_node(req, &a, ino);
  if (rc) return (void) fuse_reply_err(req, -rc);
  struct statvfs sv;
  rc = fstatvfs(a.holder->root_fd, &sv) < 0 ? -errno : 0;
  done(&a);
  if (rc) fuse_reply_err(req, -rc);
  else fuse_reply_statfs(req, &sv);
}

static void op_fallocate (fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len, struct fuse_file_info *fi) {
  fuse_reply_err(req, fallocate((int) fi->fh, mode, off, len) < 0 ? errno : 0);
}

static void op_lseek (fuse_req_t req, fuse_ino_t ino, off_t off, int whence, struct fuse_file_info *fi) {
  off_t r = lseek((int) fi->fh, off, whence);
  if (r < 0) fuse_reply_err(req, errno);
  else fuse_reply_lseek(req, r);
}

static void op_copy_file_range (fuse_req_t req, fuse_ino_t in, off_t off_in, struct fuse_file_info *fi_in, fuse_ino_t out,
                                off_t off_out, struct fuse_file_info *fi_out, size_t len, int flags) {
  ssize_t n = copy_file_range((int) fi_in->fh, &off_in, (int) fi_out->fh, &off_out, len, (unsigned) flags);
  if (n < 0) fuse_reply_err(req, errno);
  else fuse_reply_write(req, (size_t) n);
}

// NOTE: no lock operations: without them the kernel keeps POSIX and flock locks itself, which is
// right for one server per context (every process using these files goes through this mount).
const struct fuse_lowlevel_ops context_ops = {
  .init = op_init,
  .lookup = op_lookup,
  .forget = op_forget,
  .forget_multi = op_forget_multi,
  .getattr = op_getattr,
  .setattr = op_setattr,
  .readlink = op_readlink,
  .mknod = op_mknod,
  .mkdir = op_mkdir,
  .unlink = op_unlink,
  .rmdir = op_rmdir,
  .symlink = op_symlink,
  .rename = op_rename,
  .link = op_link,
  .open = op_open,
  .read = op_read,
  .write_buf = op_write_buf,
  .flush = op_flush,
  .release = op_release,
  .fsync = op_fsync,
  .opendir = op_opendir,
  .readdir = op_readdir,
  .readdirplus = op_readdirplus,
  .releasedir = op_releasedir,
  .fsyncdir = op_fsyncdir,
  .statfs = op_statfs,
  .setxattr = op_setxattr,
  .getxattr = op_getxattr,
  .listxattr = op_listxattr,
  .removexattr = op_removexattr,
  .create = op_create,
  .fallocate = op_fallocate,
  .lseek = op_lseek,
  .copy_file_range = op_copy_file_range,
};
