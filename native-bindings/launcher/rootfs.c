// rootfs.c: from the private mount namespace to pivot_root into the container's FUSE root.
#include "launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

// NOTE: the devices every program expects; all are harmless, and /dev/tty refers to the caller's
// own controlling terminal.
// NOTE: 256 ptys per devpts instance is more than any shell session or test harness uses.
#define DEVPTS_MAX "256"

static const char *const DEVICES[] = { "null", "zero", "full", "random", "urandom", "tty" };

// NOTE: runc's treatment of /proc (see DESIGN §1): without a user namespace container root is host
// uid 0, and writing /proc/sys/kernel/core_pattern would change the host's.
static const char *const PROC_READ_ONLY[] = { "sys", "sysrq-trigger", "irq", "bus", "fs" };
static const char *const PROC_MASKED[] = { "kcore", "keys", "timer_list", "sched_debug", "latency_stats", "acpi", "scsi" };

static int path_in (char *buf, size_t size, const char *root, const char *rel) {
  int n = snprintf(buf, size, "%s/%s", root, rel);
  return n < 0 || (size_t) n >= size ? -1 : 0;
}

#define JOIN(buf, root, rel, stage) \
  if (path_in(buf, sizeof buf, root, rel) < 0) return fail_with(f, stage, ENAMETOOLONG, "path %s/%s is too long", root, rel)

// NOTE: kernel filesystems never carry set-uid files or devices for the container to use.
static const unsigned long KERNEL_FLAGS = MS_NOSUID | MS_NODEV | MS_NOEXEC;

static int mount_proc (const char *target, bool read_only, bool unmasked, struct failure *f) {
#define STAGE "mount-proc"
  char path[4096];
  if (mount("proc", target, "proc", KERNEL_FLAGS | (read_only ? MS_RDONLY : 0), NULL) < 0) {
    return fail_with(f, STAGE, errno, "cannot mount proc at %s", target);
  }
  if (unmasked) return 0;
  for (size_t i = 0; i < sizeof PROC_READ_ONLY / sizeof *PROC_READ_ONLY; i++) {
    JOIN(path, target, PROC_READ_ONLY[i], STAGE);
    if (access(path, F_OK) < 0) continue;
    if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0 ||
        mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | KERNEL_FLAGS, NULL) < 0) {
      return fail_with(f, "mask-proc", errno, "cannot make /proc/%s read-only", PROC_READ_ONLY[i]);
    }
  }
  for (size_t i = 0; i < sizeof PROC_MASKED / sizeof *PROC_MASKED; i++) {
    struct stat st;
    JOIN(path, target, PROC_MASKED[i], STAGE);
    if (lstat(path, &st) < 0) continue;
    int rc = S_ISDIR(st.st_mode)
      ? mount("tmpfs", path, "tmpfs", MS_RDONLY | KERNEL_FLAGS, "size=0")
      : mount("/dev/null", path, NULL, MS_BIND, NULL);
    if (rc < 0) return fail_with(f, "mask-proc", errno, "cannot mask /proc/%s", PROC_MASKED[i]);
  }
  return 0;
}

#undef STAGE

// NOTE: every instance has a maximum: the host's kernel.pty.max is shared by all instances, and
// without one a single container could take every pty and leave the others without /dev/ptmx.
static int mount_devpts (const char *target, bool read_only, struct failure *f) {
  if (mount("devpts", target, "devpts", MS_NOSUID | MS_NOEXEC | (read_only ? MS_RDONLY : 0), "newinstance,ptmxmode=0666,mode=0620,max=" DEVPTS_MAX) < 0) {
    return fail_with(f, "mount-devpts", errno, "cannot mount a new devpts instance at %s", target);
  }
  return 0;
}

// NOTE: sysfs is always read-only (DESIGN §1): container root is host uid 0, and /sys has
// root-writable knobs no capability guards.
static int mount_sysfs (const char *target, struct failure *f) {
  if (mount("sysfs", target, "sysfs", MS_RDONLY | KERNEL_FLAGS, NULL) < 0) {
    return fail_with(f, "mount-sysfs", errno, "cannot mount sysfs at %s", target);
  }
  return 0;
}

