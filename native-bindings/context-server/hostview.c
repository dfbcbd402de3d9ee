// hostview.c: the host view is the container's view: a host process following a container's
// symlink in a served root stays inside that root.
//
// NOTE: the kernel resolves a symlink's target in the reader's own root. Inside the container that
// is the served root; for a host process browsing `fusejail root`, an absolute link (or a relative
// one with "..": after another link, or enough of them, it climbs out) would lead to the host's
// files, so the README's own tour could write a host file through a link the container made. A
// caller whose root is not on this filesystem is given such a target rewritten as the served
// directory plus the link's target resolved lexically inside the root ("..", clamped at "/", as
// the container's kernel clamps it). A relative link without ".." only descends, and stays as it is.
// The same test tells identity.c which callers are container processes.
#include "context-server.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

// Whether `path` lies on the served filesystem; -1 when that cannot be told.
// NOTE: AT_STATX_DONT_SYNC: no request to ourselves; st_dev comes from the superblock anyway.
// served_dev (main.c) is known before any request: a statx of the mountpoint would need search
// permission on its parents, which a thread acting as a caller (identity.c) may lack.
static int on_this_fs (const char *path) {
  static dev_t served;
  struct statx sx;
  if (!served) served = served_dev;
  if (!served) {
    if (statx(AT_FDCWD, opt_mountpoint, AT_STATX_DONT_SYNC | AT_SYMLINK_NOFOLLOW, STATX_TYPE, &sx) < 0) return -1;
    served = makedev(sx.stx_dev_major, sx.stx_dev_minor);
  }
  if (statx(AT_FDCWD, path, AT_STATX_DONT_SYNC, STATX_TYPE, &sx) < 0) return -1;
  return makedev(sx.stx_dev_major, sx.stx_dev_minor) == served;
}

bool hostview_leads_out (const char *target) {
  if (target[0] == '/') return true;
  for (const char *p = target; (p = strstr(p, "..")); p += 2) {
    if ((p == target || p[-1] == '/') && (p[2] == '/' || p[2] == '\0')) return true;
  }
  return false;
}

// A caller's root is on this filesystem: a container process (or a host process chrooted in).
static int rooted_here (pid_t pid) {
  char root[64];
  snprintf(root, sizeof root, "/proc/%d/root", (int) pid);
  return pid <= 0 ? -1 : on_this_fs(root);
}

// NOTE: a caller that cannot be told (gone, or no pid) gets the rewritten, safe answer.
bool hostview_outside (pid_t pid) { return rooted_here(pid) != 1; }

// NOTE: for access, the safe answer is the other way round: one that cannot be told is a container.
// A container process stays one (it cannot leave its root), and the statx costs ~5 us, as much as
// a small request: each thread remembers the last pid it found inside, for a second or two. Should
// that pid be reused by a host process meanwhile, the mistake only restricts that process.
bool hostview_container (pid_t pid) {
  static __thread pid_t inside;
  static __thread time_t until;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
  if (pid > 0 && pid == inside && now.tv_sec < until) return true;
  int here = rooted_here(pid);
  if (here == 1) inside = pid, until = now.tv_sec + 2;
  return here != 0;
}

int hostview_link (const char *link_path, const char *target, char *out, size_t len) {
  char path[PATH_MAX * 2 + 2];
  if (target[0] == '/') snprintf(path, sizeof path, "%s", target);
  else snprintf(path, sizeof path, "%s/../%s", link_path, target);
  // Lexical resolution: components pushed onto `out` after the mountpoint, ".." pops one
  // (never past the root), "." and empty components are skipped.
  size_t base = (size_t) snprintf(out, len, "%s", opt_mountpoint);
  if (base >= len) return -ENAMETOOLONG;
  if (base == 1) base = 0;
  size_t end = base;
  for (char *save = NULL, *c = strtok_r(path, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
    if (strcmp(c, ".") == 0) continue;
    if (strcmp(c, "..") == 0) {
      while (end > base && out[end - 1] != '/') end--;
      if (end > base) end--;
      continue;
    }
    size_t n = strlen(c);
    if (end + 1 + n + 1 > len) return -ENAMETOOLONG;
    out[end++] = '/';
    memcpy(out + end, c, n);
    end += n;
  }
  if (end == 0) out[end++] = '/';
  out[end] = '\0';
  return 0;
}
