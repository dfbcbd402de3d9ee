// setup.c: the container's mounts, devices and root (setup_rootfs), then its process's identity,
// limits, capabilities and seccomp filter (setup_process), in runc's order.
#define _GNU_SOURCE
#include "spec.h"

#include "names.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

// The flags a bind mount takes through a remount (MS_BIND|MS_REMOUNT|these).
static const unsigned long REMOUNT_FLAGS = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME |
  MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME | MS_NOSYMFOLLOW;

static const char *proc_fd (char buf[32], int fd) {
  snprintf(buf, 32, "/proc/self/fd/%d", fd);
  return buf;
}

#define PROC_FD(fd) proc_fd((char[32]){ 0 }, fd)

// ---- paths inside the root ----

// NOTE: every path inside the container is resolved beneath its root, symlinks included, as if
// the root were "/" (RESOLVE_IN_ROOT): a symlink in an image can never send a mount to the host.
static int open_in_root (int rootfd, const char *path, int flags) {
  struct open_how how = { .flags = (uint64_t) (flags | O_CLOEXEC), .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
  while (*path == '/') path++;
  return (int) syscall(SYS_openat2, rootfd, *path ? path : ".", &how, sizeof how);
}

// The name `dest` would have once the dangling link at its component ending at `end` is replaced
// by the link's target (`link`); `path` holds dest up to that component.
static void through_link (char *out, size_t size, char *path, char *end, char saved, const char *link) {
  *strrchr(path, '/') = 0;
  snprintf(out, size, "%s/%s%s%s", link[0] == '/' ? "" : path, link, saved ? "/" : "", saved ? end + 1 : "");
}

/**
 * The O_PATH fd of `dest` inside the root, made first when missing: directories on the way, and
 * the last one a directory or (`file`) an empty file.
 */
// NOTE: a dangling link on the way (an image's /etc/resolv.conf -> ../run/systemd/resolve/...) is
// followed inside the root and what it names is made, as runc's securejoin does; 40 links at most.
static int make_dest_at (int rootfd, const char *dest, bool file, int links, struct oci_error *e) {
  int fd = open_in_root(rootfd, dest, O_PATH);
  if (fd >= 0 || errno != ENOENT) return fd >= 0 ? fd : oci_fail(e, errno, "cannot open %s in the container: %s", dest, strerror(errno));
  char path[4096];
  if (snprintf(path, sizeof path, "%s", dest) >= (int) sizeof path) return oci_fail(e, ENAMETOOLONG, "%s is too long", dest);
  for (char *end = path + 1;; end++) {
    if (*end != '/' && *end) continue;
    bool last = !*end || !end[1];
    char saved = *end;
    *end = 0;
    int at = open_in_root(rootfd, path, O_PATH);
    if (at >= 0) close(at);
    else if (errno != ENOENT) return oci_fail(e, errno, "cannot open %s in the container: %s", path, strerror(errno));
    else {
      char *slash = strrchr(path, '/');
      *slash = 0;
      int parent = open_in_root(rootfd, path, O_PATH | O_DIRECTORY);
      *slash = '/';
      if (parent < 0) return oci_fail(e, errno, "cannot open the parent of %s in the container: %s", path, strerror(errno));
      int rc;
      if (last && file) {
        rc = openat(parent, slash + 1, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (rc >= 0) close(rc);
      } else {
        rc = mkdirat(parent, slash + 1, 0755);
      }
      int err = errno;
      char link[4096];
      ssize_t n = rc < 0 && err == EEXIST ? readlinkat(parent, slash + 1, link, sizeof link - 1) : -1;
      close(parent);
      if (n > 0) {
        if (links >= 40) return oci_fail(e, ELOOP, "too many links on the way to %s in the container", dest);
        char next[8192];
        link[n] = 0;
        through_link(next, sizeof next, path, end, saved, link);
        return make_dest_at(rootfd, next, file, links + 1, e);
      }
      if (rc < 0 && err != EEXIST) return oci_fail(e, err, "cannot create %s in the container: %s", path, strerror(err));
    }
    *end = saved;
    if (last) break;
  }
  fd = open_in_root(rootfd, dest, O_PATH);
  return fd >= 0 ? fd : oci_fail(e, errno, "cannot open %s in the container: %s", dest, strerror(errno));
}

static int make_dest (int rootfd, const char *dest, bool file, struct oci_error *e) {
  return make_dest_at(rootfd, dest, file, 0, e);
}

// ---- mounts ----

static const struct { unsigned long st, ms; } STATVFS_FLAGS[] = {
  { ST_RDONLY, MS_RDONLY }, { ST_NOSUID, MS_NOSUID }, { ST_NODEV, MS_NODEV }, { ST_NOEXEC, MS_NOEXEC },
  { ST_NOATIME, MS_NOATIME }, { ST_NODIRATIME, MS_NODIRATIME }, { ST_RELATIME, MS_RELATIME },
};

/** The MS_* flags `target`'s mount has now. */
static int current_flags (const char *target, unsigned long *flags) {
  struct statvfs sv;
  if (statvfs(target, &sv) < 0) return -1;
  *flags = 0;
  for (size_t i = 0; i < sizeof STATVFS_FLAGS / sizeof *STATVFS_FLAGS; i++) {
    if (sv.f_flag & STATVFS_FLAGS[i].st) *flags |= STATVFS_FLAGS[i].ms;
  }
  return 0;
}

// NOTE: a bind remount must keep the flags the kernel locked on the source (nosuid, nodev, noexec
// and atime from a less privileged mount namespace), else it fails with EPERM; runc does the same.
static int remount_bind (const char *target, unsigned long flags) {
  if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | flags, NULL) == 0) return 0;
  unsigned long now;
  if (errno != EPERM || current_flags(target, &now) < 0) return -1;
  errno = EPERM;
  return mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | flags | (now & ~MS_RDONLY), NULL);
}