// The layout's kernel filesystems, in layout order. A target under /dev is in our tmpfs, not in
// the FUSE root, so it may have to be made first.
static int mount_kernel (const struct plan *plan, struct failure *f) {
  char path[4096];
  for (size_t i = 0; i < plan->nmounts; i++) {
    const struct kernel_mount *m = &plan->mounts[i];
    JOIN(path, plan->root, m->target + 1, "mount-kernel");
    if (mkdir(path, 0755) < 0 && errno != EEXIST) return fail_with(f, "mount-kernel", errno, "no mount point for %s", m->target);
    int rc = m->fs == FS_PROC ? mount_proc(path, m->read_only, m->unmasked, f)
      : m->fs == FS_SYSFS ? mount_sysfs(path, f)
      : mount_devpts(path, m->read_only, f);
    if (rc < 0) return -1;
  }
  return 0;
}

static int mount_dev (const struct plan *plan, struct failure *f) {
#define STAGE "mount-dev"
  char dev[4096], path[4096];
  JOIN(dev, plan->root, "dev", STAGE);
  if (mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k") < 0) {
    return fail_with(f, "mount-dev", errno, "cannot mount a tmpfs at %s", dev);
  }
  for (size_t i = 0; i < sizeof DEVICES / sizeof *DEVICES; i++) {
    char host[64];
    snprintf(host, sizeof host, "/dev/%s", DEVICES[i]);
    JOIN(path, dev, DEVICES[i], STAGE);
    int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
    if (fd < 0) return fail_with(f, "mount-dev", errno, "cannot create %s", path);
    close(fd);
    if (mount(host, path, NULL, MS_BIND, NULL) < 0) return fail_with(f, "mount-dev", errno, "cannot bind %s", host);
  }
  JOIN(path, dev, "pts", STAGE);
  if (mkdir(path, 0755) < 0) return fail_with(f, "mount-devpts", errno, "cannot make %s", path);
  // NOTE: a layout's own DevPTS at /dev/pts comes later, in layout order; one instance, not two.
  bool layout_has_pts = false;
  for (size_t i = 0; i < plan->nmounts; i++) layout_has_pts |= plan->mounts[i].fs == FS_DEVPTS && strcmp(plan->mounts[i].target, "/dev/pts") == 0;
  if (!layout_has_pts && mount_devpts(path, false, f) < 0) return -1;
  // NOTE: POSIX message queues of the container's own IPC namespace (joined or made before).
  JOIN(path, dev, "mqueue", STAGE);
  if (mkdir(path, 0755) < 0) return fail_with(f, "mount-dev", errno, "cannot make %s", path);
  if (mount("mqueue", path, "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) return fail_with(f, "mount-dev", errno, "cannot mount mqueue at %s", path);
  static const char *const LINKS[][2] = {
    { "pts/ptmx", "ptmx" }, { "/proc/self/fd", "fd" }, { "/proc/self/fd/0", "stdin" },
    { "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
  };
  for (size_t i = 0; i < sizeof LINKS / sizeof *LINKS; i++) {
    JOIN(path, dev, LINKS[i][1], STAGE);
    if (symlink(LINKS[i][0], path) < 0) return fail_with(f, "mount-dev", errno, "cannot link %s", path);
  }
  return 0;
}

#undef STAGE

// NOTE: the order is fixed: private propagation first (nothing we mount leaks to the host), the
// root bound onto itself (pivot_root needs a mount point), kernel filesystems while the host's
// /dev is still reachable, then pivot_root(".", ".") and a lazy unmount of the old root, so no
// host path stays reachable (runc does the same).
int rootfs_enter (const struct plan *plan, struct failure *f) {
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) return fail_with(f, "make-private", errno, "cannot make / private");
  if (mount(plan->root, plan->root, NULL, MS_BIND | MS_REC, NULL) < 0) {
    return fail_with(f, "bind-root", errno, "cannot bind the container root %s", plan->root);
  }
  if (plan->dev && mount_dev(plan, f) < 0) return -1;
  if (mount_kernel(plan, f) < 0) return -1;
  if (chdir(plan->root) < 0) return fail_with(f, "pivot-root", errno, "cannot enter %s", plan->root);
  if (syscall(SYS_pivot_root, ".", ".") < 0) return fail_with(f, "pivot-root", errno, "pivot_root into %s failed", plan->root);
  if (umount2(".", MNT_DETACH) < 0) return fail_with(f, "pivot-root", errno, "cannot detach the old root");
  if (chdir("/") < 0) return fail_with(f, "pivot-root", errno, "cannot enter the new root");
  return 0;
}
