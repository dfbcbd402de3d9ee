// path.c: args[0] found with the container's PATH, inside the current root (after pivot_root), so
// `create` fails with runc's words when it is missing.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "oci.h"

static bool executable (const char *path) {
  struct stat st;
  return stat (path, &st) == 0 && S_ISREG (st.st_mode) && access (path, X_OK) == 0;
}

int find_executable (const char *name, char *const env[], char *out, size_t size, struct oci_error *e) {
  if (strchr (name, '/')) {
    snprintf (out, size, "%s", name);
    if (executable (name)) return 0;
    if (access (name, F_OK) == 0) return oci_fail (e, EACCES, "exec: \"%s\": permission denied", name);
    return oci_fail (e, ENOENT, "exec: \"%s\": stat %s: no such file or directory", name, name);
  }
  const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (char *const *v = env; v && *v; v++)
    if (strncmp (*v, "PATH=", 5) == 0) path = *v + 5;
  bool denied = false;
  for (const char *p = path;;) {
    const char *end = strchr (p, ':');
    size_t len = end ? (size_t) (end - p) : strlen (p);
    snprintf (out, size, "%.*s%s%s", (int) len, p, len ? "/" : "", name);
    if (executable (out)) return 0;
    if (access (out, F_OK) == 0) denied = true;
    if (!end) break;
    p = end + 1;
  }
  if (denied) return oci_fail (e, EACCES, "exec: \"%s\": permission denied", name);
  return oci_fail (e, ENOENT, "exec: \"%s\": executable file not found in $PATH", name);
}
