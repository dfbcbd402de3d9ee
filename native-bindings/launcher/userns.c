// userns.c: the id maps of a payload's new user namespace, written from the launcher's side.
#include "launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int write_map (pid_t pid, const char *file, unsigned host, unsigned size, struct failure *f) {
  char path[64], line[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int) pid, file);
  int n = snprintf(line, sizeof line, "0 %u %u\n", host, size);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, line, (size_t) n) != n) {
    int err = errno;
    if (fd >= 0) close(fd);
    return fail_with(f, "userns-map", err, "cannot write %s (0 %u %u)", path, host, size);
  }
  close(fd);
  return 0;
}

/*
 * NOTE: a process cannot map a range of ids into its own new user namespace (it may map only its
 * own id, and without setgroups): the map is written by a process of the parent namespace that
 * holds CAP_SETUID and CAP_SETGID there, which the launcher's side, host root in the host's /proc,
 * is. Written this way, setgroups stays allowed in the namespace, so the payload can set its
 * supplementary groups inside. user_namespaces(7).
 */
int userns_map (pid_t pid, const struct plan *plan, struct failure *f) {
  if (write_map(pid, "uid_map", plan->userns.uid, plan->userns.size, f) < 0) return -1;
  return write_map(pid, "gid_map", plan->userns.gid, plan->userns.size, f);
}
