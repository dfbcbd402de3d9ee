// Backends: host sources opened without following symlinks, private tmpfs and overlayfs mounts.
#include "context-server.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <unistd.h>

// NOTE: glibc 2.36 has no wrappers for openat2 or the new mount API; the raw syscalls are stable.
static int sys_openat2 (int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve) {
  struct open_how how = { .flags = (uint64_t) flags | O_CLOEXEC, .mode = mode, .resolve = resolve };
  return (int) syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

static const uint64_t BENEATH = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

// The server's own tmpfs: mountpoint directories, symlink mounts, single-file copies.
static int store_fd = -1;
static unsigned long store_serial;
static uint64_t mount_serial;

// A detached tmpfs instance: reachable only through the returned descriptor, invisible on the host.
static int tmpfs_new (unsigned long long size, mode_t mode) {
  int fs = (int) syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
  if (fs < 0) return -errno;
  char value[32];
  int rc = 0;
  if (size > 0) {
    snprintf(value, sizeof value, "%llu", size);
    if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "size", value, 0) < 0) rc = -errno;
  }
  snprintf(value, sizeof value, "%o", (unsigned) (mode & 07777));
  if (!rc && syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "mode", value, 0) < 0) rc = -errno;
  if (!rc && syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) rc = -errno;
  // NOTE: nodev, nosuid: a device node or set-id file a container makes in its RAMFS is inert
  // here too, not only through the FUSE mount.
  int mnt = rc ? -1 : (int) syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID);
  if (!rc && mnt < 0) rc = -errno;
  close(fs);
  return rc ? rc : mnt;
}

int backends_init (char *err, size_t errlen) {
  store_fd = tmpfs_new(0, 0755);
  if (store_fd < 0) {
    snprintf(err, errlen, "store: tmpfs: %s", errno_name(-store_fd));
    return store_fd;
  }
  return 0;
}