// NOTE: read-only on top of what the mount already has: the served root is nosuid,nodev and
// must stay so (DESIGN §3), and /proc/sys keeps its own flags.
static int remount_readonly (const char *target) {
  unsigned long now;
  if (current_flags(target, &now) < 0) return -1;
  return mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | now, NULL);
}

/** Mounts over what `fd` names, then the propagation; the mounted top is reopened for both. */
static int mount_bind (int rootfd, const struct oci_mount *m, struct oci_error *e) {
  struct stat st;
  if (stat(m->source, &st) < 0) return oci_fail(e, errno, "mount %s: source %s: %s", m->destination, m->source, strerror(errno));
  int fd = make_dest(rootfd, m->destination, !S_ISDIR(st.st_mode), e);
  if (fd < 0) return -1;
  int rc = mount(m->source, PROC_FD(fd), NULL, MS_BIND | (m->flags & MS_REC), NULL);
  close(fd);
  if (rc < 0) return oci_fail(e, errno, "cannot bind %s on %s: %s", m->source, m->destination, strerror(errno));
  if (!(m->flags & REMOUNT_FLAGS)) return 0;
  if ((fd = open_in_root(rootfd, m->destination, O_PATH)) < 0) return oci_fail(e, errno, "cannot reopen %s: %s", m->destination, strerror(errno));
  rc = remount_bind(PROC_FD(fd), m->flags & REMOUNT_FLAGS);
  int err = errno;
  close(fd);
  return rc < 0 ? oci_fail(e, err, "cannot remount %s with its options: %s", m->destination, strerror(err)) : 0;
}

/** The container's own cgroup in hierarchy `controllers` ("" for v2), from /proc/self/cgroup. */
static int own_cgroups (char lines[][2][512], size_t max, size_t *n) {
  FILE *f = fopen("/proc/self/cgroup", "re");
  if (!f) return -1;
  char line[1200];
  *n = 0;
  while (*n < max && fgets(line, sizeof line, f)) {
    char *a = strchr(line, ':'), *b = a ? strchr(a + 1, ':') : NULL;
    if (!b) continue;
    *b = 0;
    b[strcspn(b + 1, "\n") + 1] = 0;
    snprintf(lines[*n][0], sizeof lines[*n][0], "%s", a + 1);
    snprintf(lines[*n][1], sizeof lines[*n][1], "%s", b + 1);
    (*n)++;
  }
  fclose(f);
  return 0;
}

/**
 * One hierarchy under the cgroup mount's `dir_fd`: its own cgroupfs view in a cgroup namespace,
 * else a bind of the container's own cgroup directory on the host.
 */
