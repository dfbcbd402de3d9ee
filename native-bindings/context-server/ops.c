// The FUSE low-level operations: the tree of nodes over the mount table's backends.
//
// NOTE: every handler replies exactly once, with a result or an errno; none may crash the server.
#include "context-server.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

enum { FMODE_EXEC = 0x20 };  // __FMODE_EXEC: the open the kernel sends for execve(2)
static const off_t LARGE_FILE = 1 << 20;  // read-only files from this size pass through
static const double LONG_TIMEOUT = 86400, SHORT_TIMEOUT = 1, NEGATIVE_TIMEOUT = 1;
// NOTE: openat2 refuses unknown flags; these are the ones an open may carry through to the host.
static const int OPEN_FLAGS = O_ACCMODE | O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME | O_SYNC | O_DSYNC | O_TRUNC | O_LARGEFILE;
static struct timespec started;

// A node resolved for one request: the table's read lock is held until `done`.
struct at {
  struct node *node;      // NULL for a child not looked up yet
  char *path;             // in the tree
  struct mount *holder;   // the mount holding `path`
  struct mount *m;        // = holder, or NULL when `path` is a synthesised directory
  const char *inner;      // the path inside holder ("/" for its root)
};

static void done (struct at *a) {
  pthread_rwlock_unlock(&table_lock);
  free(a->path);
  a->path = NULL;
}

static char *join (const char *dir, const char *name) {
  size_t dl = strlen(dir), nl = strlen(name);
  char *p = malloc(dl + nl + 2);
  if (!p) return NULL;
  memcpy(p, dir, dl);
  size_t o = dl == 1 ? 0 : dl;
  p[o] = '/';
  memcpy(p + o + 1, name, nl + 1);
  return p;
}

static int resolve_path (struct at *a, char *path) {
  a->path = path;
  if (!path) return -ENOENT;
  pthread_rwlock_rdlock(&table_lock);
  int rc = table_hidden(path) ? -ENOENT : 0;
  a->holder = a->m = rc ? NULL : table_resolve(path, &a->inner);
  if (!rc && !a->m) rc = -ENOENT;
  if (rc) {
    done(a);
    return rc;
  }
  return 0;
}

static int resolve_node (struct at *a, fuse_ino_t ino) {
  a->node = node_of(ino);
  int rc = resolve_path(a, node_path(a->node));
  if (rc) return a->node->names || a->node == root_node ? rc : -ESTALE;
  if (a->node == root_node) return 0;
  if (a->node->mount_id == 0) {
    a->m = NULL;
    if (!table_busy(a->path)) rc = -ESTALE;
  } else if (a->node->mount_id != a->m->id) {
    rc = -ESTALE;  // NOTE: its mount was removed or covered; the kernel looks the name up again
  }
  if (rc) done(a);
  return rc;
}

// A child of `parent` about to be created or removed: refused in read-only and synthesised places.
static int resolve_child (struct at *a, fuse_ino_t parent, const char *name, bool creating) {
  if (strlen(name) > NAME_MAX) return -ENAMETOOLONG;
  struct node *p = node_of(parent);
  char *dir = node_path(p);
  a->node = NULL;
  if (!dir) return -ENOENT;  // NOTE: the parent was removed meanwhile
  int rc = resolve_path(a, join(dir, name));
  free(dir);
  // NOTE: a hidden name cannot be made to exist either.
  if (rc) return rc == -ENOENT && creating ? -EPERM : rc;
  if (table_busy(a->path)) rc = creating ? -EEXIST : -EBUSY;
  else if (a->m->read_only) rc = -EROFS;
  else if (a->inner[1] == '\0') rc = -EBUSY;
  if (rc) done(a);
  return rc;
}

static double timeout (struct mount *m) { return !m || m->cache_long ? LONG_TIMEOUT : SHORT_TIMEOUT; }

static void synth_stat (struct stat *st) {
  memset(st, 0, sizeof *st);
  st->st_mode = S_IFDIR | 0755;
  st->st_nlink = 2;
  st->st_blksize = 4096;
  st->st_atim = st->st_mtim = st->st_ctim = started;
}