int mount_open (struct mount *m, const char *inner, int flags) {
  if (inner[1] != '\0') {
    int fd = sys_openat2(m->root_fd, inner + 1, flags | O_NOFOLLOW, 0, BENEATH);
    if (fd >= 0) return fd;
    int err = errno;
    // NOTE: a directory of ours that is a symlink on the host now: swapped in behind our back.
    if (err == ELOOP && m->host) event_log("%s: a symlink met on the way to %s (ELOOP): not followed", m->target, inner);
    return -err;
  }
  if (flags & O_PATH) {
    int fd = fcntl(m->root_fd, F_DUPFD_CLOEXEC, 0);
    return fd < 0 ? -errno : fd;
  }
  if (m->type == M_SYMLINK) return -ELOOP;
  // NOTE: the mount's root is the very object to open; its /proc/self/fd link names nothing else.
  char proc[32];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", m->root_fd);
  int fd = open(proc, (flags & ~O_NOFOLLOW) | O_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

// The directory holding `inner` (never the mount's root itself), and its last name.
int mount_parent (struct mount *m, const char *inner, const char **name) {
  const char *slash = strrchr(inner, '/');
  *name = slash + 1;
  if (slash == inner) {
    int fd = fcntl(m->root_fd, F_DUPFD_CLOEXEC, 0);
    return fd < 0 ? -errno : fd;
  }
  char *dir = strndup(inner + 1, (size_t) (slash - inner - 1));
  if (!dir) return -ENOMEM;
  int fd = sys_openat2(m->root_fd, dir, O_PATH | O_DIRECTORY, 0, BENEATH);
  int rc = fd < 0 ? -errno : fd;
  free(dir);
  return rc;
}

// A single host file shown as a private copy: copied into a tmpfs now (the "first write" of a
// file copy would have to copy the whole file anyway, and an overlay needs a directory).
static int copy_file (int src, int dstdir, const char *name) {
  char proc[32];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", src);
  int in = open(proc, O_RDONLY | O_CLOEXEC);
  if (in < 0) return -errno;
  struct stat st;
  int rc = fstat(in, &st) < 0 ? -errno : 0;
  int out = rc ? -1 : openat(dstdir, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 0777);
  if (!rc && out < 0) rc = -errno;
  for (off_t left = st.st_size; !rc && left > 0;) {
    ssize_t n = sendfile(out, in, NULL, (size_t) (left > (1 << 30) ? (1 << 30) : left));
    if (n < 0) rc = -errno;
    else if (n == 0) break;
    else left -= n;
  }
  if (!rc && fchown(out, st.st_uid, st.st_gid) < 0) rc = -errno;
  struct timespec times[2] = { st.st_atim, st.st_mtim };
  if (!rc) futimens(out, times);
  if (out >= 0) close(out);
  close(in);
  return rc;
}

static int open_source (const char *source) {
  int fd = sys_openat2(AT_FDCWD, source, O_PATH, 0, RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
  return fd < 0 ? -errno : fd;
}

// A detached overlayfs: the host tree below, an upper layer in a private tmpfs of `size` bytes.
static int overlay_new (int lower, unsigned long long size, int *upper_store) {
  int tmp = tmpfs_new(size, 0755);
  if (tmp < 0) return tmp;
  int rc = 0, fs = -1, mnt = -1;
  if (mkdirat(tmp, "upper", 0755) < 0 || mkdirat(tmp, "work", 0755) < 0) rc = -errno;
  int up = rc ? -1 : openat(tmp, "upper", O_PATH | O_DIRECTORY | O_CLOEXEC);
  int wk = rc ? -1 : openat(tmp, "work", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (!rc && (up < 0 || wk < 0)) rc = -errno;
  // NOTE: the source's owner and mode show at the copy's root; overlay takes them from upper.
  struct stat st;
  if (!rc && fstat(lower, &st) == 0) {
    char proc[32];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", up);
    chmod(proc, st.st_mode & 07777);
    chown(proc, st.st_uid, st.st_gid);
  }
  if (!rc && (fs = (int) syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC)) < 0) rc = -errno;
  const char *keys[] = { "lowerdir", "upperdir", "workdir" };
  int fds[] = { lower, up, wk };
  for (int i = 0; i < 3 && !rc; i++) {
    char value[32];
    snprintf(value, sizeof value, "/proc/self/fd/%d", fds[i]);
    if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, keys[i], value, 0) < 0) rc = -errno;
  }
  if (!rc && syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) rc = -errno;
  if (!rc && (mnt = (int) syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID)) < 0) rc = -errno;
  if (fs >= 0) close(fs);
  if (up >= 0) close(up);
  if (wk >= 0) close(wk);
  if (rc) {
    close(tmp);
    return rc;
  }
  *upper_store = tmp;
  return mnt;
}