static int mount_hierarchy (int dir_fd, const char *name, const char *controllers, const char *own, bool cgroupns, unsigned long flags, struct oci_error *e) {
  char host[1200];
  snprintf(host, sizeof host, "/sys/fs/cgroup/%s", name);
  if (access(host, F_OK) < 0) return 0;
  if (mkdirat(dir_fd, name, 0755) < 0 && errno != EEXIST) return oci_fail(e, errno, "cannot make the cgroup mount point %s: %s", name, strerror(errno));
  int fd = openat(dir_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return oci_fail(e, errno, "cannot open the cgroup mount point %s: %s", name, strerror(errno));
  int rc;
  if (cgroupns) {
    bool v2 = !*controllers;
    rc = mount("cgroup", PROC_FD(fd), v2 ? "cgroup2" : "cgroup", flags & ~MS_REC, v2 ? NULL : controllers);
  } else {
    snprintf(host, sizeof host, "/sys/fs/cgroup/%s%s", name, own);
    rc = mount(host, PROC_FD(fd), NULL, MS_BIND, NULL);
    if (rc == 0) {
      close(fd);
      if ((fd = openat(dir_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) return oci_fail(e, errno, "cannot reopen %s: %s", name, strerror(errno));
      rc = remount_bind(PROC_FD(fd), flags & REMOUNT_FLAGS);
    }
  }
  int err = errno;
  close(fd);
  return rc < 0 ? oci_fail(e, err, "cannot mount the %s cgroup hierarchy: %s", name, strerror(err)) : 0;
}

// NOTE: cgroup v1 (this project's hosts are hybrid) has one hierarchy per controller set: as runc
// does, a tmpfs holds one mount per hierarchy the container is in, co-mounted controllers get
// their links, and the tmpfs is made read-only last when the mount asks for ro.
static int mount_cgroup_v1 (int rootfd, const struct oci_mount *m, bool cgroupns, struct oci_error *e) {
  int fd = make_dest(rootfd, m->destination, false, e);
  if (fd < 0) return -1;
  unsigned long flags = m->flags & ~(MS_RDONLY | MS_REC);
  int rc = mount("tmpfs", PROC_FD(fd), "tmpfs", flags, "mode=755");
  close(fd);
  if (rc < 0) return oci_fail(e, errno, "cannot mount a tmpfs for cgroups at %s: %s", m->destination, strerror(errno));
  int dir_fd = open_in_root(rootfd, m->destination, O_RDONLY | O_DIRECTORY);
  if (dir_fd < 0) return oci_fail(e, errno, "cannot open %s: %s", m->destination, strerror(errno));
  char lines[32][2][512];
  size_t n;
  if (own_cgroups(lines, 32, &n) < 0) {
    close(dir_fd);
    return oci_fail(e, errno, "cannot read /proc/self/cgroup: %s", strerror(errno));
  }
  for (size_t i = 0; i < n; i++) {
    char *controllers = lines[i][0], name[512];
    strcpy(name, *controllers ? controllers : "unified");
    if (strncmp(name, "name=", 5) == 0) memmove(name, name + 5, strlen(name + 5) + 1);
    if (mount_hierarchy(dir_fd, name, controllers, lines[i][1], cgroupns, m->flags, e) < 0) {
      close(dir_fd);
      return -1;
    }
    // "cpu,cpuacct" is also reachable as cpu and cpuacct.
    if (strchr(name, ',')) {
      for (char *part = strtok(controllers, ","); part; part = strtok(NULL, ",")) {
        if (symlinkat(name, dir_fd, part) < 0 && errno != EEXIST) {
          close(dir_fd);
          return oci_fail(e, errno, "cannot link cgroup %s to %s: %s", part, name, strerror(errno));
        }
      }
    }
  }
  close(dir_fd);
  if (!(m->flags & MS_RDONLY)) return 0;
  if ((fd = open_in_root(rootfd, m->destination, O_PATH)) < 0) return oci_fail(e, errno, "cannot reopen %s: %s", m->destination, strerror(errno));
  rc = mount("tmpfs", PROC_FD(fd), "tmpfs", MS_REMOUNT | MS_RDONLY | flags, "mode=755");
  int err = errno;
  close(fd);
  return rc < 0 ? oci_fail(e, err, "cannot make %s read-only: %s", m->destination, strerror(err)) : 0;
}

static int mount_cgroup (int rootfd, const struct oci_spec *spec, const struct oci_mount *m, struct oci_error *e) {
  struct statfs sf;
  bool cgroupns = spec_namespace(spec, CLONE_NEWCGROUP) != NULL;
  if (statfs("/sys/fs/cgroup", &sf) < 0) return oci_fail(e, errno, "mount %s: cannot read /sys/fs/cgroup: %s", m->destination, strerror(errno));
  if (sf.f_type != CGROUP2_SUPER_MAGIC) return mount_cgroup_v1(rootfd, m, cgroupns, e);
  int fd = make_dest(rootfd, m->destination, false, e);
  if (fd < 0) return -1;
  int rc;
  if (cgroupns) {
    rc = mount("cgroup2", PROC_FD(fd), "cgroup2", m->flags & ~MS_REC, NULL);
  } else {
    char lines[1][2][512], host[1200];
    size_t n = 0;
    if (own_cgroups(lines, 1, &n) < 0 || n == 0) {
      close(fd);
      return oci_fail(e, ENOENT, "mount %s: the container's cgroup is not in /proc/self/cgroup", m->destination);
    }
    snprintf(host, sizeof host, "/sys/fs/cgroup%s", lines[0][1]);
    rc = mount(host, PROC_FD(fd), NULL, MS_BIND, NULL);
    if (rc == 0) {
      close(fd);
      if ((fd = open_in_root(rootfd, m->destination, O_PATH)) < 0) return oci_fail(e, errno, "cannot reopen %s: %s", m->destination, strerror(errno));
      rc = remount_bind(PROC_FD(fd), m->flags & REMOUNT_FLAGS);
    }
  }
  int err = errno;
  close(fd);
  return rc < 0 ? oci_fail(e, err, "cannot mount cgroup2 at %s: %s", m->destination, strerror(err)) : 0;
}

static int mount_one (int rootfd, const struct oci_spec *spec, const struct oci_mount *m, struct oci_error *e) {
  int rc;
  if (strcmp(m->type, "bind") == 0) rc = mount_bind(rootfd, m, e);
  else if (strcmp(m->type, "cgroup") == 0 || strcmp(m->type, "cgroup2") == 0) rc = mount_cgroup(rootfd, spec, m, e);
  else {
    int fd = make_dest(rootfd, m->destination, false, e);
    if (fd < 0) return -1;
    rc = mount(m->source, PROC_FD(fd), m->type, m->flags & ~MS_REC, m->data);
    int err = errno;
    close(fd);
    if (rc < 0) return oci_fail(e, err, "cannot mount %s (%s) at %s: %s", m->source, m->type, m->destination, strerror(err));
  }
  if (rc < 0 || !m->propagation) return rc;
  int fd = open_in_root(rootfd, m->destination, O_PATH);
  if (fd < 0) return oci_fail(e, errno, "cannot reopen %s: %s", m->destination, strerror(errno));
  rc = mount(NULL, PROC_FD(fd), NULL, m->propagation, NULL);
  int err = errno;
  close(fd);
  return rc < 0 ? oci_fail(e, err, "cannot set the propagation of %s: %s", m->destination, strerror(err)) : 0;
}

// ---- /dev ----

static const struct oci_device DEFAULT_DEVICES[] = {
  { "/dev/null", 'c', 1, 3, 0666, 0, 0 }, { "/dev/zero", 'c', 1, 5, 0666, 0, 0 },
  { "/dev/full", 'c', 1, 7, 0666, 0, 0 }, { "/dev/random", 'c', 1, 8, 0666, 0, 0 },
  { "/dev/urandom", 'c', 1, 9, 0666, 0, 0 }, { "/dev/tty", 'c', 5, 0, 0666, 0, 0 },
};

// NOTE: in a user namespace mknod is not allowed, so the host's node of the same path is bound
// on an empty file instead (runc does the same); elsewhere the node is made with its owner and mode.
static int make_device (int rootfd, const struct oci_device *d, bool bind, struct oci_error *e) {
  char parent_path[4096];
  snprintf(parent_path, sizeof parent_path, "%s", d->path);
  char *slash = strrchr(parent_path, '/');
  const char *name = d->path + (slash - parent_path) + 1;
  *slash = 0;
  int parent = make_dest(rootfd, *parent_path ? parent_path : "/", false, e);
  if (parent < 0) return -1;
  int rc = -1, err = 0;
  if (!bind) {
    mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
    rc = mknodat(parent, name, type | (d->mode & 07777), makedev(d->major, d->minor));
    if (rc < 0 && errno == EEXIST && unlinkat(parent, name, 0) == 0) rc = mknodat(parent, name, type | (d->mode & 07777), makedev(d->major, d->minor));
    if (rc == 0 && (fchownat(parent, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0 || fchmodat(parent, name, d->mode & 07777, 0) < 0)) rc = -1;
    err = errno;
    bind = rc < 0 && err == EPERM;
  }
  if (bind) {
    int fd = openat(parent, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd >= 0) close(fd);
    fd = fd < 0 ? -1 : openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    rc = fd < 0 ? -1 : mount(d->path, PROC_FD(fd), NULL, MS_BIND, NULL);
    err = errno;
    if (fd >= 0) close(fd);
  }
  close(parent);
  return rc < 0 ? oci_fail(e, err, "cannot create device %s: %s", d->path, strerror(err)) : 0;
}

static int setup_dev (int rootfd, const struct oci_spec *spec, struct oci_error *e) {
  const struct oci_namespace *user = spec_namespace(spec, CLONE_NEWUSER);
  bool bind = user != NULL;
  for (size_t i = 0; i < sizeof DEFAULT_DEVICES / sizeof *DEFAULT_DEVICES; i++) {
    bool listed = false;
    for (size_t k = 0; k < spec->ndevices; k++) listed |= strcmp(spec->devices[k].path, DEFAULT_DEVICES[i].path) == 0;
    if (!listed && make_device(rootfd, &DEFAULT_DEVICES[i], bind, e) < 0) return -1;
  }
  for (size_t k = 0; k < spec->ndevices; k++) {
    if (make_device(rootfd, &spec->devices[k], bind, e) < 0) return -1;
  }
  int dev = open_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY);
  if (dev < 0) return oci_fail(e, errno, "cannot open /dev in the container: %s", strerror(errno));
  // NOTE: /dev/ptmx is the devpts instance's own (mounted from mounts[]), not a node of the host's.
  static const char *const LINKS[][2] = {
    { "pts/ptmx", "ptmx" }, { "/proc/self/fd", "fd" }, { "/proc/self/fd/0", "stdin" },
    { "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
  };
  for (size_t i = 0; i < sizeof LINKS / sizeof *LINKS; i++) {
    if (i == 0 && unlinkat(dev, "ptmx", 0) < 0 && errno != ENOENT) break;
    if (symlinkat(LINKS[i][0], dev, LINKS[i][1]) < 0 && errno != EEXIST) {
      int err = errno;
      close(dev);
      return oci_fail(e, err, "cannot link /dev/%s: %s", LINKS[i][1], strerror(err));
    }
  }
  close(dev);
  return 0;
}

/** Whether mounts[] puts a filesystem of its own (not a bind of the host's) at /dev. */
static bool dev_is_ours (const struct oci_spec *spec) {
  bool ours = false;
  for (size_t i = 0; i < spec->nmounts; i++) {
    if (strcmp(spec->mounts[i].destination, "/dev") == 0) ours = strcmp(spec->mounts[i].type, "bind") != 0;
  }
  return ours;
}

// ---- the rest before pivot_root ----

static int write_file (const char *path, const char *value) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = write(fd, value, strlen(value));
  int err = errno;
  close(fd);
  errno = err;
  return n < 0 ? -1 : 0;
}

// NOTE: written through the runtime's /proc: a namespaced sysctl file shows the writer's own
// namespace (network, IPC, UTS), which is the container's already.
static int set_sysctls (const struct oci_spec *spec, struct oci_error *e) {
  for (size_t i = 0; spec->sysctl_keys && spec->sysctl_keys[i]; i++) {
    char path[512];
    snprintf(path, sizeof path, "/proc/sys/%s", spec->sysctl_keys[i]);
    for (char *c = path + 10; *c; c++) {
      if (*c == '.') *c = '/';
    }
    if (write_file(path, spec->sysctl_values[i]) < 0) return oci_fail(e, errno, "cannot set sysctl %s: %s", spec->sysctl_keys[i], strerror(errno));
  }
  return 0;
}

static int set_names (const struct oci_spec *spec, struct oci_error *e) {
  if (!spec_namespace(spec, CLONE_NEWUTS)) return 0;
  if (spec->hostname && sethostname(spec->hostname, strlen(spec->hostname)) < 0) {
    return oci_fail(e, errno, "cannot set the hostname %s: %s", spec->hostname, strerror(errno));
  }
  const char *domain = json_string_value(json_object_get(spec->document, "domainname"));
  if (domain && *domain && setdomainname(domain, strlen(domain)) < 0) return oci_fail(e, errno, "cannot set the domainname %s: %s", domain, strerror(errno));
  return 0;
}

static unsigned long propagation_flags (const char *name) {
  static const struct { const char *name; unsigned long flags; } P[] = {
    { "private", MS_PRIVATE }, { "rprivate", MS_PRIVATE | MS_REC }, { "slave", MS_SLAVE }, { "rslave", MS_SLAVE | MS_REC },
    { "shared", MS_SHARED }, { "rshared", MS_SHARED | MS_REC }, { "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
  };
  for (size_t i = 0; name && i < sizeof P / sizeof *P; i++) {
    if (strcmp(P[i].name, name) == 0) return P[i].flags;
  }
  return MS_SLAVE | MS_REC;
}

// NOTE: pivot_root refuses a new root whose parent mount is shared; with rootfsPropagation
// shared, the mount that holds the root's directory is made private (runc does the same).
static int parent_mount_private (const char *root, struct oci_error *e) {
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (!f) return oci_fail(e, errno, "cannot read /proc/self/mountinfo: %s", strerror(errno));
  char line[4096], best[4096] = "/", point[4096];
  bool best_shared = false;
  size_t best_len = 0;
  while (fgets(line, sizeof line, f)) {
    if (sscanf(line, "%*s %*s %*s %*s %4095s", point) != 1) continue;
    size_t len = strlen(point);
    bool under = strncmp(root, point, len) == 0 && (root[len] == '/' || len == 1) && strcmp(root, point) != 0;
    if (under && len >= best_len) {
      snprintf(best, sizeof best, "%s", point);
      best_len = len;
      char *dash = strstr(line, " - ");
      if (dash) *dash = 0;
      best_shared = strstr(line, " shared:") != NULL;
    }
  }
  fclose(f);
  if (best_shared && mount(NULL, best, NULL, MS_PRIVATE, NULL) < 0) return oci_fail(e, errno, "cannot make %s private: %s", best, strerror(errno));
  return 0;
}

// NOTE: the served root is reached through the working directory, never its path: the caller
// entered it while still host root, before its namespaces (unshare(CLONE_NEWNS) moved the cwd to
// this namespace's copy). The root of a new user namespace (a mapped host uid) may not traverse
// the supervisor's 0700 state dir on the way to the FUSE mountpoint. A recursive clone of it,
// attached on itself, is a mount of this namespace that pivot_root can take (the copy is locked
// in a new user namespace); the cwd then moves into the clone.
static int bind_root (const char *root, struct oci_error *e) {
  int tree = open_tree(AT_FDCWD, ".", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  if (tree < 0) return oci_fail(e, errno, "cannot bind the container root %s: %s", root, strerror(errno));
  int rc = move_mount(tree, "", AT_FDCWD, ".", MOVE_MOUNT_F_EMPTY_PATH);
  if (rc == 0) rc = fchdir(tree);
  int err = errno;
  close(tree);
  return rc < 0 ? oci_fail(e, err, "cannot bind the container root %s: %s", root, strerror(err)) : 0;
}

int setup_rootfs_prepare (const struct oci_spec *spec, const char *root, struct oci_error *e) {
  // NOTE: after unshare(CLONE_NEWUSER) and its maps, the process still has the ids it had (host
  // root, unmapped inside): files it creates would fail with EOVERFLOW until it is the
  // namespace's own root.
  if (spec_namespace(spec, CLONE_NEWUSER) && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)) {
    return oci_fail(e, errno, "cannot become root of the container's user namespace (are uid/gid 0 mapped?): %s", strerror(errno));
  }
  unsigned long propagation = propagation_flags(spec->rootfs_propagation);
  if (mount(NULL, "/", NULL, propagation, NULL) < 0) return oci_fail(e, errno, "cannot set the propagation of /: %s", strerror(errno));
  if (parent_mount_private(root, e) < 0) return -1;
  if (bind_root(root, e) < 0) return -1;
  int rootfd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) return oci_fail(e, errno, "cannot open the container root %s: %s", root, strerror(errno));
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < spec->nmounts; i++) rc = mount_one(rootfd, spec, &spec->mounts[i], e);
  if (rc == 0 && dev_is_ours(spec)) rc = setup_dev(rootfd, spec, e);
  close(rootfd);
  if (rc < 0 || set_sysctls(spec, e) < 0 || set_names(spec, e) < 0) return -1;
  return 0;
}

// ---- pivot_root and after ----

// NOTE: made by setup_rootfs_enter (before / may turn read-only, as runc does) and tried again
// by setup_process for an `exec --process` cwd; a directory that cannot be made is reported by chdir.
static void make_dirs (const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s", dir);
  for (char *c = path + 1;; c++) {
    if (*c && *c != '/') continue;
    char saved = *c;
    *c = 0;
    if (mkdir(path, 0755) < 0 && errno != EEXIST) return;
    if (!(*c = saved)) return;
  }
}

// NOTE: the cwd is the root's bind, where setup_rootfs_prepare left it (bind_root).
static int enter_root (const char *root, bool no_pivot, struct oci_error *e) {
  if (no_pivot) {
    if (mount(".", "/", NULL, MS_MOVE, NULL) < 0) return oci_fail(e, errno, "cannot move %s to /: %s", root, strerror(errno));
    if (chroot(".") < 0) return oci_fail(e, errno, "chroot into %s failed: %s", root, strerror(errno));
  } else {
    // NOTE: pivot_root(".", ".") stacks the old root on the new one; everything is made a slave
    // first so detaching the old root cannot propagate an unmount to the host (runc's trick).
    if (syscall(SYS_pivot_root, ".", ".") < 0) return oci_fail(e, errno, "pivot_root into %s failed: %s", root, strerror(errno));
    if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0) return oci_fail(e, errno, "cannot make the old root a slave: %s", strerror(errno));
    if (umount2(".", MNT_DETACH) < 0) return oci_fail(e, errno, "cannot detach the old root: %s", strerror(errno));
  }
  if (chdir("/") < 0) return oci_fail(e, errno, "cannot enter the new root: %s", strerror(errno));
  return 0;
}

static int readonly_path (const char *path, struct oci_error *e) {
  if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
    return errno == ENOENT ? 0 : oci_fail(e, errno, "cannot make %s read-only: %s", path, strerror(errno));
  }
  if (remount_readonly(path) < 0) return oci_fail(e, errno, "cannot make %s read-only: %s", path, strerror(errno));
  return 0;
}

