// Resolving a request: a node or a name to the mount holding it and the path inside that mount.
#include "context-server.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct timespec started;

void done (struct at *a) {
  identity_leave(&a->saved);
  pthread_rwlock_unlock(&table_lock);
  free(a->path);
  a->path = NULL;
}

char *join (const char *dir, const char *name) {
  size_t dl = strlen(dir), nl = strlen(name);
  char *p = malloc(dl + nl + 2);
  if (!p) return NULL;
  memcpy(p, dir, dl);
  size_t o = dl == 1 ? 0 : dl;
  p[o] = '/';
  memcpy(p + o + 1, name, nl + 1);
  return p;
}

// NOTE: from here until `done`, the thread's host syscalls act as the identity the request gets
// on the mount holding the path (identity.c); `req` NULL (the control thread) acts as the server.
int resolve_path (fuse_req_t req, struct at *a, char *path) {
  a->path = path;
  a->saved.entered = false;
  if (!path) return -ENOENT;
  pthread_rwlock_rdlock(&table_lock);
  int rc = table_hidden(path) ? -ENOENT : 0;
  a->holder = a->m = rc ? NULL : table_resolve(path, &a->inner);
  if (!rc && !a->m) rc = -ENOENT;
  if (!rc) {
    a->id = identity_for(req, a->holder);
    rc = identity_enter(a->id, &a->saved);
  }
  if (rc) {
    done(a);
    return rc;
  }
  return 0;
}

int resolve_node (fuse_req_t req, struct at *a, fuse_ino_t ino) {
  a->node = node_of(ino);
  int rc = resolve_path(req, a, node_path(a->node));
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
int resolve_child (fuse_req_t req, struct at *a, fuse_ino_t parent, const char *name, bool creating) {
  if (strlen(name) > NAME_MAX) return -ENAMETOOLONG;
  struct node *p = node_of(parent);
  char *dir = node_path(p);
  a->node = NULL;
  if (!dir) return -ENOENT;  // NOTE: the parent was removed meanwhile
  int rc = resolve_path(req, a, join(dir, name));
  free(dir);
  // NOTE: a hidden name cannot be made to exist either.
  if (rc) return rc == -ENOENT && creating ? -EPERM : rc;
  if (table_busy(a->path)) rc = creating ? -EEXIST : -EBUSY;
  else if (a->m->read_only) rc = -EROFS;
  else if (a->inner[1] == '\0') rc = -EBUSY;
  if (rc) done(a);
  return rc;
}

double timeout (struct mount *m) { return !m || m->cache_long ? LONG_TIMEOUT : SHORT_TIMEOUT; }

void synth_stat (struct stat *st) {
  memset(st, 0, sizeof *st);
  st->st_mode = S_IFDIR | 0755;
  st->st_nlink = 2;
  st->st_blksize = 4096;
  st->st_atim = st->st_mtim = st->st_ctim = started;
}

int stat_at (struct at *a, struct stat *st) {
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
int lookup_entry (fuse_req_t req, fuse_ino_t parent, const char *name, struct fuse_entry_param *e) {
  memset(e, 0, sizeof *e);
  if (strlen(name) > NAME_MAX) return -ENAMETOOLONG;
  struct node *p = node_of(parent);
  char *dir = node_path(p);
  if (!dir) return -ENOENT;
  struct at a = { 0 };
  int rc = resolve_path(req, &a, join(dir, name));
  free(dir);
  if (rc == -ENOENT) goto negative;
  if (rc) return rc;
  struct stat st;
  uint64_t mount_id = a.m->id;
  int fd = mount_open(a.m, a.inner, O_PATH | O_NOFOLLOW);
  if (fd >= 0) {
    rc = fstat(fd, &st) < 0 ? -errno : 0;
    close(fd);
    // NOTE: a host tree holding our own mount (a bind of / or of the mountpoint's parent) would
    // make every request under it a request to ourselves, nested until no thread is left.
    if (!rc && served_dev && st.st_dev == served_dev) rc = -ELOOP;
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
  identity_show(&st);
  e->ino = node_ino(n);
  e->attr = st;
  e->attr_timeout = e->entry_timeout = t;
  return 0;
negative:
  e->ino = 0;
  e->entry_timeout = NEGATIVE_TIMEOUT;
  return 0;
}

void reply_entry (fuse_req_t req, fuse_ino_t parent, const char *name) {
  struct fuse_entry_param e;
  int rc = lookup_entry(req, parent, name, &e);
  if (!rc && e.ino == 0) rc = -ENOENT;
  if (rc) fuse_reply_err(req, -rc);
  else fuse_reply_entry(req, &e);
}

// A node with no name left (a file unlinked while open) is reached through one of its open files.
int resolve_orphan (fuse_req_t req, struct at *a, fuse_ino_t ino, int *obj) {
  struct node *n = node_of(ino);
  if (n->names || n == root_node || n->mount_id == 0) return -ESTALE;
  *obj = node_open_fd(n);
  if (*obj < 0) return -ESTALE;
  pthread_rwlock_rdlock(&table_lock);
  a->node = n;
  a->path = NULL;
  a->saved.entered = false;
  a->holder = a->m = table_by_id(n->mount_id);
  a->inner = "/";
  int rc = a->m ? -ESTALE : 0;
  if (a->m) {
    a->id = identity_for(req, a->m);
    rc = identity_enter(a->id, &a->saved);
  }
  if (!rc) return 0;
  done(a);
  close(*obj);
  return rc;
}

int proc_path (char *buf, size_t len, int fd) { return snprintf(buf, len, "/proc/self/fd/%d", fd); }

// The directory that will hold a new name. A synthesised parent (on the way to a mount target,
// absent from its backend) is made real first, root-owned 0755 as it showed: creating in it works.
int parent_for_create (struct at *a, const char **last) {
  int dir = mount_parent(a->m, a->inner, last);
  if (dir != -ENOENT) return dir;
  char *parent = strdup(a->path);
  char *slash = parent ? strrchr(parent, '/') : NULL;
  if (slash) *slash = '\0';
  bool synthesised = slash && slash != parent && table_busy(parent);
  free(parent);
  if (!synthesised) return dir;
  // NOTE: each step is one name beneath an opened directory; nothing on the way is followed.
  char *inner = strdup(a->inner);
  if (!inner) return -ENOMEM;
  for (char *p = strchr(inner + 1, '/'); p; p = strchr(p + 1, '/')) {
    *p = '\0';
    const char *name;
    int d = mount_parent(a->m, inner, &name);
    if (d >= 0 && mkdirat(d, name, 0755) < 0 && errno != EEXIST) dir = -errno;
    if (d >= 0) close(d);
    *p = '/';
    if (d < 0) {
      dir = d;
      break;
    }
  }
  free(inner);
  return dir != -ENOENT ? dir : mount_parent(a->m, a->inner, last);
}

// A layout's mkdir, before anything is served: in whatever mount holds the path.
int layout_mkdir (const char *path, mode_t mode, char *err, size_t errlen) {
  struct at a = { 0 };
  int rc = resolve_path(NULL, &a, strdup(path));
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
  int rc = resolve_path(NULL, &a, strdup(path));
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
