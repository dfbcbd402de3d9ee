// nsenter.c: namespaces in runc's order: the ones joined by path first (user first among them),
// then a new user namespace (its maps written by the parent), then the other new ones.
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "oci.h"

/** NOTE: user first (it grants the rights to join the rest), mount last (paths resolve before it). */
static const struct {
  int type;
  const char *name;
} ORDER[] = {
  { CLONE_NEWUSER, "user" }, { CLONE_NEWIPC, "ipc" }, { CLONE_NEWUTS, "uts" },       { CLONE_NEWNET, "net" },
  { CLONE_NEWPID, "pid" },   { CLONE_NEWCGROUP, "cgroup" }, { CLONE_NEWNS, "mnt" },
};
enum { NTYPES = sizeof ORDER / sizeof ORDER[0] };

int ns_enter_for_create (const struct oci_spec *spec, int sync, struct oci_error *e) {
  int fds[NTYPES];
  for (int i = 0; i < NTYPES; i++) {
    const struct oci_namespace *ns = spec_namespace (spec, ORDER[i].type);
    fds[i] = -1;
    if (!ns || !ns->path) continue;
    fds[i] = open (ns->path, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) return oci_fail (e, errno, "config.json: linux.namespaces (%s): cannot open %s: %s", ORDER[i].name, ns->path, strerror (errno));
  }
  for (int i = 0; i < NTYPES; i++) {
    if (fds[i] < 0) continue;
    int r = setns (fds[i], ORDER[i].type);
    int err = errno;
    close (fds[i]);
    if (r < 0)
      return oci_fail (e, err, "config.json: linux.namespaces (%s): cannot join %s: %s", ORDER[i].name, spec_namespace (spec, ORDER[i].type)->path,
                       err == EINVAL ? "not a namespace of that type" : strerror (err));
  }
  const struct oci_namespace *user = spec_namespace (spec, CLONE_NEWUSER);
  if (user && !user->path) {
    if (unshare (CLONE_NEWUSER) < 0) return oci_fail (e, errno, "cannot create a user namespace: %s", strerror (errno));
    struct sync_msg m;
    if (sync_send (sync, SYNC_USERMAP, 0, NULL) < 0 || sync_recv (sync, &m, NULL) <= 0 || m.type != SYNC_GO)
      return oci_fail (e, EPIPE, "user namespace: the runtime did not write the maps");
    if (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0)
      return oci_fail (e, errno, "user namespace: container root is not mapped: %s", strerror (errno));
  }
  int flags = 0;
  for (int i = 1; i < NTYPES; i++) {
    const struct oci_namespace *ns = spec_namespace (spec, ORDER[i].type);
    if (ns && !ns->path) flags |= ORDER[i].type;
  }
  if (flags && unshare (flags) < 0) return oci_fail (e, errno, "cannot create the container's namespaces: %s", strerror (errno));
  return 0;
}

static int write_map (pid_t pid, const char *file, const struct oci_idmap *maps, size_t n, struct oci_error *e) {
  char path[64], text[4096];
  size_t len = 0;
  for (size_t i = 0; i < n && len < sizeof text; i++)
    len += (size_t) snprintf (text + len, sizeof text - len, "%u %u %u\n", maps[i].container, maps[i].host, maps[i].size);
  if (n == 0) return oci_fail (e, EINVAL, "config.json: linux.%s is empty with a new user namespace", strcmp (file, "uid_map") == 0 ? "uidMappings" : "gidMappings");
  snprintf (path, sizeof path, "/proc/%d/%s", pid, file);
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write (fd, text, len) != (ssize_t) len) {
    int err = errno;
    if (fd >= 0) close (fd);
    return oci_fail (e, err, "user namespace: cannot write %s: %s", path, strerror (err));
  }
  close (fd);
  return 0;
}

int ns_write_maps (pid_t pid, const struct oci_spec *spec, struct oci_error *e) {
  if (write_map (pid, "uid_map", spec->uid_mappings, spec->nuid_mappings, e) < 0) return -1;
  return write_map (pid, "gid_map", spec->gid_mappings, spec->ngid_mappings, e);
}

int ns_join_pid (pid_t pid, struct oci_error *e) {
  int fds[NTYPES];
  for (int i = 0; i < NTYPES; i++) {
    char theirs[64], ours[64];
    snprintf (theirs, sizeof theirs, "/proc/%d/ns/%s", pid, ORDER[i].name);
    snprintf (ours, sizeof ours, "/proc/self/ns/%s", ORDER[i].name);
    struct stat a, b;
    fds[i] = -1;
    if (stat (theirs, &a) < 0) return oci_fail (e, errno, "cannot read the container's %s namespace (%s): %s", ORDER[i].name, theirs, strerror (errno));
    if (stat (ours, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) continue;
    fds[i] = open (theirs, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) return oci_fail (e, errno, "cannot open %s: %s", theirs, strerror (errno));
  }
  for (int i = 0; i < NTYPES; i++) {
    if (fds[i] < 0) continue;
    int r = setns (fds[i], ORDER[i].type);
    int err = errno;
    close (fds[i]);
    if (r < 0) return oci_fail (e, err, "cannot join the container's %s namespace: %s", ORDER[i].name, strerror (err));
  }
  return 0;
}