static int masked_path (const char *path, struct oci_error *e) {
  struct stat st;
  if (stat(path, &st) < 0) return errno == ENOENT ? 0 : oci_fail(e, errno, "cannot mask %s: %s", path, strerror(errno));
  int rc = S_ISDIR(st.st_mode) ? mount("tmpfs", path, "tmpfs", MS_RDONLY, NULL) : mount("/dev/null", path, NULL, MS_BIND, NULL);
  return rc < 0 ? oci_fail(e, errno, "cannot mask %s: %s", path, strerror(errno)) : 0;
}

int setup_rootfs_enter (const struct oci_spec *spec, const char *root, bool no_pivot, struct oci_error *e) {
  if (enter_root(root, no_pivot, e) < 0) return -1;
  // NOTE: the old root was made a slave recursively on its way out, the new one with it; the
  // asked propagation is set again on the container's / (runc does it here too).
  if (spec->rootfs_propagation && mount(NULL, "/", NULL, propagation_flags(spec->rootfs_propagation), NULL) < 0) {
    return oci_fail(e, errno, "cannot set rootfsPropagation %s on /: %s", spec->rootfs_propagation, strerror(errno));
  }
  for (size_t i = 0; spec->readonly_paths && spec->readonly_paths[i]; i++) {
    if (readonly_path(spec->readonly_paths[i], e) < 0) return -1;
  }
  for (size_t i = 0; spec->masked_paths && spec->masked_paths[i]; i++) {
    if (masked_path(spec->masked_paths[i], e) < 0) return -1;
  }
  make_dirs(spec->process.cwd);
  if (spec->root_readonly && remount_readonly("/") < 0) return oci_fail(e, errno, "cannot make / read-only: %s", strerror(errno));
  return 0;
}

