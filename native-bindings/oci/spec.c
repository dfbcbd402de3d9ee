// spec.c: reads config.json (and `exec --process` files) into struct oci_spec, refusing what
// fusejail does not support with the JSON path named.
//
// NOTE: runtime-spec's extensibility rule says a runtime MUST ignore properties it does not know;
// properties the spec defines but fusejail cannot honour are refused instead, unless their value
// is empty (an empty string, object or array, zero or false asks for nothing).
// NOTE: ownership: strings of spec->process and every mount's source and data are allocated;
// every other string is borrowed from spec->document.
#define _GNU_SOURCE
#include "spec.h"

#include "names.h"
#include "oci-seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

int oci_fail (struct oci_error *e, int err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  e->err = err;
  vsnprintf(e->message, sizeof e->message, fmt, ap);
  va_end(ap);
  return -1;
}

/** What is being read: the file's name for messages ("config.json"), and where errors go. */
struct reader {
  const char *file;
  struct oci_error *e;
};

__attribute__((format(printf, 3, 4)))
static int bad (struct reader *r, const char *path, const char *fmt, ...) {
  char what[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return oci_fail(r->e, EINVAL, "%s: %s %s", r->file, path, what);
}

static int refuse (struct reader *r, const char *path) {
  return oci_fail(r->e, ENOTSUP, "%s: %s is not supported by fusejail", r->file, path);
}

static bool is_empty (const json_t *v) {
  switch (json_typeof(v)) {
    case JSON_NULL: case JSON_FALSE: return true;
    case JSON_STRING: return json_string_length(v) == 0;
    case JSON_INTEGER: return json_integer_value(v) == 0;
    case JSON_REAL: return json_real_value(v) == 0;
    case JSON_ARRAY: return json_array_size(v) == 0;
    case JSON_OBJECT: return json_object_size(v) == 0;
    default: return false;
  }
}

// `parent.key` or `parent[i]` into buf.
static const char *at (char *buf, size_t size, const char *parent, const char *key) {
  snprintf(buf, size, "%s%s%s", parent, *parent ? "." : "", key);
  return buf;
}

static const char *at_index (char *buf, size_t size, const char *parent, size_t i) {
  snprintf(buf, size, "%s[%zu]", parent, i);
  return buf;
}

#define PATH_AT(parent, key) at((char[256]){ 0 }, 256, parent, key)
#define PATH_INDEX(parent, i) at_index((char[256]){ 0 }, 256, parent, i)

/** Keys of `obj` that runtime-spec defines and fusejail refuses unless their value is empty. */
static int refuse_keys (struct reader *r, const json_t *obj, const char *path, const char *const *keys) {
  for (; *keys; keys++) {
    json_t *v = json_object_get(obj, *keys);
    if (v && !is_empty(v)) return refuse(r, PATH_AT(path, *keys));
  }
  return 0;
}

static int want_object (struct reader *r, const json_t *v, const char *path) {
  return json_is_object(v) ? 0 : bad(r, path, "must be an object");
}

static int want_array (struct reader *r, const json_t *v, const char *path) {
  return json_is_array(v) ? 0 : bad(r, path, "must be an array");
}

/** obj[key] as a string: NULL (and 0) when absent and optional. */
static int get_string (struct reader *r, const json_t *obj, const char *path, const char *key, bool required, const char **out) {
  json_t *v = json_object_get(obj, key);
  *out = NULL;
  if (!v || json_is_null(v)) return required ? bad(r, PATH_AT(path, key), "is required") : 0;
  if (!json_is_string(v)) return bad(r, PATH_AT(path, key), "must be a string");
  *out = json_string_value(v);
  return 0;
}

static int get_bool (struct reader *r, const json_t *obj, const char *path, const char *key, bool *out) {
  json_t *v = json_object_get(obj, key);
  if (!v || json_is_null(v)) return 0;
  if (!json_is_boolean(v)) return bad(r, PATH_AT(path, key), "must be true or false");
  *out = json_is_true(v);
  return 0;
}

/** obj[key] as an integer in [min, max]; *present tells whether it was there. */
static int get_int (struct reader *r, const json_t *obj, const char *path, const char *key, int64_t min, int64_t max, int64_t *out, bool *present) {
  json_t *v = json_object_get(obj, key);
  if (present) *present = false;
  if (!v || json_is_null(v)) return 0;
  // NOTE: jansson reads integers as signed 64 bits; a uint64 above that (e.g. -1 written as
  // 18446744073709551615) arrives as a real and is refused by the range check.
  if (!json_is_integer(v)) return bad(r, PATH_AT(path, key), "must be an integer");
  int64_t n = json_integer_value(v);
  if (n < min || n > max) return bad(r, PATH_AT(path, key), "is out of range (%lld)", (long long) n);
  *out = n;
  if (present) *present = true;
  return 0;
}

static bool absolute (const char *p) {
  return p && p[0] == '/';
}

static int get_absolute (struct reader *r, const json_t *obj, const char *path, const char *key, bool required, const char **out) {
  if (get_string(r, obj, path, key, required, out) < 0) return -1;
  if (*out && !absolute(*out)) return bad(r, PATH_AT(path, key), "must be an absolute path (got \"%s\")", *out);
  return 0;
}

/** A NULL-terminated array of the strings of obj[key]; `copy`: strdup'd, else borrowed. */
static int get_strings (struct reader *r, const json_t *obj, const char *path, const char *key, bool copy, char ***out) {
  json_t *v = json_object_get(obj, key);
  const char *p = PATH_AT(path, key);
  *out = NULL;
  if (!v || json_is_null(v)) return 0;
  if (want_array(r, v, p) < 0) return -1;
  char **list = calloc(json_array_size(v) + 1, sizeof *list);
  if (!list) return oci_fail(r->e, ENOMEM, "%s: out of memory", r->file);
  *out = list;
  size_t i;
  json_t *item;
  json_array_foreach(v, i, item) {
    if (!json_is_string(item)) return bad(r, PATH_INDEX(p, i), "must be a string");
    list[i] = copy ? strdup(json_string_value(item)) : (char *) json_string_value(item);
    if (!list[i]) return oci_fail(r->e, ENOMEM, "%s: out of memory", r->file);
  }
  return 0;
}

static void free_strings (char **list) {
  if (!list) return;
  for (char **s = list; *s; s++) free(*s);
  free(list);
}

// ---- process ----

static const char *const CAPSET_KEYS[] = { "bounding", "effective", "permitted", "inheritable", "ambient" };

static int read_capabilities (struct reader *r, const json_t *caps, const char *path, struct oci_process *p) {
  if (want_object(r, caps, path) < 0) return -1;
  p->has_capabilities = true;
  for (int set = 0; set < 5; set++) {
    const char *p_set = PATH_AT(path, CAPSET_KEYS[set]);
    json_t *names = json_object_get(caps, CAPSET_KEYS[set]);
    if (!names || json_is_null(names)) continue;
    if (want_array(r, names, p_set) < 0) return -1;
    size_t i;
    json_t *name;
    json_array_foreach(names, i, name) {
      int n = json_is_string(name) ? oci_capability_number(json_string_value(name)) : -1;
      if (n < 0) return bad(r, PATH_INDEX(p_set, i), "is not a capability name (CAP_*)");
      p->caps[set] |= 1ULL << n;
    }
  }
  return 0;
}

// NOTE: RLIM_INFINITY (2^64-1) is more than jansson's integers hold: such a config.json is refused
// by the JSON parser, naming its line.
static int rlimit_value (struct reader *r, const json_t *item, const char *path, const char *key, rlim_t *out) {
  json_t *v = json_object_get(item, key);
  if (!json_is_integer(v) || json_integer_value(v) < 0) return bad(r, PATH_AT(path, key), "must be an integer of 0 or more");
  *out = (rlim_t) json_integer_value(v);
  return 0;
}

static int read_rlimits (struct reader *r, const json_t *list, const char *path, struct oci_process *p) {
  if (want_array(r, list, path) < 0) return -1;
  p->rlimits = calloc(json_array_size(list) + 1, sizeof *p->rlimits);
  if (!p->rlimits) return oci_fail(r->e, ENOMEM, "%s: out of memory", r->file);
  size_t i;
  json_t *item;
  json_array_foreach(list, i, item) {
    const char *p_item = PATH_INDEX(path, i);
    const char *type;
    if (want_object(r, item, p_item) < 0 || get_string(r, item, p_item, "type", true, &type) < 0) return -1;
    int resource = oci_rlimit_number(type);
    if (resource < 0) return bad(r, PATH_AT(p_item, "type"), "is not an rlimit type (RLIMIT_*): \"%s\"", type);
    for (size_t j = 0; j < i; j++) {
      if (p->rlimits[j].resource == resource) return bad(r, PATH_AT(p_item, "type"), "repeats %s", type);
    }
    rlim_t soft, hard;
    if (rlimit_value(r, item, p_item, "soft", &soft) < 0 || rlimit_value(r, item, p_item, "hard", &hard) < 0) return -1;
    struct oci_rlimit *l = &p->rlimits[p->nrlimits++];
    *l = (struct oci_rlimit) { resource, soft, hard };
    if (l->soft > l->hard) return bad(r, p_item, "has soft above hard");
  }
  return 0;
}

static int read_user (struct reader *r, const json_t *user, const char *path, struct oci_process *p) {
  int64_t n;
  bool present;
  if (want_object(r, user, path) < 0) return -1;
  if (get_int(r, user, path, "uid", 0, UINT32_MAX - 1, &n, &present) < 0) return -1;
  if (present) p->uid = (uid_t) n;
  if (get_int(r, user, path, "gid", 0, UINT32_MAX - 1, &n, &present) < 0) return -1;
  if (present) p->gid = (gid_t) n;
  if (get_int(r, user, path, "umask", 0, 0777, &n, &p->has_umask) < 0) return -1;
  if (p->has_umask) p->umask = (mode_t) n;
  static const char *const unsupported[] = { "username", NULL };
  if (refuse_keys(r, user, path, unsupported) < 0) return -1;
  json_t *groups = json_object_get(user, "additionalGids");
  if (!groups || json_is_null(groups)) return 0;
  const char *p_groups = PATH_AT(path, "additionalGids");
  if (want_array(r, groups, p_groups) < 0) return -1;
  p->additional_gids = calloc(json_array_size(groups) + 1, sizeof *p->additional_gids);
  if (!p->additional_gids) return oci_fail(r->e, ENOMEM, "%s: out of memory", r->file);
  size_t i;
  json_t *g;
  json_array_foreach(groups, i, g) {
    if (!json_is_integer(g) || json_integer_value(g) < 0 || json_integer_value(g) >= UINT32_MAX) {
      return bad(r, PATH_INDEX(p_groups, i), "must be a group id");
    }
    p->additional_gids[p->nadditional_gids++] = (gid_t) json_integer_value(g);
  }
  return 0;
}

static int read_process (struct reader *r, const json_t *obj, const char *path, struct oci_process *p) {
  int64_t n;
  bool present;
  if (want_object(r, obj, path) < 0) return -1;
  // NOTE: commandLine is Windows'; the rest have no fusejail realisation (no LSM is applied, no
  // scheduler or I/O class or CPU affinity is set), so asking for them must fail, not pass unseen.
  static const char *const unsupported[] = {
    "commandLine", "apparmorProfile", "selinuxLabel", "ioPriority", "scheduler", "execCPUAffinity", NULL,
  };
  if (refuse_keys(r, obj, path, unsupported) < 0) return -1;
  if (get_bool(r, obj, path, "terminal", &p->terminal) < 0) return -1;
  json_t *size = json_object_get(obj, "consoleSize");
  if (size && !json_is_null(size)) {
    const char *p_size = PATH_AT(path, "consoleSize");
    if (want_object(r, size, p_size) < 0) return -1;
    if (get_int(r, size, p_size, "height", 0, USHRT_MAX, &n, &present) < 0) return -1;
    if (present) p->rows = (unsigned short) n;
    if (get_int(r, size, p_size, "width", 0, USHRT_MAX, &n, &present) < 0) return -1;
    if (present) p->cols = (unsigned short) n;
  }
  json_t *user = json_object_get(obj, "user");
  if (user && !json_is_null(user) && read_user(r, user, PATH_AT(path, "user"), p) < 0) return -1;
  if (get_strings(r, obj, path, "args", true, &p->args) < 0) return -1;
  if (!p->args || !p->args[0]) return bad(r, PATH_AT(path, "args"), "must name a program");
  if (get_strings(r, obj, path, "env", true, &p->env) < 0) return -1;
  if (!p->env && !(p->env = calloc(1, sizeof *p->env))) return oci_fail(r->e, ENOMEM, "%s: out of memory", r->file);
  for (size_t i = 0; p->env[i]; i++) {
    if (!strchr(p->env[i], '=')) return bad(r, PATH_INDEX(PATH_AT(path, "env"), i), "must be KEY=VALUE (got \"%s\")", p->env[i]);
  }
  const char *cwd;
  if (get_absolute(r, obj, path, "cwd", true, &cwd) < 0) return -1;
  if (!(p->cwd = strdup(cwd))) return oci_fail(r->e, ENOMEM, "%s: out of memory", r->file);
  json_t *caps = json_object_get(obj, "capabilities");
  if (caps && !json_is_null(caps) && read_capabilities(r, caps, PATH_AT(path, "capabilities"), p) < 0) return -1;
  json_t *rlimits = json_object_get(obj, "rlimits");
  if (rlimits && !json_is_null(rlimits) && read_rlimits(r, rlimits, PATH_AT(path, "rlimits"), p) < 0) return -1;
  if (get_bool(r, obj, path, "noNewPrivileges", &p->no_new_privileges) < 0) return -1;
  if (get_int(r, obj, path, "oomScoreAdj", -1000, 1000, &n, &p->has_oom_score_adj) < 0) return -1;
  if (p->has_oom_score_adj) p->oom_score_adj = (int) n;
  return 0;
}

void process_free (struct oci_process *p) {
  free_strings(p->args);
  free_strings(p->env);
  free(p->cwd);
  free(p->additional_gids);
  free(p->rlimits);
  memset(p, 0, sizeof *p);
}

// ---- mounts ----

enum option_kind { OPT_SET, OPT_CLEAR, OPT_PROPAGATION, OPT_REFUSE, OPT_NOOP };

static const struct {
  const char *name;
  enum option_kind kind;
  unsigned long flag;
} MOUNT_OPTIONS[] = {
  { "ro", OPT_SET, MS_RDONLY }, { "rw", OPT_CLEAR, MS_RDONLY },
  { "nosuid", OPT_SET, MS_NOSUID }, { "suid", OPT_CLEAR, MS_NOSUID },
  { "nodev", OPT_SET, MS_NODEV }, { "dev", OPT_CLEAR, MS_NODEV },
  { "noexec", OPT_SET, MS_NOEXEC }, { "exec", OPT_CLEAR, MS_NOEXEC },
  { "sync", OPT_SET, MS_SYNCHRONOUS }, { "async", OPT_CLEAR, MS_SYNCHRONOUS },
  { "dirsync", OPT_SET, MS_DIRSYNC }, { "remount", OPT_SET, MS_REMOUNT },
  { "mand", OPT_SET, MS_MANDLOCK }, { "nomand", OPT_CLEAR, MS_MANDLOCK },
  { "atime", OPT_CLEAR, MS_NOATIME }, { "noatime", OPT_SET, MS_NOATIME },
  { "diratime", OPT_CLEAR, MS_NODIRATIME }, { "nodiratime", OPT_SET, MS_NODIRATIME },
  { "relatime", OPT_SET, MS_RELATIME }, { "norelatime", OPT_CLEAR, MS_RELATIME },
  { "strictatime", OPT_SET, MS_STRICTATIME }, { "nostrictatime", OPT_CLEAR, MS_STRICTATIME },
  { "lazytime", OPT_SET, MS_LAZYTIME }, { "nolazytime", OPT_CLEAR, MS_LAZYTIME },
  { "silent", OPT_SET, MS_SILENT }, { "loud", OPT_CLEAR, MS_SILENT },
  { "nosymfollow", OPT_SET, MS_NOSYMFOLLOW }, { "symfollow", OPT_CLEAR, MS_NOSYMFOLLOW },
  { "bind", OPT_SET, MS_BIND }, { "rbind", OPT_SET, MS_BIND | MS_REC },
  { "private", OPT_PROPAGATION, MS_PRIVATE }, { "rprivate", OPT_PROPAGATION, MS_PRIVATE | MS_REC },
  { "shared", OPT_PROPAGATION, MS_SHARED }, { "rshared", OPT_PROPAGATION, MS_SHARED | MS_REC },
  { "slave", OPT_PROPAGATION, MS_SLAVE }, { "rslave", OPT_PROPAGATION, MS_SLAVE | MS_REC },
  { "unbindable", OPT_PROPAGATION, MS_UNBINDABLE }, { "runbindable", OPT_PROPAGATION, MS_UNBINDABLE | MS_REC },
  // NOTE: copy-up into a tmpfs, id-mapped mounts and recursive mount attributes (mount_setattr)
  // are not done by fusejail; "notmpcopyup" and "defaults" ask for what happens anyway.
  { "tmpcopyup", OPT_REFUSE, 0 }, { "notmpcopyup", OPT_NOOP, 0 }, { "defaults", OPT_NOOP, 0 },
  { "idmap", OPT_REFUSE, 0 }, { "ridmap", OPT_REFUSE, 0 },
  { "rro", OPT_REFUSE, 0 }, { "rrw", OPT_REFUSE, 0 }, { "rnosuid", OPT_REFUSE, 0 }, { "rsuid", OPT_REFUSE, 0 },
  { "rnodev", OPT_REFUSE, 0 }, { "rdev", OPT_REFUSE, 0 }, { "rnoexec", OPT_REFUSE, 0 }, { "rexec", OPT_REFUSE, 0 },
  { "rnodiratime", OPT_REFUSE, 0 }, { "rdiratime", OPT_REFUSE, 0 }, { "rrelatime", OPT_REFUSE, 0 },
  { "rnorelatime", OPT_REFUSE, 0 }, { "rnoatime", OPT_REFUSE, 0 }, { "ratime", OPT_REFUSE, 0 },
  { "rstrictatime", OPT_REFUSE, 0 }, { "rnostrictatime", OPT_REFUSE, 0 }, { "rnosymfollow", OPT_REFUSE, 0 },
  { "rsymfollow", OPT_REFUSE, 0 },
};

static int read_mount_options (struct reader *r, const json_t *options, const char *path, struct oci_mount *m) {
  size_t i, len = 0;
  json_t *o;
  if (want_array(r, options, path) < 0) return -1;
  json_array_foreach(options, i, o) {
    if (!json_is_string(o)) return bad(r, PATH_INDEX(path, i), "must be a string");
    len += json_string_length(o) + 1;
  }
  char *data = calloc(len + 1, 1);
  if (!data) return oci_fail(r->e, ENOMEM, "%s: out of memory", r->file);
  m->data = data;
  json_array_foreach(options, i, o) {
    const char *name = json_string_value(o);
    size_t k = 0, n = sizeof MOUNT_OPTIONS / sizeof *MOUNT_OPTIONS;
    while (k < n && strcmp(MOUNT_OPTIONS[k].name, name) != 0) k++;
    if (k == n) {
      if (*data) strcat(data, ",");
      strcat(data, name);
      continue;
    }
    switch (MOUNT_OPTIONS[k].kind) {
      case OPT_SET: m->flags |= MOUNT_OPTIONS[k].flag; break;
      case OPT_CLEAR: m->flags &= ~MOUNT_OPTIONS[k].flag; break;
      case OPT_PROPAGATION: m->propagation = MOUNT_OPTIONS[k].flag; break;
      case OPT_NOOP: break;
      case OPT_REFUSE: return oci_fail(r->e, ENOTSUP, "%s: %s: mount option \"%s\" is not supported by fusejail", r->file, PATH_INDEX(path, i), name);
    }
  }
  if (!*data) {
    free(data);
    m->data = NULL;
  }
  return 0;
}

static int read_mount (struct reader *r, const json_t *obj, const char *path, const char *bundle, struct oci_mount *m) {
  const char *type, *source, *destination;
  if (want_object(r, obj, path) < 0) return -1;
  static const char *const unsupported[] = { "uidMappings", "gidMappings", NULL };
  if (refuse_keys(r, obj, path, unsupported) < 0) return -1;
  if (get_absolute(r, obj, path, "destination", true, &destination) < 0) return -1;
  m->destination = (char *) destination;
  if (get_string(r, obj, path, "type", false, &type) < 0 || get_string(r, obj, path, "source", false, &source) < 0) return -1;
  json_t *options = json_object_get(obj, "options");
  if (options && !json_is_null(options) && read_mount_options(r, options, PATH_AT(path, "options"), m) < 0) return -1;
  bool bind = (m->flags & MS_BIND) || (type && strcmp(type, "bind") == 0);
  if (bind) {
    if (type && strcmp(type, "bind") != 0 && strcmp(type, "none") != 0) {
      return bad(r, PATH_AT(path, "type"), "is \"%s\" but the options ask for a bind mount", type);
    }
    m->type = "bind";
    m->flags |= MS_BIND;
    if (!source || !*source) return bad(r, PATH_AT(path, "source"), "is required for a bind mount");
    // NOTE: a relative bind source is relative to the bundle (runtime-spec config.md, "source").
    if (source[0] == '/') m->source = strdup(source);
    else if (asprintf(&m->source, "%s/%s", bundle, source) < 0) m->source = NULL;
  } else {
    if (!type || !*type) return bad(r, PATH_AT(path, "type"), "is required (or a bind/rbind option)");
    m->type = (char *) type;
    m->source = strdup(source && *source ? source : type);
  }
  if (!m->source) return oci_fail(r->e, ENOMEM, "%s: out of memory", r->file);
  return 0;
}

// ---- linux ----

static const struct { const char *name; int type; } NAMESPACES[] = {
  { "pid", CLONE_NEWPID }, { "network", CLONE_NEWNET }, { "mount", CLONE_NEWNS }, { "ipc", CLONE_NEWIPC },
  { "uts", CLONE_NEWUTS }, { "user", CLONE_NEWUSER }, { "cgroup", CLONE_NEWCGROUP },
};

// NOTE: the runtime-spec says the runtime MUST fail when a path is not a namespace of its type.
static int check_namespace_path (struct reader *r, const char *path, const char *ns_path, const char *name, int type) {
  int fd = open(ns_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return oci_fail(r->e, errno, "%s: %s: cannot open %s: %s", r->file, path, ns_path, strerror(errno));
  int actual = ioctl(fd, NS_GET_NSTYPE);
  close(fd);
  if (actual != type) return bad(r, path, "%s is not a %s namespace", ns_path, name);
  return 0;
}

static int read_namespaces (struct reader *r, const json_t *list, const char *path, struct oci_spec *s) {
  if (want_array(r, list, path) < 0) return -1;
  s->namespaces = calloc(json_array_size(list) + 1, sizeof *s->namespaces);
  if (!s->namespaces) return oci_fail(r->e, ENOMEM, "%s: out of memory", r->file);
  size_t i;
  json_t *item;
  json_array_foreach(list, i, item) {
    const char *p_item = PATH_INDEX(path, i), *type, *ns_path;
    if (want_object(r, item, p_item) < 0 || get_string(r, item, p_item, "type", true, &type) < 0) return -1;
    if (get_absolute(r, item, p_item, "path", false, &ns_path) < 0) return -1;
    size_t k = 0, n = sizeof NAMESPACES / sizeof *NAMESPACES;
    while (k < n && strcmp(NAMESPACES[k].name, type) != 0) k++;
    if (k == n) {
      return oci_fail(r->e, ENOTSUP, "%s: %s: namespace type \"%s\" is not supported by fusejail", r->file, PATH_AT(p_item, "type"), type);
    }
    if (spec_namespace(s, NAMESPACES[k].type)) return bad(r, PATH_AT(p_item, "type"), "repeats namespace \"%s\"", type);
    if (ns_path && *ns_path && check_namespace_path(r, PATH_AT(p_item, "path"), ns_path, type, NAMESPACES[k].type) < 0) return -1;
    s->namespaces[s->nnamespaces++] = (struct oci_namespace) { NAMESPACES[k].type, ns_path && *ns_path ? (char *) ns_path : NULL };
  }
  return 0;
}

static int read_idmaps (struct reader *r, const json_t *list, const char *path, struct oci_idmap **out, size_t *count) {
  if (want_array(r, list, path) < 0) return -1;
  *out = calloc(json_array_size(list) + 1, sizeof **out);
  if (!*out) return oci_fail(r->e, ENOMEM, "%s: out of memory", r->file);
  size_t i;
  json_t *item;
  json_array_foreach(list, i, item) {
    const char *p_item = PATH_INDEX(path, i);
    int64_t c = -1, h = -1, n = -1;
    if (want_object(r, item, p_item) < 0 ||
        get_int(r, item, p_item, "containerID", 0, UINT32_MAX - 1, &c, NULL) < 0 ||
        get_int(r, item, p_item, "hostID", 0, UINT32_MAX - 1, &h, NULL) < 0 ||
        get_int(r, item, p_item, "size", 1, UINT32_MAX, &n, NULL) < 0) {
      return -1;
    }
    if (c < 0 || h < 0 || n < 0) return bad(r, p_item, "needs containerID, hostID and size");
    (*out)[(*count)++] = (struct oci_idmap) { (uint32_t) c, (uint32_t) h, (uint32_t) n };
  }
  return 0;
}

static int read_devices (struct reader *r, const json_t *list, const char *path, struct oci_spec *s) {
  if (want_array(r, list, path) < 0) return -1;
  s->devices = calloc(json_array_size(list) + 1, sizeof *s->devices);
  if (!s->devices) return oci_fail(r->e, ENOMEM, "%s: out of memory", r->file);
  size_t i;
  json_t *item;
  json_array_foreach(list, i, item) {
    const char *p_item = PATH_INDEX(path, i), *dev_path, *type;
    struct oci_device *d = &s->devices[s->ndevices];
    int64_t n;
    bool has_major = false, has_minor = false, present;
    if (want_object(r, item, p_item) < 0 || get_absolute(r, item, p_item, "path", true, &dev_path) < 0 ||
        get_string(r, item, p_item, "type", true, &type) < 0) {
      return -1;
    }
    if (strlen(type) != 1 || !strchr("cbup", type[0])) return bad(r, PATH_AT(p_item, "type"), "must be c, b, u or p (got \"%s\")", type);
    d->path = (char *) dev_path;
    d->type = type[0] == 'u' ? 'c' : type[0];
    if (get_int(r, item, p_item, "major", 0, INT64_MAX, &d->major, &has_major) < 0 ||
        get_int(r, item, p_item, "minor", 0, INT64_MAX, &d->minor, &has_minor) < 0) {
      return -1;
    }
    if (d->type != 'p' && (!has_major || !has_minor)) return bad(r, p_item, "needs major and minor");
    d->mode = 0666;
    if (get_int(r, item, p_item, "fileMode", 0, 07777, &n, &present) < 0) return -1;
    if (present) d->mode = (mode_t) n;
    if (get_int(r, item, p_item, "uid", 0, UINT32_MAX - 1, &n, &present) < 0) return -1;
    if (present) d->uid = (uid_t) n;
    if (get_int(r, item, p_item, "gid", 0, UINT32_MAX - 1, &n, &present) < 0) return -1;
    if (present) d->gid = (gid_t) n;
    s->ndevices++;
  }
  return 0;
}

// NOTE: the device cgroup rules are kept in order for cgroup.c (a v1 devices cgroup; refused on
// v2 beyond the defaults, see docs/oci.md); the container's /dev holds only the default devices
// and linux.devices whatever they say.
static int read_device_rules (struct reader *r, const json_t *list, const char *path, struct oci_resources *res) {
  if (want_array(r, list, path) < 0) return -1;
  res->device_rules = calloc(json_array_size(list) + 1, sizeof *res->device_rules);
  if (!res->device_rules) return oci_fail(r->e, ENOMEM, "%s: out of memory", r->file);
  size_t i;
  json_t *item;
  json_array_foreach(list, i, item) {
    const char *p_item = PATH_INDEX(path, i), *type, *access;
    struct oci_device_rule *rule = &res->device_rules[res->ndevice_rules++];
    bool present;
    if (want_object(r, item, p_item) < 0 || get_bool(r, item, p_item, "allow", &rule->allow) < 0) return -1;
    if (!json_is_boolean(json_object_get(item, "allow"))) return bad(r, PATH_AT(p_item, "allow"), "is required");
    if (get_string(r, item, p_item, "type", false, &type) < 0 || get_string(r, item, p_item, "access", false, &access) < 0) return -1;
    if (type && (strlen(type) != 1 || !strchr("acb", type[0]))) return bad(r, PATH_AT(p_item, "type"), "must be a, c or b");
    if (access && strspn(access, "rwm") != strlen(access)) return bad(r, PATH_AT(p_item, "access"), "must be made of r, w and m");
    if (access && strlen(access) > 3) return bad(r, PATH_AT(p_item, "access"), "names r, w or m more than once");
    // NOTE: runtime-spec: an absent type or access means all ("a", "rwm"); absent numbers, any.
    rule->type = type ? type[0] : 'a';
    snprintf(rule->access, sizeof rule->access, "%s", access && *access ? access : "rwm");
    if (get_int(r, item, p_item, "major", -1, INT64_MAX, &rule->major, &present) < 0) return -1;
    if (!present) rule->major = -1;
    if (get_int(r, item, p_item, "minor", -1, INT64_MAX, &rule->minor, &present) < 0) return -1;
    if (!present) rule->minor = -1;
  }
  return 0;
}

static int read_resources (struct reader *r, const json_t *obj, const char *path, struct oci_resources *res) {
  if (want_object(r, obj, path) < 0) return -1;
  static const char *const unsupported[] = { "blockIO", "hugepageLimits", "network", "rdma", "unified", NULL };
  if (refuse_keys(r, obj, path, unsupported) < 0) return -1;
  json_t *devices = json_object_get(obj, "devices");
  if (devices && !json_is_null(devices) && read_device_rules(r, devices, PATH_AT(path, "devices"), res) < 0) return -1;
  json_t *memory = json_object_get(obj, "memory");
  if (memory && !json_is_null(memory)) {
    const char *p = PATH_AT(path, "memory");
    static const char *const unsupported_memory[] = { "kernel", "kernelTCP", "swappiness", "disableOOMKiller", NULL };
    if (want_object(r, memory, p) < 0 || refuse_keys(r, memory, p, unsupported_memory) < 0) return -1;
    if (get_int(r, memory, p, "limit", -1, INT64_MAX, &res->memory_limit, NULL) < 0) return -1;
    if (get_int(r, memory, p, "reservation", -1, INT64_MAX, &res->memory_reservation, NULL) < 0) return -1;
    if (get_int(r, memory, p, "swap", -1, INT64_MAX, &res->memory_swap, NULL) < 0) return -1;
  }
  json_t *cpu = json_object_get(obj, "cpu");
  if (cpu && !json_is_null(cpu)) {
    const char *p = PATH_AT(path, "cpu");
    static const char *const unsupported_cpu[] = { "realtimeRuntime", "realtimePeriod", "cpus", "mems", "burst", "idle", NULL };
    int64_t n;
    bool present;
    if (want_object(r, cpu, p) < 0 || refuse_keys(r, cpu, p, unsupported_cpu) < 0) return -1;
    if (get_int(r, cpu, p, "quota", -1, INT64_MAX, &res->cpu_quota, NULL) < 0) return -1;
    if (get_int(r, cpu, p, "period", 0, INT64_MAX, &n, &present) < 0) return -1;
    if (present) res->cpu_period = (uint64_t) n;
    if (get_int(r, cpu, p, "shares", 0, INT64_MAX, &n, &present) < 0) return -1;
    if (present) res->cpu_shares = (uint64_t) n;
  }
  json_t *pids = json_object_get(obj, "pids");
  if (pids && !json_is_null(pids)) {
    const char *p = PATH_AT(path, "pids");
    if (want_object(r, pids, p) < 0 || get_int(r, pids, p, "limit", -1, INT64_MAX, &res->pids_limit, NULL) < 0) return -1;
  }
  return 0;
}

/** A sysctl the container may set, and the namespace that makes it its own (runc's rules). */
static int sysctl_namespace (const char *key) {
  static const char *const IPC[] = { "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
    "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced", NULL };
  for (const char *const *k = IPC; *k; k++) {
    if (strcmp(*k, key) == 0) return CLONE_NEWIPC;
  }
  if (strncmp(key, "fs.mqueue.", 10) == 0) return CLONE_NEWIPC;
  if (strncmp(key, "net.", 4) == 0) return CLONE_NEWNET;
  if (strcmp(key, "kernel.domainname") == 0) return CLONE_NEWUTS;
  return 0;
}

static int read_sysctl (struct reader *r, const json_t *obj, const char *path, struct oci_spec *s) {
  if (want_object(r, obj, path) < 0) return -1;
  size_t n = json_object_size(obj), i = 0;
  s->sysctl_keys = calloc(n + 1, sizeof *s->sysctl_keys);
  s->sysctl_values = calloc(n + 1, sizeof *s->sysctl_values);
  if (!s->sysctl_keys || !s->sysctl_values) return oci_fail(r->e, ENOMEM, "%s: out of memory", r->file);
  const char *key;
  json_t *value;
  json_object_foreach((json_t *) obj, key, value) {
    char p[256];
    snprintf(p, sizeof p, "%s[\"%s\"]", path, key);
    if (!json_is_string(value)) return bad(r, p, "must be a string");
    // NOTE: the key also names a file under /proc/sys; ".." or "/" would name another one.
    if (strstr(key, "..") || strchr(key, '/')) return bad(r, p, "is not a sysctl name");
    int ns = sysctl_namespace(key);
    if (!ns) return oci_fail(r->e, ENOTSUP, "%s: %s: sysctl %s is not namespaced; fusejail sets only namespaced ones", r->file, p, key);
    if (!spec_namespace(s, ns)) return bad(r, p, "needs the container's own %s namespace", ns == CLONE_NEWNET ? "network" : ns == CLONE_NEWIPC ? "ipc" : "uts");
    s->sysctl_keys[i] = (char *) key;
    s->sysctl_values[i++] = (char *) json_string_value(value);
  }
  return 0;
}

static int get_paths (struct reader *r, const json_t *obj, const char *path, const char *key, char ***out) {
  if (get_strings(r, obj, path, key, false, out) < 0) return -1;
  for (size_t i = 0; *out && (*out)[i]; i++) {
    if (!absolute((*out)[i])) return bad(r, PATH_INDEX(PATH_AT(path, key), i), "must be an absolute path");
  }
  return 0;
}

static int read_linux (struct reader *r, const json_t *obj, const char *path, struct oci_spec *s) {
  if (want_object(r, obj, path) < 0) return -1;
  static const char *const unsupported[] = {
    "intelRdt", "personality", "mountLabel", "timeOffsets", "memoryPolicy", "netDevices", NULL,
  };
  if (refuse_keys(r, obj, path, unsupported) < 0) return -1;
  json_t *v;
  if ((v = json_object_get(obj, "namespaces")) && read_namespaces(r, v, PATH_AT(path, "namespaces"), s) < 0) return -1;
  if ((v = json_object_get(obj, "uidMappings")) && read_idmaps(r, v, PATH_AT(path, "uidMappings"), &s->uid_mappings, &s->nuid_mappings) < 0) return -1;
  if ((v = json_object_get(obj, "gidMappings")) && read_idmaps(r, v, PATH_AT(path, "gidMappings"), &s->gid_mappings, &s->ngid_mappings) < 0) return -1;
  if ((v = json_object_get(obj, "devices")) && read_devices(r, v, PATH_AT(path, "devices"), s) < 0) return -1;
  const char *cgroups_path, *propagation;
  if (get_string(r, obj, path, "cgroupsPath", false, &cgroups_path) < 0) return -1;
  s->cgroups_path = cgroups_path && *cgroups_path ? (char *) cgroups_path : NULL;
  if ((v = json_object_get(obj, "resources")) && !json_is_null(v) && read_resources(r, v, PATH_AT(path, "resources"), &s->resources) < 0) return -1;
  if (get_string(r, obj, path, "rootfsPropagation", false, &propagation) < 0) return -1;
  if (propagation && *propagation) {
    static const char *const KNOWN[] = { "private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable", NULL };
    const char *const *k = KNOWN;
    while (*k && strcmp(*k, propagation) != 0) k++;
    if (!*k) return bad(r, PATH_AT(path, "rootfsPropagation"), "is not a propagation (\"%s\")", propagation);
    s->rootfs_propagation = (char *) propagation;
  }
  if ((v = json_object_get(obj, "seccomp")) && !json_is_null(v)) {
    char file[512];
    snprintf(file, sizeof file, "%s: %s", r->file, PATH_AT(path, "seccomp"));
    if (want_object(r, v, PATH_AT(path, "seccomp")) < 0 || oci_seccomp_check(v, file, r->e) < 0) return -1;
    s->seccomp = v;
  }
  if ((v = json_object_get(obj, "sysctl")) && !json_is_null(v) && read_sysctl(r, v, PATH_AT(path, "sysctl"), s) < 0) return -1;
  if (get_paths(r, obj, path, "maskedPaths", &s->masked_paths) < 0) return -1;
  if (get_paths(r, obj, path, "readonlyPaths", &s->readonly_paths) < 0) return -1;
  return 0;
}

// ---- hooks, annotations ----

static const char *const HOOK_KEYS[] = { "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop" };

static int read_hooks (struct reader *r, const json_t *obj, const char *path, struct oci_hooks *h) {
  struct oci_hook **lists[] = { &h->prestart, &h->create_runtime, &h->create_container, &h->start_container, &h->poststart, &h->poststop };
  size_t *counts[] = { &h->nprestart, &h->ncreate_runtime, &h->ncreate_container, &h->nstart_container, &h->npoststart, &h->npoststop };
  if (want_object(r, obj, path) < 0) return -1;
  for (size_t k = 0; k < 6; k++) {
    json_t *list = json_object_get(obj, HOOK_KEYS[k]);
    const char *p_list = PATH_AT(path, HOOK_KEYS[k]);
    if (!list || json_is_null(list)) continue;
    if (want_array(r, list, p_list) < 0) return -1;
    if (!(*lists[k] = calloc(json_array_size(list) + 1, sizeof **lists[k]))) return oci_fail(r->e, ENOMEM, "%s: out of memory", r->file);
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item) {
      const char *p_item = PATH_INDEX(p_list, i), *hook_path;
      struct oci_hook *hook = &(*lists[k])[i];
      int64_t timeout = 0;
      bool present;
      if (want_object(r, item, p_item) < 0 || get_absolute(r, item, p_item, "path", true, &hook_path) < 0) return -1;
      hook->path = (char *) hook_path;
      if (get_strings(r, item, p_item, "args", false, &hook->args) < 0 || get_strings(r, item, p_item, "env", false, &hook->env) < 0) return -1;
      if (get_int(r, item, p_item, "timeout", 1, INT32_MAX, &timeout, &present) < 0) return -1;
      hook->timeout = (int) timeout;
      (*counts[k])++;
    }
  }
  return 0;
}

static void free_hooks (struct oci_hooks *h) {
  struct oci_hook *lists[] = { h->prestart, h->create_runtime, h->create_container, h->start_container, h->poststart, h->poststop };
  size_t counts[] = { h->nprestart, h->ncreate_runtime, h->ncreate_container, h->nstart_container, h->npoststart, h->npoststop };
  for (size_t k = 0; k < 6; k++) {
    for (size_t i = 0; i < counts[k]; i++) {
      free(lists[k][i].args);
      free(lists[k][i].env);
    }
    // NOTE: a hook that failed validation half-way has its lists but is not counted yet.
    if (lists[k]) {
      free(lists[k][counts[k]].args);
      free(lists[k][counts[k]].env);
    }
    free(lists[k]);
  }
  memset(h, 0, sizeof *h);
}

#define JAIL_ANNOTATION "run.fusejail.jail"

static int read_annotations (struct reader *r, json_t *obj, struct oci_spec *s) {
  if (!obj || json_is_null(obj)) {
    s->annotations = json_object();
    return s->annotations ? 0 : oci_fail(r->e, ENOMEM, "%s: out of memory", r->file);
  }
  if (want_object(r, obj, "annotations") < 0) return -1;
  const char *key;
  json_t *value;
  json_object_foreach(obj, key, value) {
    if (!json_is_string(value)) return bad(r, "annotations", "value of \"%s\" must be a string", key);
  }
  s->annotations = json_incref(obj);
  const char *jail = json_string_value(json_object_get(obj, JAIL_ANNOTATION));
  if (jail && strcmp(jail, "true") != 0 && strcmp(jail, "false") != 0) {
    return bad(r, "annotations[\"" JAIL_ANNOTATION "\"]", "must be \"true\" or \"false\" (got \"%s\")", jail);
  }
  s->jail = jail && strcmp(jail, "true") == 0;
  return 0;
}

// ---- the whole ----

static int read_root (struct reader *r, const json_t *obj, struct oci_spec *s) {
  const char *path;
  if (!obj) return bad(r, "root", "is required");
  if (want_object(r, obj, "root") < 0 || get_string(r, obj, "root", "path", true, &path) < 0) return -1;
  if (get_bool(r, obj, "root", "readonly", &s->root_readonly) < 0) return -1;
  char *joined = NULL;
  if (path[0] != '/' && asprintf(&joined, "%s/%s", s->bundle, path) < 0) return oci_fail(r->e, ENOMEM, "%s: out of memory", r->file);
  s->root_path = realpath(joined ? joined : path, NULL);
  int err = errno;
  free(joined);
  if (!s->root_path) return oci_fail(r->e, err, "%s: root.path %s: %s", r->file, path, strerror(err));
  struct stat st;
  if (stat(s->root_path, &st) < 0 || !S_ISDIR(st.st_mode)) return bad(r, "root.path", "%s is not a directory", s->root_path);
  return 0;
}

/** Consistency between parts, once every part was read. */
static int check_whole (struct reader *r, struct oci_spec *s) {
  const struct oci_namespace *mnt = spec_namespace(s, CLONE_NEWNS), *user = spec_namespace(s, CLONE_NEWUSER);
  // NOTE: the served root is entered with pivot_root in a mount namespace of the container's own;
  // joining another one would put the container's mounts into a namespace it shares.
  if (!mnt) return bad(r, "linux.namespaces", "must include a mount namespace");
  if (mnt->path) return oci_fail(r->e, ENOTSUP, "%s: linux.namespaces: joining a mount namespace by path is not supported by fusejail", r->file);
  bool new_user = user && !user->path;
  if (new_user && (!s->nuid_mappings || !s->ngid_mappings)) return bad(r, "linux", "asks for a new user namespace without uidMappings and gidMappings");
  if (!new_user && (s->nuid_mappings || s->ngid_mappings)) return bad(r, "linux.uidMappings", "needs a new user namespace");
  if (s->hostname && *s->hostname && !spec_namespace(s, CLONE_NEWUTS)) return bad(r, "hostname", "needs the container's own uts namespace");
  const char *domain = json_string_value(json_object_get(s->document, "domainname"));
  if (json_object_get(s->document, "domainname") && !domain) return bad(r, "domainname", "must be a string");
  if (domain && *domain && !spec_namespace(s, CLONE_NEWUTS)) return bad(r, "domainname", "needs the container's own uts namespace");
  return 0;
}

static int read_spec (struct reader *r, struct oci_spec *s) {
  json_t *doc = s->document, *v;
  if (want_object(r, doc, "(top level)") < 0) return -1;
  static const char *const unsupported[] = { "solaris", "windows", "vm", "zos", NULL };
  if (refuse_keys(r, doc, "", unsupported) < 0) return -1;
  const char *version;
  if (get_string(r, doc, "", "ociVersion", true, &version) < 0) return -1;
  if (strncmp(version, "1.", 2) != 0) return oci_fail(r->e, ENOTSUP, "%s: ociVersion %s is not supported by fusejail (1.x is)", r->file, version);
  s->oci_version = (char *) version;
  if (read_root(r, json_object_get(doc, "root"), s) < 0) return -1;
  if (!(v = json_object_get(doc, "process"))) return bad(r, "process", "is required");
  if (read_process(r, v, "process", &s->process) < 0) return -1;
  const char *hostname;
  if (get_string(r, doc, "", "hostname", false, &hostname) < 0) return -1;
  s->hostname = hostname && *hostname ? (char *) hostname : NULL;
  if ((v = json_object_get(doc, "mounts")) && !json_is_null(v)) {
    if (want_array(r, v, "mounts") < 0) return -1;
    if (!(s->mounts = calloc(json_array_size(v) + 1, sizeof *s->mounts))) return oci_fail(r->e, ENOMEM, "%s: out of memory", r->file);
    size_t i;
    json_t *m;
    json_array_foreach(v, i, m) {
      // NOTE: counted before reading, so spec_free releases a half-read entry too.
      s->nmounts++;
      if (read_mount(r, m, PATH_INDEX("mounts", i), s->bundle, &s->mounts[i]) < 0) return -1;
    }
  }
  if ((v = json_object_get(doc, "linux")) && !json_is_null(v) && read_linux(r, v, "linux", s) < 0) return -1;
  if ((v = json_object_get(doc, "hooks")) && !json_is_null(v) && read_hooks(r, v, "hooks", &s->hooks) < 0) return -1;
  if (read_annotations(r, json_object_get(doc, "annotations"), s) < 0) return -1;
  return check_whole(r, s);
}

static json_t *load_json (const char *path, struct reader *r) {
  json_error_t error;
  json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &error);
  if (doc) return doc;
  if (access(path, R_OK) < 0) oci_fail(r->e, errno, "%s: cannot read %s: %s", r->file, path, strerror(errno));
  else oci_fail(r->e, EINVAL, "%s: line %d: %s", r->file, error.line, error.text);
  return NULL;
}

