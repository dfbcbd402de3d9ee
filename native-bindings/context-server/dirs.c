// Directories: listings of backend names and mount targets, readdir and readdirplus.
#include "context-server.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
  struct identity id;     // what the opener acted as: readdirplus states names as it
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
void op_opendir (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  struct at a;
  int rc = resolve_node(req, &a, ino);
  if (rc) return (void) fuse_reply_err(req, -rc);
  struct listing *l = calloc(1, sizeof *l);
  if (!l || !(l->path = strdup(a.path))) {
    free(l);
    done(&a);
    return (void) fuse_reply_err(req, ENOMEM);
  }
  l->dir = a.node;
  l->id = a.id;
  l->fd = -1;
  l->timeout = timeout(a.m);
  // NOTE: a synthesised directory lists what its backend holds there too, once made real.
  struct mount *m = a.m ? a.m : a.holder;
  if (m) {
    l->mount_id = m->id;
    l->fd = mount_open(m, a.inner, O_RDONLY | O_DIRECTORY);
    struct stat st;
    if (l->fd >= 0 && fstat(l->fd, &st) == 0) l->dev = st.st_dev;
    if (l->fd < 0 && !a.m) l->fd = -1;
    else if (l->fd < 0) {
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
  struct identity_saved saved;
  if (identity_enter(l->id, &saved) < 0) {
    identity_leave(&saved);
    free(buf);
    return (void) fuse_reply_err(req, EPERM);
  }
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
        bool ok = fstatat(l->fd, e->name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !(served_dev && st.st_dev == served_dev);
        struct node *n = ok ? node_get(l->mount_id, st.st_dev, st.st_ino, l->dir, e->name) : NULL;
        if (n) {
          st.st_ino = n->serial;
          identity_show(&st);
          ep.ino = node_ino(n);
          ep.attr = st;
          ep.attr_timeout = ep.entry_timeout = l->timeout;
        } else {
          ep.attr.st_ino = e->ino;
        }
      } else if (i >= 2 && (lookup_entry(req, node_ino(l->dir), e->name, &ep) != 0 || ep.ino == 0)) {
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
  identity_leave(&saved);
  fuse_reply_buf(req, buf, pos);
  free(buf);
}

void op_readdir (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) { list(req, size, off, fi, false); }
void op_readdirplus (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) { list(req, size, off, fi, true); }

void op_releasedir (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  struct listing *l = (struct listing *) (uintptr_t) fi->fh;
  for (size_t i = 0; i < l->n; i++) free(l->e[i].name);
  if (l->fd >= 0) close(l->fd);
  free(l->path);
  free(l->e);
  free(l);
  fuse_reply_err(req, 0);
}

void op_fsyncdir (fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi) {
  struct at a;
  int rc = resolve_node(req, &a, ino);
  if (rc) return (void) fuse_reply_err(req, -rc);
  int fd = a.m ? mount_open(a.m, a.inner, O_RDONLY | O_DIRECTORY) : -EINVAL;
  rc = fd < 0 ? fd : (fsync(fd) < 0 ? -errno : 0);
  if (fd >= 0) close(fd);
  done(&a);
  fuse_reply_err(req, -rc);
}