// NOTE: the order is fixed (runc's): / gets its propagation, the served root is bound on itself,
// mounts[] follow in order with missing destinations made inside the root, then /dev's devices
// and links, sysctls and names while the runtime's /proc is reachable, pivot_root, and last what
// needs the container's own /proc and /: readonlyPaths, maskedPaths and root.readonly.
int setup_rootfs (const struct oci_spec *spec, const char *root, bool no_pivot, struct oci_error *e) {
  if (setup_rootfs_prepare(spec, root, e) < 0) return -1;
  return setup_rootfs_enter(spec, root, no_pivot, e);
}

// ---- the process ----

static int set_rlimits (const struct oci_process *p, struct oci_error *e) {
  for (size_t i = 0; i < p->nrlimits; i++) {
    struct rlimit l = { p->rlimits[i].soft, p->rlimits[i].hard };
    // NOTE: raising a hard limit needs CAP_SYS_RESOURCE, which the runtime itself may lack.
    if (setrlimit(p->rlimits[i].resource, &l) < 0) {
      return oci_fail(e, errno, "process.rlimits[%zu]: cannot set %s to soft %llu, hard %llu: %s", i, oci_rlimit_name(p->rlimits[i].resource),
                      (unsigned long long) l.rlim_cur, (unsigned long long) l.rlim_max, strerror(errno));
    }
  }
  return 0;
}