static const char *str (json_t *spec, const char *key) {
  json_t *v = json_object_get(spec, key);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

// Builds the mount `spec` (a ServedMount) describes; the caller adds it to the table.
int backend_open (json_t *spec, struct mount **out, char *err, size_t errlen) {
  const char *type = str(spec, "type"), *target = str(spec, "target");
  if (!type || !target) {
    snprintf(err, errlen, "mount: a type and a target are required");
    return -EINVAL;
  }
  struct mount *m = calloc(1, sizeof *m);
  if (!m) return -ENOMEM;
  m->target = strdup(target);
  m->target_len = strlen(target);
  m->read_only = json_is_true(json_object_get(spec, "readOnly"));
  m->root_fd = m->store_fd = -1;
  m->id = ++mount_serial;
  int rc = 0;
  const char *source = str(spec, "source");
  unsigned long long size = (unsigned long long) json_integer_value(json_object_get(spec, "size"));
  struct stat st;
  if (strcmp(type, "ramfs") == 0) {
    m->type = M_RAMFS;
    m->cache_long = true;
    mode_t mode = json_is_integer(json_object_get(spec, "mode")) ? (mode_t) json_integer_value(json_object_get(spec, "mode")) : 0755;
    rc = m->root_fd = tmpfs_new(size, mode);
    if (rc < 0) snprintf(err, errlen, "mount ramfs %s: tmpfs: %s", target, errno_name(-rc));
  } else if (strcmp(type, "bind") == 0 || strcmp(type, "copy") == 0) {
    bool copy = type[0] == 'c';
    m->type = copy ? M_COPY : M_BIND;
    m->host = !copy;
    m->cache_long = copy || m->read_only;
    if (!source) rc = -EINVAL, snprintf(err, errlen, "mount %s %s: no source", type, target);
    int src = rc ? -1 : open_source(source);
    if (!rc && src < 0) {
      rc = src;
      snprintf(err, errlen, "%s source %s: %s%s", type, source, errno_name(-rc), rc == -ELOOP ? " (a symlink in the path)" : "");
    }
    if (!rc && fstat(src, &st) < 0) rc = -errno;
    if (!rc && !S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
      rc = -EINVAL;
      snprintf(err, errlen, "%s source %s: neither a directory nor a regular file", type, source);
    }
    if (!rc && !copy) m->root_fd = src, src = -1;
    else if (!rc && S_ISDIR(st.st_mode)) {
      rc = m->root_fd = overlay_new(src, size, &m->store_fd);
      if (rc < 0) snprintf(err, errlen, "copy source %s: overlay: %s", source, errno_name(-rc));
    } else if (!rc) {
      int tmp = tmpfs_new(size, 0755);
      rc = tmp < 0 ? tmp : copy_file(src, tmp, "file");
      if (!rc) m->store_fd = tmp, m->root_fd = openat(tmp, "file", O_PATH | O_NOFOLLOW | O_CLOEXEC);
      if (rc || m->root_fd < 0) {
        if (!rc) rc = -errno;
        snprintf(err, errlen, "copy source %s: %s", source, errno_name(-rc));
      }
    }
    if (src >= 0) close(src);
  } else if (strcmp(type, "mountpoint") == 0 || strcmp(type, "symlink") == 0) {
    bool link = type[0] == 's';
    m->type = link ? M_SYMLINK : M_MOUNTPOINT;
    m->read_only = m->cache_long = true;
    char name[48];
    snprintf(name, sizeof name, "%lu", ++store_serial);
    const char *to = str(spec, "link");
    if (link && !to) rc = -EINVAL;
    else if ((link ? symlinkat(to, store_fd, name) : mkdirat(store_fd, name, 0755)) < 0) rc = -errno;
    if (!rc && (m->root_fd = openat(store_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC)) < 0) rc = -errno;
    if (rc) snprintf(err, errlen, "mount %s %s: %s", type, target, errno_name(-rc));
  } else if (strcmp(type, "share") == 0) {
    m->type = M_SHARE;
    const char *from = str(spec, "from");
    pthread_rwlock_rdlock(&table_lock);
    const char *inner = NULL;
    struct mount *src = from && !table_hidden(from) ? table_resolve(from, &inner) : NULL;
    rc = src ? mount_open(src, inner, O_PATH | O_NOFOLLOW) : -ENOENT;
    if (rc >= 0) {
      m->root_fd = rc;
      rc = 0;
      m->host = src->host;
      m->read_only = m->read_only || src->read_only;
      // NOTE: two views of the same files must not keep stale pages of each other.
      src->cache_long = false;
      if (fstat(m->root_fd, &st) < 0 || (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))) rc = -EINVAL;
    }
    pthread_rwlock_unlock(&table_lock);
    if (rc) snprintf(err, errlen, "share %s at %s: %s", from ? from : "(none)", target, errno_name(-rc));
  } else if (strcmp(type, "handle") == 0) {
    m->type = M_HANDLE;
    m->host = true;
    const char *handle = str(spec, "handle");
    if (!handle) rc = -EINVAL;
    // NOTE: a /proc/PID/fd/N magic link of a descriptor another server located beneath its root.
    else if ((m->root_fd = open(handle, O_PATH | O_CLOEXEC)) < 0) rc = -errno;
    else if (fstat(m->root_fd, &st) < 0 || (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))) rc = -EINVAL;
    if (rc) snprintf(err, errlen, "handle %s at %s: %s", handle ? handle : "(none)", target, errno_name(-rc));
  } else {
    rc = -EINVAL;
    snprintf(err, errlen, "mount %s: unknown type %s", target, type);
  }
  if (rc < 0) {
    mount_free(m);
    return rc;
  }
  *out = m;
  return 0;
}
