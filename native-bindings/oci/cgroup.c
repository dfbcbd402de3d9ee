// cgroup.c: a container's cgroup: created under each v1 hierarchy it limits (memory, cpu, cpuacct,
// pids, devices) or under v2's unified one, spec.resources applied, processes joined, listed, removed.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "oci.h"

static const char *const V1_CONTROLLERS[] = { "memory", "cpu", "cpuacct", "pids", "devices", NULL };

// NOTE: runc's default allowed devices (libcontainer/specconv AllowedDevices), appended after the
// config's rules as runc does: mknod of any device, and the devices every container's /dev holds
// (null, zero, full, random, urandom, tty, console, ptmx, the pty slaves).
static const struct oci_device_rule DEFAULT_RULES[] = {
  { true, 'c', -1, -1, "m" },  { true, 'b', -1, -1, "m" },  { true, 'c', 1, 3, "rwm" },   { true, 'c', 1, 5, "rwm" },
  { true, 'c', 1, 7, "rwm" },  { true, 'c', 1, 8, "rwm" },  { true, 'c', 1, 9, "rwm" },   { true, 'c', 5, 0, "rwm" },
  { true, 'c', 5, 1, "rwm" },  { true, 'c', 5, 2, "rwm" },  { true, 'c', 136, -1, "rwm" },
};
enum { NDEFAULT_RULES = sizeof DEFAULT_RULES / sizeof DEFAULT_RULES[0] };

/** Does the comma-separated list hold word? */
static bool has_word (const char *list, const char *word) {
  size_t n = strlen (word);
  for (const char *p = list; p && *p;) {
    const char *end = strchr (p, ',');
    size_t len = end ? (size_t) (end - p) : strlen (p);
    if (len == n && strncmp (p, word, n) == 0) return true;
    p = end ? end + 1 : NULL;
  }
  return false;
}

/** This process's cgroup in the hierarchy whose /proc/self/cgroup key is key ("" for v2). */
static int own_cgroup (const char *controller, char *out, size_t size) {
  FILE *f = fopen ("/proc/self/cgroup", "re");
  if (!f) return -1;
  char line[4096];
  int r = -1;
  while (fgets (line, sizeof line, f)) {
    line[strcspn (line, "\n")] = '\0';
    char *c1 = strchr (line, ':'), *c2 = c1 ? strchr (c1 + 1, ':') : NULL;
    if (!c2) continue;
    *c2 = '\0';
    bool match = controller ? has_word (c1 + 1, controller) : c1[1] == '\0';
    if (match) {
      snprintf (out, size, "%s", c2 + 1);
      r = 0;
      break;
    }
  }
  fclose (f);
  return r;
}

/** Calls fn for each cgroup mount (type "cgroup" or "cgroup2") with its mount point and options. */
static void each_hierarchy (void (*fn) (const char *point, const char *type, const char *options, void *ctx), void *ctx) {
  FILE *f = fopen ("/proc/self/mountinfo", "re");
  if (!f) return;
  char line[8192];
  while (fgets (line, sizeof line, f)) {
    char *fields[16] = { 0 };
    int n = 0;
    for (char *save, *t = strtok_r (line, " \n", &save); t && n < 16; t = strtok_r (NULL, " \n", &save)) fields[n++] = t;
    int dash = -1;
    for (int i = 6; i < n; i++)
      if (strcmp (fields[i], "-") == 0) {
        dash = i;
        break;
      }
    if (dash < 0 || dash + 3 >= n) continue;
    const char *type = fields[dash + 1];
    if (strcmp (type, "cgroup") == 0 || strcmp (type, "cgroup2") == 0) fn (fields[4], type, fields[dash + 3], ctx);
  }
  fclose (f);
}

struct gather {
  const char *path;  // absolute or relative cgroup path
  json_t *v1, *v2;
  bool failed;
};

static void add_dir (json_t *list, const char *point, const char *own, const char *path) {
  char dir[PATH_MAX];
  if (path[0] == '/') snprintf (dir, sizeof dir, "%s%s", point, path);
  else snprintf (dir, sizeof dir, "%s%s%s/%s", point, own[0] == '/' ? "" : "/", strcmp (own, "/") == 0 ? "" : own, path);
  for (size_t i = 0; i < json_array_size (list); i++)
    if (strcmp (json_string_value (json_array_get (list, i)), dir) == 0) return;
  json_array_append_new (list, json_string (dir));
}