static int stat_at (struct at *a, struct stat *st) {
  if (!a->m) {
    synth_stat(st);
  } else {
    int fd = mount_open(a->m, a->inner, O_PATH | O_NOFOLLOW);
    if (fd < 0) return fd;
    int rc = fstat(fd, st) < 0 ? -errno : 0;
    close(fd);
    if (rc) return rc;
  }
  if (a->node) st->st_ino = a->node->serial;
  return 0;
}

// Looks `name` up in `parent` and counts it; 0 with e->ino 0 for a (cached) negative entry.
static int lookup_entry (fuse_ino_t parent, const char *name, struct fuse_entry_param *e) {
  memset(e, 0, sizeof *e);
  if (strlen(name) > NAME_MAX) return -ENAMETOOLONG;
  struct node *p = node_of(parent);
  char *dir = node_path(p);
  if (!dir) return -ENOENT;
  struct at a = { 0 };
  int rc = resolve_path(&a, join(dir, name));
  free(dir);
  if (rc == -ENOENT) goto negative;
  if (rc) return rc;
  struct stat st;
  uint64_t mount_id = a.m->id;
  int fd = mount_open(a.m, a.inner, O_PATH | O_NOFOLLOW);
  if (fd >= 0) {
    rc = fstat(fd, &st) < 0 ? -errno : 0;
    close(fd);
  } else {
    rc = fd;
  }
  // NOTE: a path on the way to a mount target is a directory even where its backend has none.
  if ((rc == -ENOENT || rc == -ENOTDIR) && table_busy(a.path)) {
    synth_stat(&st);
    mount_id = 0;
    a.m = NULL;
    rc = 0;
  }
  if (rc) {
    done(&a);
    if (rc == -ENOENT) goto negative;
    return rc;
  }
  struct node *n = node_get(mount_id, st.st_dev, st.st_ino, p, name);
  double t = timeout(a.m);
  done(&a);
  if (!n) return -ENOMEM;
  st.st_ino = n->serial;
  e->ino = node_ino(n);
  e->attr = st;
  e->attr_timeout = e->entry_timeout = t;
  return 0;
negative:
  e->ino = 0;
  e->entry_timeout = NEGATIVE_TIMEOUT;
  return 0;
}

static void reply_entry (fuse_req_t req, fuse_ino_t parent, const char *name) {
  struct fuse_entry_param e;
  int rc = lookup_entry(parent, name, &e);
  if (!rc && e.ino == 0) rc = -ENOENT;
  if (rc) fuse_reply_err(req, -rc);
  else fuse_reply_entry(req, &e);
}

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
  int rc = lookup_entry(parent, name, &e);
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

static void op_getattr (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  struct stat st;
  if (fi) {
    if (fstat((int) fi->fh, &st) < 0) return (void) fuse_reply_err(req, errno);
    st.st_ino = node_of(ino)->serial;
    return (void) fuse_reply_attr(req, &st, SHORT_TIMEOUT);
  }
  struct at a;
  int rc = resolve_node(&a, ino);
  if (rc == -ESTALE) {
    int fd = node_open_fd(node_of(ino));
    if (fd >= 0 && fstat(fd, &st) == 0) {
      close(fd);
      st.st_ino = node_of(ino)->serial;
      return (void) fuse_reply_attr(req, &st, SHORT_TIMEOUT);
    }
    if (fd >= 0) close(fd);
  }
  if (rc) return (void) fuse_reply_err(req, -rc);
  rc = stat_at(&a, &st);
  double t = timeout(a.m);
  done(&a);
  if (rc) fuse_reply_err(req, -rc);
  else fuse_reply_attr(req, &st, t);
}

// A node with no name left (a file unlinked while open) is reached through one of its open files.
static int resolve_orphan (struct at *a, fuse_ino_t ino, int *obj) {
  struct node *n = node_of(ino);
  if (n->names || n == root_node || n->mount_id == 0) return -ESTALE;
  *obj = node_open_fd(n);
  if (*obj < 0) return -ESTALE;
  pthread_rwlock_rdlock(&table_lock);
  a->node = n;
  a->path = NULL;
  a->holder = a->m = table_by_id(n->mount_id);
  a->inner = "/";
  if (a->m) return 0;
  done(a);
  close(*obj);
  return -ESTALE;
}