static int enter_cwd (const char *cwd, struct oci_error *e) {
  make_dirs(cwd);
  return chdir(cwd) < 0 ? oci_fail(e, errno, "cannot enter the working directory %s: %s", cwd, strerror(errno)) : 0;
}

static int set_ids (const struct oci_process *p, struct oci_error *e) {
  char policy[16] = "";
  int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t n = read(fd, policy, sizeof policy - 1);
    policy[n > 0 ? n : 0] = 0;
    close(fd);
  }
  // NOTE: where setgroups(2) is denied (a user namespace made without privilege over its
  // parent), only an empty list is allowed: it is already what the process has.
  bool denied = strncmp(policy, "deny", 4) == 0;
  if (denied && p->nadditional_gids) return oci_fail(e, EPERM, "process.user.additionalGids cannot be set: setgroups is denied in this user namespace");
  if (!denied && setgroups(p->nadditional_gids, p->additional_gids) < 0) return oci_fail(e, errno, "cannot set the additional groups: %s", strerror(errno));
  if (setresgid(p->gid, p->gid, p->gid) < 0) return oci_fail(e, errno, "cannot set gid %u: %s", p->gid, strerror(errno));
  if (setresuid(p->uid, p->uid, p->uid) < 0) return oci_fail(e, errno, "cannot set uid %u: %s", p->uid, strerror(errno));
  return 0;
}