int spec_load (const char *bundle, struct oci_spec *spec, struct oci_error *e) {
  struct reader r = { "config.json", e };
  memset(spec, 0, sizeof *spec);
  spec->resources = (struct oci_resources) { .memory_limit = -1, .memory_reservation = -1, .memory_swap = -1, .cpu_quota = -1, .pids_limit = -1 };
  if (!(spec->bundle = realpath(bundle, NULL))) return oci_fail(e, errno, "bundle %s: %s", bundle, strerror(errno));
  char *path;
  if (asprintf(&path, "%s/config.json", spec->bundle) < 0) return oci_fail(e, ENOMEM, "out of memory");
  spec->document = load_json(path, &r);
  free(path);
  if (!spec->document || read_spec(&r, spec) < 0) {
    spec_free(spec);
    return -1;
  }
  return 0;
}

int spec_load_process (const char *path, struct oci_process *process, struct oci_error *e) {
  struct reader r = { path, e };
  memset(process, 0, sizeof *process);
  json_t *doc = load_json(path, &r);
  int rc = doc ? read_process(&r, doc, "", process) : -1;
  // NOTE: nothing in *process borrows from the document.
  json_decref(doc);
  if (rc < 0) process_free(process);
  return rc;
}

const struct oci_namespace *spec_namespace (const struct oci_spec *spec, int type) {
  for (size_t i = 0; i < spec->nnamespaces; i++) {
    if (spec->namespaces[i].type == type) return &spec->namespaces[i];
  }
  return NULL;
}

void spec_free (struct oci_spec *spec) {
  process_free(&spec->process);
  for (size_t i = 0; i < spec->nmounts; i++) {
    free(spec->mounts[i].source);
    free(spec->mounts[i].data);
  }
  free(spec->mounts);
  free(spec->namespaces);
  free(spec->uid_mappings);
  free(spec->gid_mappings);
  free(spec->masked_paths);
  free(spec->readonly_paths);
  free(spec->sysctl_keys);
  free(spec->sysctl_values);
  free(spec->devices);
  free(spec->resources.device_rules);
  free_hooks(&spec->hooks);
  json_decref(spec->annotations);
  json_decref(spec->document);
  free(spec->bundle);
  free(spec->root_path);
  memset(spec, 0, sizeof *spec);
}