static int proc_path (char *buf, size_t len, int fd) { return snprintf(buf, len, "/proc/self/fd/%d", fd); }

static void op_setattr (fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi) {
  struct at a;
  int obj = -1;
  int rc = resolve_node(&a, ino);
  if (rc == -ESTALE) rc = resolve_orphan(&a, ino, &obj);
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
    else if ((fi ? fchmod((int) fi->fh, attr->st_mode & 07777) : chmod(proc, attr->st_mode & 07777)) < 0) rc = -errno;
  }
  if (!rc && (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID))) {
    uid_t uid = to_set & FUSE_SET_ATTR_UID ? attr->st_uid : (uid_t) -1;
    gid_t gid = to_set & FUSE_SET_ATTR_GID ? attr->st_gid : (gid_t) -1;
    if (fchownat(obj, "", uid, gid, AT_EMPTY_PATH) < 0) rc = -errno;
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
  else fuse_reply_attr(req, &st, t);
}

static void op_readlink (fuse_req_t req, fuse_ino_t ino) {
  struct at a;
  int rc = resolve_node(&a, ino);
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
  done(&a);
  if (n < 0) return (void) fuse_reply_err(req, (int) -n);
  buf[n] = '\0';
  fuse_reply_readlink(req, buf);
}

// Gives a new object the caller's ownership (and its parent's group where that is set-gid).
static int own (fuse_req_t req, int dir, const char *name, bool is_dir) {
  const struct fuse_ctx *c = fuse_req_ctx(req);
  struct stat pst;
  if (fstat(dir, &pst) < 0) return -errno;
  gid_t gid = pst.st_mode & S_ISGID ? (gid_t) -1 : c->gid;
  if (c->uid == 0 && (gid == (gid_t) -1 || gid == 0)) return 0;
  if (fchownat(dir, name, c->uid, gid, AT_SYMLINK_NOFOLLOW) < 0) return -errno;
  (void) is_dir;
  return 0;
}

enum make { MAKE_NODE, MAKE_DIR, MAKE_LINK };

static void make (fuse_req_t req, fuse_ino_t parent, const char *name, enum make kind, mode_t mode, const char *link) {
  if (kind == MAKE_NODE && (S_ISCHR(mode) || S_ISBLK(mode))) return (void) fuse_reply_err(req, EPERM);
  struct at a;
  int rc = resolve_child(&a, parent, name, true);
  if (rc) return (void) fuse_reply_err(req, -rc);
  if (kind == MAKE_NODE && a.m->host && (mode & (S_ISUID | S_ISGID))) rc = -EPERM;
  const char *last;
  int dir = rc ? rc : mount_parent(a.m, a.inner, &last);
  if (dir < 0) rc = dir;
  else {
    int r = kind == MAKE_DIR ? mkdirat(dir, last, mode & 07777) : kind == MAKE_LINK ? symlinkat(link, dir, last) : mknodat(dir, last, mode, 0);
    rc = r < 0 ? -errno : own(req, dir, last, kind == MAKE_DIR);
    close(dir);
  }
  done(&a);
  if (rc) return (void) fuse_reply_err(req, -rc);
  reply_entry(req, parent, name);
}

static void op_mknod (fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev) { make(req, parent, name, MAKE_NODE, mode, NULL); }
static void op_mkdir (fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode) { make(req, parent, name, MAKE_DIR, mode, NULL); }
static void op_symlink (fuse_req_t req, const char *link, fuse_ino_t parent, const char *name) { make(req, parent, name, MAKE_LINK, 0, link); }