static void gather_one (const char *point, const char *type, const char *options, void *ctx) {
  struct gather *gt = ctx;
  char own[PATH_MAX];
  if (strcmp (type, "cgroup2") == 0) {
    if (own_cgroup (NULL, own, sizeof own) == 0) add_dir (gt->v2, point, own, gt->path);
    return;
  }
  for (const char *const *c = V1_CONTROLLERS; *c; c++)
    if (has_word (options, *c) && own_cgroup (*c, own, sizeof own) == 0) {
      add_dir (gt->v1, point, own, gt->path);
      return;
    }
}

json_t *cgroup_dirs_for (const struct oci_spec *spec, const char *id, struct oci_error *e) {
  char path[PATH_MAX];
  const char *given = spec->cgroups_path;
  if (given && *given && g.systemd_cgroup) {
    // NOTE: slice:prefix:name, as runc's systemd driver reads it; no unit is made, only the path.
    char copy[PATH_MAX];
    snprintf (copy, sizeof copy, "%s", given);
    char *c1 = strchr (copy, ':'), *c2 = c1 ? strchr (c1 + 1, ':') : NULL;
    if (!c2) return oci_fail (e, EINVAL, "config.json: linux.cgroupsPath %s is not slice:prefix:name (--systemd-cgroup)", given), NULL;
    *c1 = *c2 = '\0';
    snprintf (path, sizeof path, "/%s/%s%s%s.scope", *copy ? copy : "system.slice", c1 + 1, c1[1] ? "-" : "", c2 + 1);
  } else if (given && *given) {
    if (strstr (given, "..")) return oci_fail (e, EINVAL, "config.json: linux.cgroupsPath %s holds ..", given), NULL;
    snprintf (path, sizeof path, "%s", given);
  } else
    snprintf (path, sizeof path, "fusejail-oci/%s", id);
  struct gather gt = { .path = path, .v1 = json_array (), .v2 = json_array () };
  each_hierarchy (gather_one, &gt);
  // NOTE: a hybrid host (this project's) has controllers on v1 and an empty unified hierarchy.
  json_t *dirs = json_array_size (gt.v1) ? gt.v1 : gt.v2;
  json_decref (dirs == gt.v1 ? gt.v2 : gt.v1);
  if (json_array_size (dirs) == 0) {
    json_decref (dirs);
    return oci_fail (e, ENOENT, "no cgroup hierarchy is mounted (use --cgroup-manager disabled)"), NULL;
  }
  return dirs;
}

static int write_file (const char *dir, const char *file, const char *value, struct oci_error *e) {
  char path[PATH_MAX];
  snprintf (path, sizeof path, "%s/%s", dir, file);
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return e ? oci_fail (e, errno, "cgroup: cannot open %s: %s", path, strerror (errno)) : -1;
  ssize_t n = write (fd, value, strlen (value));
  int err = errno;
  close (fd);
  if (n < 0) return e ? oci_fail (e, err, "cgroup: cannot write %s to %s: %s", value, path, strerror (err)) : -1;
  return 0;
}

static bool exists (const char *dir, const char *file) {
  char path[PATH_MAX];
  snprintf (path, sizeof path, "%s/%s", dir, file);
  return access (path, F_OK) == 0;
}

