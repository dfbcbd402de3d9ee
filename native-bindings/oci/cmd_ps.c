// cmd_ps.c: `ps [--format json|table] ID [PS-ARGS]`: the container's processes by host pid.
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "oci.h"

/** Without a cgroup: the processes in the init's PID namespace (when it has its own). */
static int pidns_pids (const struct oci_state *st, pid_t **pids, size_t *n) {
  char path[64];
  struct stat init_ns, self_ns;
  snprintf (path, sizeof path, "/proc/%d/ns/pid", st->pid);
  if (stat (path, &init_ns) < 0) return -1;
  if (stat ("/proc/self/ns/pid", &self_ns) == 0 && self_ns.st_ino == init_ns.st_ino) {
    // NOTE: no PID namespace of its own and no cgroup: the init is all we can name.
    *pids = malloc (sizeof **pids);
    (*pids)[0] = st->pid;
    *n = 1;
    return 0;
  }
  DIR *d = opendir ("/proc");
  if (!d) return -1;
  size_t cap = 0;
  struct dirent *e;
  while ((e = readdir (d))) {
    char *end;
    long pid = strtol (e->d_name, &end, 10);
    struct stat ns;
    if (*end || pid <= 0) continue;
    snprintf (path, sizeof path, "/proc/%ld/ns/pid", pid);
    if (stat (path, &ns) < 0 || ns.st_ino != init_ns.st_ino || ns.st_dev != init_ns.st_dev) continue;
    if (*n == cap) *pids = realloc (*pids, (cap = cap ? cap * 2 : 16) * sizeof **pids);
    (*pids)[(*n)++] = (pid_t) pid;
  }
  closedir (d);
  return 0;
}

int container_pids (const struct oci_state *st, pid_t **pids, size_t *n) {
  *pids = NULL;
  *n = 0;
  if (cgroup_pids (st->cgroups, pids, n) == 0) return 0;
  if (!pid_alive (st->pid, st->start_time)) return 0;
  return pidns_pids (st, pids, n);
}

static bool listed (pid_t pid, const pid_t *pids, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (pids[i] == pid) return true;
  return false;
}

/** runc's table: ps's own output, its header, then the lines whose PID is the container's. */
static int table (int npos, char **pos, const pid_t *pids, size_t n) {
  char cmd[8192] = "ps";
  size_t len = 2;
  if (npos <= 1) len += (size_t) snprintf (cmd + len, sizeof cmd - len, " -ef");
  for (int i = 1; i < npos && len < sizeof cmd; i++) {
    len += (size_t) snprintf (cmd + len, sizeof cmd - len, " '");
    for (const char *c = pos[i]; *c && len + 5 < sizeof cmd; c++) {
      if (*c == '\'') len += (size_t) snprintf (cmd + len, sizeof cmd - len, "'\\''");
      else cmd[len++] = *c;
    }
    len += (size_t) snprintf (cmd + len, sizeof cmd - len, "'");
  }
  FILE *f = popen (cmd, "re");
  if (!f) return fail ("cannot run ps: %s", strerror (errno));
  char line[8192];
  int pid_column = -1;
  while (fgets (line, sizeof line, f)) {
    if (pid_column < 0) {
      char copy[sizeof line];
      snprintf (copy, sizeof copy, "%s", line);
      int col = 0;
      for (char *save, *t = strtok_r (copy, " \t\n", &save); t; t = strtok_r (NULL, " \t\n", &save), col++)
        if (strcmp (t, "PID") == 0) pid_column = col;
      if (pid_column < 0) {
        pclose (f);
        return fail ("ps's output has no PID column");
      }
      fputs (line, stdout);
      continue;
    }
    char copy[sizeof line];
    snprintf (copy, sizeof copy, "%s", line);
    char *save, *t = strtok_r (copy, " \t\n", &save);
    for (int col = 0; t && col < pid_column; col++) t = strtok_r (NULL, " \t\n", &save);
    if (t && listed ((pid_t) atoi (t), pids, n)) fputs (line, stdout);
  }
  int status = pclose (f);
  return status == 0 ? 0 : fail ("ps failed (status %d)", status);
}

int cmd_ps (int argc, char **argv) {
  const char *format = "table";
  const struct opt opts[] = { { "format", 'f', true, &format, NULL }, { 0 } };
  if (wants_help (argc, argv)) return printf ("usage: fusejail [global options] ps [--format table|json] ID [PS-ARGS...]\n"), 0;
  char **pos;
  int npos;
  if (parse_opts (argc, argv, opts, &pos, &npos) < 0) return 1;
  if (strcmp (format, "json") != 0 && strcmp (format, "table") != 0) return fail ("--format must be table or json, not %s", format);
  if (npos < 1) return fail ("ps needs a container id");
  struct oci_state st;
  if (load_container (1, pos, "ps", &st) < 0) return 1;
  pid_t *pids;
  size_t n;
  container_pids (&st, &pids, &n);
  int r = 0;
  if (strcmp (format, "json") == 0) {
    printf ("[");
    for (size_t i = 0; i < n; i++) printf ("%s%d", i ? "," : "", pids[i]);
    printf ("]\n");
  } else
    r = table (npos, pos, pids, n);
  free (pids);
  state_free (&st);
  return r;
}
