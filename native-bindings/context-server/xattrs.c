// Extended attributes, through /proc/self/fd of the object (O_PATH descriptors take no f*xattr).
#include "context-server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

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

void op_setxattr (fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size, int flags) {
  struct at a;
  int rc = resolve_node(req, &a, ino);
  if (rc) return (void) fuse_reply_err(req, -rc);
  char proc[32];
  int fd = xattr_object(&a, proc, true, name);
  rc = fd < 0 ? fd : (setxattr(proc, name, value, size, flags) < 0 ? -errno : 0);
  if (fd >= 0) close(fd);
  done(&a);
  fuse_reply_err(req, -rc);
}

void op_removexattr (fuse_req_t req, fuse_ino_t ino, const char *name) {
  struct at a;
  int rc = resolve_node(req, &a, ino);
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
  int rc = resolve_node(req, &a, ino);
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

void op_getxattr (fuse_req_t req, fuse_ino_t ino, const char *name, size_t size) { get_or_list(req, ino, name, size); }
void op_listxattr (fuse_req_t req, fuse_ino_t ino, size_t size) { get_or_list(req, ino, NULL, size); }