static int mkdir_p (const char *dir) {
  char path[PATH_MAX];
  snprintf (path, sizeof path, "%s", dir);
  for (char *p = path + 1; *p; p++)
    if (*p == '/') {
      *p = '\0';
      if (mkdir (path, 0755) < 0 && errno != EEXIST) return -1;
      *p = '/';
    }
  return mkdir (path, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

/**
 * v2: memory, cpu and pids enabled in every ancestor's subtree_control on the way down (an
 * ancestor above the hierarchy's mount point has no such file and is passed over).
 */
static void v2_enable (const char *dir) {
  char path[PATH_MAX];
  snprintf (path, sizeof path, "%s", dir);
  for (char *p = strchr (path + 1, '/'); p; p = strchr (p + 1, '/')) {
    *p = '\0';
    if (exists (path, "cgroup.subtree_control")) write_file (path, "cgroup.subtree_control", "+memory +cpu +pids", NULL);
    *p = '/';
  }
}

/** One rule as devices.allow/devices.deny read it: "c 1:3 rwm", "a" for every device. */
static void rule_text (const struct oci_device_rule *rule, char *out, size_t size) {
  char major[24] = "*", minor[24] = "*";
  if (rule->type == 'a') {
    snprintf (out, size, "a");
    return;
  }
  if (rule->major >= 0) snprintf (major, sizeof major, "%lld", (long long) rule->major);
  if (rule->minor >= 0) snprintf (minor, sizeof minor, "%lld", (long long) rule->minor);
  snprintf (out, size, "%c %s:%s %s", rule->type, major, minor, rule->access);
}

static int write_rule (const char *dir, const struct oci_device_rule *rule, struct oci_error *e) {
  char text[64];
  rule_text (rule, text, sizeof text);
  return write_file (dir, rule->allow ? "devices.allow" : "devices.deny", text, e);
}

/**
 * v1's devices controller, as runc sets it: everything denied, then the config's rules in their
 * order (devices.list keeps it), then the default devices and linux.devices allowed.
 */
static int apply_devices_v1 (const char *dir, const struct oci_spec *spec, struct oci_error *e) {
  const struct oci_device_rule deny_all = { false, 'a', -1, -1, "rwm" };
  if (write_rule (dir, &deny_all, e) < 0) return -1;
  for (size_t i = 0; i < spec->resources.ndevice_rules; i++)
    if (write_rule (dir, &spec->resources.device_rules[i], e) < 0) return -1;
  for (size_t i = 0; i < NDEFAULT_RULES; i++)
    if (write_rule (dir, &DEFAULT_RULES[i], e) < 0) return -1;
  for (size_t i = 0; i < spec->ndevices; i++) {
    const struct oci_device *d = &spec->devices[i];
    struct oci_device_rule rule = { true, d->type == 'b' ? 'b' : 'c', d->major, d->minor, "rwm" };
    if (d->type != 'p' && write_rule (dir, &rule, e) < 0) return -1;
  }
  return 0;
}

/** Does rule allow no more than the default devices, or deny every device (podman's and containerd's)? */
static bool default_rule (const struct oci_device_rule *rule) {
  if (!rule->allow) return rule->type == 'a' && strcmp (rule->access, "rwm") == 0;
  for (size_t i = 0; i < NDEFAULT_RULES; i++) {
    const struct oci_device_rule *d = &DEFAULT_RULES[i];
    bool same_device = rule->type == d->type && rule->major == d->major && (d->minor < 0 || rule->minor == d->minor);
    if (same_device && strspn (rule->access, d->access) == strlen (rule->access)) return true;
  }
  return false;
}

/**
 * v2 has no devices files: rules are a BPF program, which fusejail does not load. The defaults
 * change nothing there (the container's /dev holds only those devices and linux.devices); any
 * other rule would be ignored, so it is refused.
 */
static int check_devices_v2 (const struct oci_resources *r, struct oci_error *e) {
  for (size_t i = 0; i < r->ndevice_rules; i++) {
    if (default_rule (&r->device_rules[i])) continue;
    char text[64];
    rule_text (&r->device_rules[i], text, sizeof text);
    return oci_fail (e, EINVAL, "config.json: linux.resources.devices[%zu] (%s %s) is not supported by fusejail on cgroup v2 (it needs a BPF program)",
                     i, r->device_rules[i].allow ? "allow" : "deny", text);
  }
  return 0;
}

static int apply (const char *dir, const struct oci_spec *spec, struct oci_error *e) {
  char v[64];
  const struct oci_resources *r = &spec->resources;
  bool v2 = exists (dir, "cgroup.controllers");
  if (v2 && check_devices_v2 (r, e) < 0) return -1;
  if (!v2 && exists (dir, "devices.allow") && apply_devices_v1 (dir, spec, e) < 0) return -1;
  if (r->memory_reservation > 0 && exists (dir, v2 ? "memory.low" : "memory.soft_limit_in_bytes")) {
    snprintf (v, sizeof v, "%lld", (long long) r->memory_reservation);
    if (write_file (dir, v2 ? "memory.low" : "memory.soft_limit_in_bytes", v, e) < 0) return -1;
  }
  if (r->memory_limit > 0 && exists (dir, v2 ? "memory.max" : "memory.limit_in_bytes")) {
    snprintf (v, sizeof v, "%lld", (long long) r->memory_limit);
    if (write_file (dir, v2 ? "memory.max" : "memory.limit_in_bytes", v, e) < 0) return -1;
  }
  if (r->memory_swap > 0) {
    // NOTE: OCI's swap is memory+swap (v1's memsw); v2's swap.max is the swap alone.
    const char *file = v2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes";
    long long value = v2 ? (long long) (r->memory_swap - (r->memory_limit > 0 ? r->memory_limit : 0)) : (long long) r->memory_swap;
    if (exists (dir, file)) {
      snprintf (v, sizeof v, "%lld", value < 0 ? 0 : value);
      if (write_file (dir, file, v, e) < 0) return -1;
    }
  }
  if (v2 && exists (dir, "cpu.max") && (r->cpu_quota > 0 || r->cpu_period > 0)) {
    unsigned long long period = r->cpu_period ? r->cpu_period : 100000;
    if (r->cpu_quota > 0) snprintf (v, sizeof v, "%lld %llu", (long long) r->cpu_quota, period);
    else snprintf (v, sizeof v, "max %llu", period);
    if (write_file (dir, "cpu.max", v, e) < 0) return -1;
  } else if (!v2 && exists (dir, "cpu.cfs_quota_us")) {
    if (r->cpu_period > 0) {
      snprintf (v, sizeof v, "%llu", (unsigned long long) r->cpu_period);
      if (write_file (dir, "cpu.cfs_period_us", v, e) < 0) return -1;
    }
    if (r->cpu_quota > 0) {
      snprintf (v, sizeof v, "%lld", (long long) r->cpu_quota);
      if (write_file (dir, "cpu.cfs_quota_us", v, e) < 0) return -1;
    }
  }
  if (r->cpu_shares > 0) {
    // NOTE: shares (2..262144) become v2's weight (1..10000) as runc converts them.
    unsigned long long w = 1 + ((r->cpu_shares < 2 ? 2 : r->cpu_shares) - 2) * 9999 / 262142;
    snprintf (v, sizeof v, "%llu", v2 ? w : (unsigned long long) r->cpu_shares);
    const char *file = v2 ? "cpu.weight" : "cpu.shares";
    if (exists (dir, file) && write_file (dir, file, v, e) < 0) return -1;
  }
  if (r->pids_limit > 0 && exists (dir, "pids.max")) {
    snprintf (v, sizeof v, "%lld", (long long) r->pids_limit);
    if (write_file (dir, "pids.max", v, e) < 0) return -1;
  }
  return 0;
}

int cgroup_create (const json_t *dirs, const struct oci_spec *spec, struct oci_error *e) {
  for (size_t i = 0; i < json_array_size (dirs); i++) {
    const char *dir = json_string_value (json_array_get (dirs, i));
    if (mkdir_p (dir) < 0) return oci_fail (e, errno, "cgroup: cannot create %s: %s", dir, strerror (errno));
    if (exists (dir, "cgroup.controllers")) v2_enable (dir);
    if (apply (dir, spec, e) < 0) return -1;
  }
  return 0;
}

int cgroup_join (const json_t *dirs, pid_t pid, struct oci_error *e) {
  char v[32];
  snprintf (v, sizeof v, "%d", pid);
  for (size_t i = 0; i < json_array_size (dirs); i++)
    if (write_file (json_string_value (json_array_get (dirs, i)), "cgroup.procs", v, e) < 0) return -1;
  return 0;
}

int cgroup_pids (const json_t *dirs, pid_t **pids, size_t *n) {
  *pids = NULL;
  *n = 0;
  if (json_array_size (dirs) == 0) return -1;
  char path[PATH_MAX];
  snprintf (path, sizeof path, "%s/cgroup.procs", json_string_value (json_array_get (dirs, 0)));
  FILE *f = fopen (path, "re");
  if (!f) return -1;
  size_t cap = 0;
  long pid;
  while (fscanf (f, "%ld", &pid) == 1) {
    if (*n == cap) {
      pid_t *bigger = realloc (*pids, (cap = cap ? cap * 2 : 16) * sizeof **pids);
      if (!bigger) break;
      *pids = bigger;
    }
    (*pids)[(*n)++] = (pid_t) pid;
  }
  fclose (f);
  return 0;
}

void cgroup_remove (const json_t *dirs) {
  for (size_t i = 0; i < json_array_size (dirs); i++) {
    const char *dir = json_string_value (json_array_get (dirs, i));
    // NOTE: the kernel may still be releasing the last process; a few tries cover it.
    for (int attempt = 0; attempt < 50 && rmdir (dir) < 0 && errno == EBUSY; attempt++) usleep (10000);
    char parent[PATH_MAX];
    snprintf (parent, sizeof parent, "%s", dir);
    char *slash = strrchr (parent, '/');
    if (slash && strcmp (slash + 1, "") != 0) {
      *slash = '\0';
      if (strcmp (strrchr (parent, '/') ? strrchr (parent, '/') + 1 : parent, "fusejail-oci") == 0) rmdir (parent);
    }
  }
}