static int drop_bounding (uint64_t keep, struct oci_error *e) {
  for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++) {
    if (!(keep & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
      return oci_fail(e, errno, "cannot drop capability %d from the bounding set: %s", cap, strerror(errno));
    }
  }
  return 0;
}

// NOTE: a capability this kernel does not have is skipped (runc and crun do the same); one the
// kernel has but the runtime itself does not hold can never be given, and is named.
static int check_capabilities (const struct oci_process *p, struct oci_error *e) {
  struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct data[2];
  if (syscall(SYS_capget, &header, data) < 0) return oci_fail(e, errno, "cannot read the runtime's capabilities: %s", strerror(errno));
  uint64_t held = data[0].permitted | (uint64_t) data[1].permitted << 32;
  uint64_t asked = p->caps[CAPS_EFFECTIVE] | p->caps[CAPS_PERMITTED];
  for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++) {
    if ((asked & (1ULL << cap)) && !(held & (1ULL << cap))) {
      return oci_fail(e, EPERM, "process.capabilities: %s cannot be given: fusejail itself does not hold it", oci_capability_name(cap));
    }
  }
  return 0;
}

static int set_capabilities (const struct oci_process *p, struct oci_error *e) {
  struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct data[2];
  for (int i = 0; i < 2; i++) {
    data[i].effective = (uint32_t) (p->caps[CAPS_EFFECTIVE] >> (32 * i));
    data[i].permitted = (uint32_t) (p->caps[CAPS_PERMITTED] >> (32 * i));
    data[i].inheritable = (uint32_t) (p->caps[CAPS_INHERITABLE] >> (32 * i));
  }
  if (syscall(SYS_capset, &header, data) < 0) return oci_fail(e, errno, "cannot set the effective, permitted and inheritable capabilities: %s", strerror(errno));
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) return oci_fail(e, errno, "cannot clear the ambient capabilities: %s", strerror(errno));
  // NOTE: the kernel raises an ambient capability only when it is also permitted and inheritable;
  // runc's own `spec` lists ambient ones without an inheritable set, and runc and crun skip what
  // cannot be raised, so fusejail does too (the process's /proc/self/status shows the result).
  uint64_t raisable = p->caps[CAPS_AMBIENT] & p->caps[CAPS_PERMITTED] & p->caps[CAPS_INHERITABLE];
  for (int cap = 0; cap < 64; cap++) {
    if (!(raisable & (1ULL << cap)) || prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0) continue;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0) {
      return oci_fail(e, errno, "cannot raise ambient capability %d: %s", cap, strerror(errno));
    }
  }
  return 0;
}

