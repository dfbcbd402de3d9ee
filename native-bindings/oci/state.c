// state.c: the state store: <root>/<id>/state.json, and the status computed without the
// supervisor, as runc does it: exec.fifo present → created; the init alive (same start time, not a
// zombie) → running; else stopped.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "oci.h"

bool valid_id (const char *id) {
  size_t n = strlen (id);
  if (n == 0 || n > 1024 || strcmp (id, ".") == 0 || strcmp (id, "..") == 0) return false;
  for (const char *c = id; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || strchr ("_.+-", *c))) return false;
  return true;
}

int state_dir_path (const char *id, char *out, size_t size) {
  if (!valid_id (id)) {
    errno = EINVAL;
    return -1;
  }
  if ((size_t) snprintf (out, size, "%s/%s", g.root, id) >= size) {
    errno = ENAMETOOLONG;
    return -1;
  }
  return 0;
}

void rfc3339_now (char *out, size_t size) {
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r (&ts.tv_sec, &tm);
  char base[32];
  strftime (base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf (out, size, "%s.%09ldZ", base, ts.tv_nsec);
}

/** Field 22 of /proc/<pid>/stat (0 when the process is gone); *state gets field 3. */
static unsigned long long stat_fields (pid_t pid, char *state) {
  char path[64], buf[1024];
  snprintf (path, sizeof path, "/proc/%d/stat", pid);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  char *p = strrchr (buf, ')');  // the command name may hold spaces and parentheses
  if (!p || p[1] != ' ') return 0;
  p += 2;
  if (state) *state = *p;
  for (int field = 3; field < 22; field++) {
    p = strchr (p, ' ');
    if (!p) return 0;
    p++;
  }
  return strtoull (p, NULL, 10);
}

unsigned long long proc_start_time (pid_t pid) {
  return stat_fields (pid, NULL);
}

bool pid_alive (pid_t pid, unsigned long long start_time) {
  if (pid <= 0) return false;
  char state = 0;
  unsigned long long t = stat_fields (pid, &state);
  return t != 0 && t == start_time && state != 'Z' && state != 'X';
}

enum oci_status state_status (const struct oci_state *st) {
  if (!pid_alive (st->pid, st->start_time)) return ST_STOPPED;
  char fifo[PATH_MAX];
  snprintf (fifo, sizeof fifo, "%s/exec.fifo", st->dir);
  return access (fifo, F_OK) == 0 ? ST_CREATED : ST_RUNNING;
}

const char *status_name (enum oci_status s) {
  static const char *const NAMES[] = { "creating", "created", "running", "stopped" };
  return NAMES[s];
}

static void copy_string (char *out, size_t size, json_t *o, const char *key) {
  const char *s = json_string_value (json_object_get (o, key));
  snprintf (out, size, "%s", s ? s : "");
}

int state_load (const char *id, struct oci_state *st) {
  memset (st, 0, sizeof *st);
  if (state_dir_path (id, st->dir, sizeof st->dir) < 0) return -1;
  snprintf (st->id, sizeof st->id, "%s", id);
  char path[PATH_MAX];
  snprintf (path, sizeof path, "%s/state.json", st->dir);
  json_error_t err;
  json_t *o = json_load_file (path, 0, &err);
  if (!o) {
    if (access (path, F_OK) == 0) errno = EIO;
    else errno = ENOENT;
    return -1;
  }
  copy_string (st->bundle, sizeof st->bundle, o, "bundle");
  copy_string (st->rootfs, sizeof st->rootfs, o, "rootfs");
  copy_string (st->created, sizeof st->created, o, "created");
  copy_string (st->supervisor_name, sizeof st->supervisor_name, o, "supervisorName");
  copy_string (st->supervisor_dir, sizeof st->supervisor_dir, o, "supervisorDir");
  st->cgroups = json_incref (json_object_get (o, "cgroups"));
  if (!st->cgroups) st->cgroups = json_array ();
  st->pid = (pid_t) json_integer_value (json_object_get (o, "pid"));
  st->start_time = (unsigned long long) json_integer_value (json_object_get (o, "startTime"));
  st->owner = (uid_t) json_integer_value (json_object_get (o, "owner"));
  st->annotations = json_incref (json_object_get (o, "annotations"));
  if (!st->annotations) st->annotations = json_object ();
  json_decref (o);
  return 0;
}

int state_save (const struct oci_state *st) {
  json_t *o = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:O, s:I, s:I, s:I, s:O}", "id", st->id, "bundle", st->bundle, "rootfs", st->rootfs,
                         "created", st->created, "supervisorName", st->supervisor_name, "supervisorDir", st->supervisor_dir, "cgroups", st->cgroups, "pid", (json_int_t) st->pid,
                         "startTime", (json_int_t) st->start_time, "owner", (json_int_t) st->owner, "annotations", st->annotations);
  if (!o) return errno = ENOMEM, -1;
  char path[PATH_MAX], tmp[PATH_MAX];
  snprintf (path, sizeof path, "%s/state.json", st->dir);
  snprintf (tmp, sizeof tmp, "%s/.state.json.tmp", st->dir);
  int r = json_dump_file (o, tmp, JSON_COMPACT);
  json_decref (o);
  if (r < 0 || rename (tmp, path) < 0) return -1;
  return 0;
}

json_t *state_json (const struct oci_state *st, enum oci_status s) {
  // NOTE: runc reports pid 0 once stopped (its state.go); owner is "" for root, as in runc.
  return json_pack ("{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:O, s:s}", "ociVersion", OCI_SPEC_VERSION, "id", st->id, "status",
                    status_name (s), "pid", (json_int_t) (s == ST_STOPPED ? 0 : st->pid), "bundle", st->bundle, "rootfs", st->rootfs,
                    "created", st->created, "annotations", st->annotations, "owner", "");
}

void state_free (struct oci_state *st) {
  json_decref (st->annotations);
  json_decref (st->cgroups);
  st->annotations = st->cgroups = NULL;
}

void state_remove_dir (const char *dir) {
  DIR *d = opendir (dir);
  if (d) {
    struct dirent *e;
    while ((e = readdir (d))) {
      if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0) continue;
      unlinkat (dirfd (d), e->d_name, 0);
    }
    closedir (d);
  }
  rmdir (dir);
}

int write_pid_file (const char *path, pid_t pid) {
  char tmp[PATH_MAX], digits[32];
  if ((size_t) snprintf (tmp, sizeof tmp, "%s.tmp-%d", path, getpid ()) >= sizeof tmp) return errno = ENAMETOOLONG, -1;
  int n = snprintf (digits, sizeof digits, "%d", pid);
  int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  if (write (fd, digits, (size_t) n) != n) {
    int err = errno;
    close (fd);
    unlink (tmp);
    return errno = err, -1;
  }
  close (fd);
  if (rename (tmp, path) < 0) {
    int err = errno;
    unlink (tmp);
    return errno = err, -1;
  }
  return 0;
}