static void remove_name (fuse_req_t req, fuse_ino_t parent, const char *name, int flags) {
  struct at a;
  int rc = resolve_child(&a, parent, name, false);
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
static void op_rename (fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent, const char *newname, unsigned int flags) {
  if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) return (void) fuse_reply_err(req, EINVAL);
  struct at a, b;
  int rc = resolve_child(&a, parent, name, false);
  if (rc) return (void) fuse_reply_err(req, -rc);
  rc = resolve_child(&b, newparent, newname, false);
  if (rc == -ENOENT && !(flags & RENAME_EXCHANGE)) rc = -ENOENT;
  if (rc) {
    done(&a);
    return (void) fuse_reply_err(req, -rc);
  }
  if (a.m != b.m) rc = -EXDEV;
  const char *n1, *n2;
  int d1 = rc ? -1 : mount_parent(a.m, a.inner, &n1);
  int d2 = rc ? -1 : mount_parent(b.m, b.inner, &n2);
  if (!rc && (d1 < 0 || d2 < 0)) rc = d1 < 0 ? d1 : d2;
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
  int rc = resolve_node(&a, ino);
  if (rc) return (void) fuse_reply_err(req, -rc);
  if (!a.m || a.inner[1] == '\0') {
    done(&a);
    return (void) fuse_reply_err(req, a.m ? EXDEV : EPERM);
  }
  rc = resolve_child(&b, newparent, newname, true);
  if (rc) {
    done(&a);
    return (void) fuse_reply_err(req, -rc);
  }
  if (b.m != a.m) rc = -EXDEV;
  const char *n1, *n2;
  int d1 = rc ? -1 : mount_parent(a.m, a.inner, &n1);
  int d2 = rc ? -1 : mount_parent(b.m, b.inner, &n2);
  if (!rc && (d1 < 0 || d2 < 0)) rc = d1 < 0 ? d1 : d2;
  if (!rc && linkat(d1, n1, d2, n2, 0) < 0) rc = -errno;
  if (d1 >= 0) close(d1);
  if (d2 >= 0) close(d2);
  done(&b);
  done(&a);
  if (rc) return (void) fuse_reply_err(req, -rc);
  reply_entry(req, newparent, newname);
}