// NOTE: the order is runc's. Loading a seccomp filter needs no_new_privs or CAP_SYS_ADMIN: with
// noNewPrivileges it comes last, right before the caller's exec; without, it is loaded first,
// while the process still has every capability, and must itself allow what follows. The bounding
// set is dropped while the process is still uid 0 (that needs CAP_SETPCAP), and PR_SET_KEEPCAPS
// carries the permitted set across the uid change so capset can set the effective one from it.
int setup_process (const struct oci_process *p, const json_t *seccomp, struct oci_error *e) {
  umask(p->has_umask ? p->umask : 022);
  if (set_rlimits(p, e) < 0) return -1;
  if (p->has_oom_score_adj) {
    char value[16];
    snprintf(value, sizeof value, "%d", p->oom_score_adj);
    if (write_file("/proc/self/oom_score_adj", value) < 0) return oci_fail(e, errno, "cannot set oom_score_adj to %d: %s", p->oom_score_adj, strerror(errno));
  }
  if (enter_cwd(p->cwd, e) < 0) return -1;
  if (seccomp && !p->no_new_privileges && oci_seccomp_load(seccomp, e) < 0) return -1;
  if (p->has_capabilities) {
    if (check_capabilities(p, e) < 0 || drop_bounding(p->caps[CAPS_BOUNDING], e) < 0) return -1;
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) return oci_fail(e, errno, "cannot keep capabilities across the uid change: %s", strerror(errno));
  }
  if (set_ids(p, e) < 0) return -1;
  if (p->has_capabilities) {
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) return oci_fail(e, errno, "cannot clear keep-capabilities: %s", strerror(errno));
    if (set_capabilities(p, e) < 0) return -1;
  }
  if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return oci_fail(e, errno, "cannot set no_new_privs: %s", strerror(errno));
  if (seccomp && p->no_new_privileges && oci_seccomp_load(seccomp, e) < 0) return -1;
  return 0;
}