static void set_open_flags (struct fuse_file_info *fi, struct mount *m) {
  if (m->cache_long) fi->keep_cache = 1;
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
  int rc = resolve_node(&a, ino);
  if (rc) return (void) fuse_reply_err(req, -rc);
  bool writes = (fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC);
  if (!a.m) rc = -EISDIR;
  else if (writes && a.m->read_only) rc = -EROFS;
  int fd = rc ? rc : mount_open(a.m, a.inner, fi->flags & OPEN_FLAGS);
  if (!rc && fd < 0) rc = fd;
  // NOTE: judged on the file just opened, so nothing can be swapped in between check and use.
  struct stat st;
  if (!rc && (fi->flags & FMODE_EXEC) && fstat(fd, &st) == 0) {
    char **paths = node_paths(a.node);
    const char *path = a.path;
    const char *refused = paths ? policy_decide(paths, st.st_mode, &path) : "not-allowed";
    const struct fuse_ctx *c = fuse_req_ctx(req);
    event_launch(path, c->pid, c->uid, refused);
    for (size_t i = 0; paths && paths[i]; i++) free(paths[i]);
    free(paths);
    if (refused) {
      close(fd);
      rc = -EPERM;
    }
  }
  if (!rc) {
    set_open_flags(fi, a.m);
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
  int rc = resolve_child(&a, parent, name, true);
  if (rc) return (void) fuse_reply_err(req, -rc);
  if (a.m->host && (mode & (S_ISUID | S_ISGID))) rc = -EPERM;
  const char *last;
  int dir = rc ? rc : mount_parent(a.m, a.inner, &last);
  int fd = -1;
  if (!rc && dir < 0) rc = dir;
  if (!rc) {
    // NOTE: always O_EXCL: the kernel sends CREATE for a name it believes absent; a file another
    // writer made meanwhile must not be opened past its permissions nor given to the caller.
    fd = openat(dir, last, (fi->flags & OPEN_FLAGS) | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 07777);
    rc = fd < 0 ? -errno : own(req, dir, last, false);
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
      e.ino = node_ino(n);
      e.attr = st;
      e.attr_timeout = e.entry_timeout = timeout(a.m);
      set_open_flags(fi, a.m);
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

// A directory listing taken at opendir: backend names (hidden ones left out) and mount targets.
struct listing {
  struct node *dir;
  size_t n;
  struct entry {
    char *name;
    ino_t ino;
    mode_t type;
    bool plain;           // a backend entry with no mount below it: readdirplus may stat it here
  } *e;
  uint64_t mount_id;
  dev_t dev;
  int fd;                 // the directory (one per open directory), or -1 when only synthesised
  double timeout;
  char *path;
  bool loaded;
};

static void listing_add (struct listing *l, const char *name, ino_t ino, mode_t type, bool plain) {
  struct entry *grown = realloc(l->e, (l->n + 1) * sizeof *l->e);
  if (!grown) return;
  l->e = grown;
  l->e[l->n++] = (struct entry) { strdup(name), ino, type, plain };
}

// NOTE: the listing is read at the first READDIR, not at OPENDIR: with cache_readdir a warm walk
// opens directories without reading them, and must not pay for a listing it never uses.
static void op_opendir (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  struct at a;
  int rc = resolve_node(&a, ino);
  if (rc) return (void) fuse_reply_err(req, -rc);
  struct listing *l = calloc(1, sizeof *l);
  if (!l || !(l->path = strdup(a.path))) {
    free(l);
    done(&a);
    return (void) fuse_reply_err(req, ENOMEM);
  }
  l->dir = a.node;
  l->fd = -1;
  l->timeout = timeout(a.m);
  if (a.m) {
    l->mount_id = a.m->id;
    l->fd = mount_open(a.m, a.inner, O_RDONLY | O_DIRECTORY);
    struct stat st;
    if (l->fd >= 0 && fstat(l->fd, &st) == 0) l->dev = st.st_dev;
    if (l->fd < 0) {
      char **names;
      int count = table_child_names(a.path, &names);
      for (int i = 0; i < count; i++) free(names[i]);
      free(names);
      // NOTE: a directory only synthesised lists its mount targets.
      if (l->fd != -ENOENT || count == 0) rc = l->fd;
    }
  }
  if (!a.m || a.m->cache_long) fi->keep_cache = fi->cache_readdir = 1;
  done(&a);
  if (rc) {
    free(l->path);
    free(l);
    return (void) fuse_reply_err(req, -rc);
  }
  fi->fh = (uint64_t) (uintptr_t) l;
  fuse_reply_open(req, fi);
}

// Backend names (hidden ones left out) and the mount targets below, read once per open directory.
static void listing_load (struct listing *l) {
  l->loaded = true;
  listing_add(l, ".", 1, S_IFDIR, false);
  listing_add(l, "..", 1, S_IFDIR, false);
  pthread_rwlock_rdlock(&table_lock);
  int fd = l->fd >= 0 ? fcntl(l->fd, F_DUPFD_CLOEXEC, 0) : -1;
  DIR *d = fd < 0 ? NULL : fdopendir(fd);
  if (d) {
    rewinddir(d);
    struct dirent *de;
    while ((de = readdir(d))) {
      if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
      char *child = join(l->path, de->d_name);
      if (child && !table_hidden(child)) listing_add(l, de->d_name, de->d_ino, (mode_t) DTTOIF(de->d_type), !table_busy(child));
      free(child);
    }
    closedir(d);
  } else if (fd >= 0) {
    close(fd);
  }
  char **names;
  int count = table_child_names(l->path, &names);
  for (int i = 0; i < count; i++) {
    bool seen = false;
    for (size_t j = 2; j < l->n && !seen; j++) seen = strcmp(l->e[j].name, names[i]) == 0;
    char *child = join(l->path, names[i]);
    if (!seen && child && !table_hidden(child)) listing_add(l, names[i], 0, 0, false);
    free(child);
    free(names[i]);
  }
  free(names);
  pthread_rwlock_unlock(&table_lock);
}

static void list (fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi, bool plus) {
  struct listing *l = (struct listing *) (uintptr_t) fi->fh;
  if (!l->loaded) listing_load(l);
  char *buf = malloc(size);
  if (!buf) return (void) fuse_reply_err(req, ENOMEM);
  size_t pos = 0;
  for (size_t i = (size_t) off; i < l->n; i++) {
    struct entry *e = &l->e[i];
    struct fuse_entry_param ep = { 0 };
    ep.attr.st_mode = e->type;
    struct node *known = e->ino && i >= 2 ? node_find(l->mount_id, l->dev, e->ino) : NULL;
    ep.attr.st_ino = known ? known->serial : e->ino;
    size_t want;
    if (!plus) {
      want = fuse_add_direntry(req, buf + pos, size - pos, e->name, &ep.attr, (off_t) i + 1);
    } else {
      if (i >= 2 && e->plain && l->fd >= 0) {
        // NOTE: one name in a directory we hold open: no path walk, no symlink followed.
        struct stat st;
        struct node *n = fstatat(l->fd, e->name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? node_get(l->mount_id, st.st_dev, st.st_ino, l->dir, e->name) : NULL;
        if (n) {
          st.st_ino = n->serial;
          ep.ino = node_ino(n);
          ep.attr = st;
          ep.attr_timeout = ep.entry_timeout = l->timeout;
        } else {
          ep.attr.st_ino = e->ino;
        }
      } else if (i >= 2 && (lookup_entry(node_ino(l->dir), e->name, &ep) != 0 || ep.ino == 0)) {
        memset(&ep, 0, sizeof ep);
        ep.attr.st_mode = e->type;
        ep.attr.st_ino = e->ino;
      }
      want = fuse_add_direntry_plus(req, buf + pos, size - pos, e->name, &ep, (off_t) i + 1);
      // NOTE: an entry that did not fit was not given to the kernel: its lookup does not count.
      if (want > size - pos && ep.ino) node_forget(node_of(ep.ino), 1);
    }
    if (want > size - pos) break;
    pos += want;
  }
  fuse_reply_buf(req, buf, pos);
  free(buf);
}

static void op_readdir (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) { list(req, size, off, fi, false); }
static void op_readdirplus (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) { list(req, size, off, fi, true); }

static void op_releasedir (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  struct listing *l = (struct listing *) (uintptr_t) fi->fh;
  for (size_t i = 0; i < l->n; i++) free(l->e[i].name);
  if (l->fd >= 0) close(l->fd);
  free(l->path);
  free(l->e);
  free(l);
  fuse_reply_err(req, 0);
}

static void op_fsyncdir (fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi) {
  struct at a;
  int rc = resolve_node(&a, ino);
  if (rc) return (void) fuse_reply_err(req, -rc);
  int fd = a.m ? mount_open(a.m, a.inner, O_RDONLY | O_DIRECTORY) : -EINVAL;
  rc = fd < 0 ? fd : (fsync(fd) < 0 ? -errno : 0);
  if (fd >= 0) close(fd);
  done(&a);
  fuse_reply_err(req, -rc);
}

static void op_statfs (fuse_req_t req, fuse_ino_t ino) {
  struct at a;
  int rc = resolve_node(&a, ino);
  if (rc) return (void) fuse_reply_err(req, -rc);
  struct statvfs sv;
  rc = fstatvfs(a.holder->root_fd, &sv) < 0 ? -errno : 0;
  done(&a);
  if (rc) fuse_reply_err(req, -rc);
  else fuse_reply_statfs(req, &sv);
}

// xattrs go through /proc/self/fd of the object itself: O_PATH descriptors take no f*xattr call.
static int xattr_object (struct at *a, char proc[32], bool writing, const char *name) {
  if (!a->m) return writing ? -EPERM : -ENODATA;
  if (writing && a->m->read_only) return -EROFS;
  // NOTE: file capabilities and trusted/security names on a host file would be privilege there.
  if (writing && a->m->host && name && strncmp(name, "user.", 5) != 0 && strncmp(name, "system.posix_acl_", 17) != 0) return -EPERM;
  int fd = mount_open(a->m, a->inner, O_PATH | O_NOFOLLOW);
  if (fd < 0) return fd;
  struct stat st;
  if (fstat(fd, &st) < 0 || S_ISLNK(st.st_mode)) {
    close(fd);
    return writing ? -EPERM : -ENODATA;
  }
  proc_path(proc, 32, fd);
  return fd;
}

static void op_setxattr (fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size, int flags) {
  struct at a;
  int rc = resolve_node(&a, ino);
  if (rc) return (void) fuse_reply_err(req, -rc);
  char proc[32];
  int fd = xattr_object(&a, proc, true, name);
  rc = fd < 0 ? fd : (setxattr(proc, name, value, size, flags) < 0 ? -errno : 0);
  if (fd >= 0) close(fd);
  done(&a);
  fuse_reply_err(req, -rc);
}

static void op_removexattr (fuse_req_t req, fuse_ino_t ino, const char *name) {
  struct at a;
  int rc = resolve_node(&a, ino);
  if (rc) return (void) fuse_reply_err(req, -rc);
  char proc[32];
  int fd = xattr_object(&a, proc, true, name);
  rc = fd < 0 ? fd : (removexattr(proc, name) < 0 ? -errno : 0);
  if (fd >= 0) close(fd);
  done(&a);
  fuse_reply_err(req, -rc);
}

static void get_or_list (fuse_req_t req, fuse_ino_t ino, const char *name, size_t size) {
  struct at a;
  int rc = resolve_node(&a, ino);
  if (rc) return (void) fuse_reply_err(req, -rc);
  char proc[32];
  int fd = xattr_object(&a, proc, false, name);
  char *buf = size ? malloc(size) : NULL;
  ssize_t n = fd;
  if (fd == -ENODATA && !name) n = 0;
  else if (fd >= 0) n = name ? getxattr(proc, name, buf, size) : listxattr(proc, buf, size);
  if (n == -1) n = -errno;
  if (fd >= 0) close(fd);
  done(&a);
  if (n < 0) fuse_reply_err(req, (int) -n);
  else if (size == 0) fuse_reply_xattr(req, (size_t) n);
  else fuse_reply_buf(req, buf, (size_t) n);
  free(buf);
}

static void op_getxattr (fuse_req_t req, fuse_ino_t ino, const char *name, size_t size) { get_or_list(req, ino, name, size); }
static void op_listxattr (fuse_req_t req, fuse_ino_t ino, size_t size) { get_or_list(req, ino, NULL, size); }

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

// A layout's mkdir, before anything is served: in whatever mount holds the path.
int layout_mkdir (const char *path, mode_t mode, char *err, size_t errlen) {
  struct at a = { 0 };
  int rc = resolve_path(&a, strdup(path));
  if (rc) return rc;
  if (a.m->read_only) rc = -EROFS;
  else if (a.inner[1] != '\0') {
    const char *last;
    int dir = mount_parent(a.m, a.inner, &last);
    if (dir < 0) rc = dir;
    else {
      struct stat st;
      if (mkdirat(dir, last, mode & 07777) < 0) rc = errno == EEXIST && fstatat(dir, last, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) ? 0 : -errno;
      // NOTE: mkdir(2) ignores S_ISGID in its mode; a layout asking for it gets it explicitly.
      else if ((mode & 07000) && fchmodat(dir, last, mode & 07777, AT_SYMLINK_NOFOLLOW) < 0) rc = -errno;
      close(dir);
    }
  }
  done(&a);
  return rc;
}

// locate: the object at `path` beneath this root, held open for another server to mount.
int locate_path (const char *path, int *fd, bool *dir, uint64_t *mount_id) {
  struct at a = { 0 };
  int rc = resolve_path(&a, strdup(path));
  if (rc) return rc;
  int f = mount_open(a.m, a.inner, O_PATH | O_NOFOLLOW);
  struct stat st;
  if (f < 0) rc = f;
  else if (fstat(f, &st) < 0) rc = -errno;
  else if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) rc = -EINVAL;
  // NOTE: another server will write these files too: our kernel caches must not outlive that.
  if (!rc) a.m->cache_long = false, *fd = f, *dir = S_ISDIR(st.st_mode), *mount_id = a.m->id;
  else if (f >= 0) close(f);
  done(&a);
  return rc;
}
