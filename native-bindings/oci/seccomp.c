// seccomp.c: a runtime-spec seccomp object, checked at create and compiled with libseccomp at exec.
#include "oci-seccomp.h"

#include <errno.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct { const char *name; uint32_t arch; } ARCHES[] = {
  { "SCMP_ARCH_X86", SCMP_ARCH_X86 }, { "SCMP_ARCH_X86_64", SCMP_ARCH_X86_64 }, { "SCMP_ARCH_X32", SCMP_ARCH_X32 },
  { "SCMP_ARCH_ARM", SCMP_ARCH_ARM }, { "SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64 },
  { "SCMP_ARCH_MIPS", SCMP_ARCH_MIPS }, { "SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64 },
  { "SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32 }, { "SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL },
  { "SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64 }, { "SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32 },
  { "SCMP_ARCH_PPC", SCMP_ARCH_PPC }, { "SCMP_ARCH_PPC64", SCMP_ARCH_PPC64 }, { "SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE },
  { "SCMP_ARCH_S390", SCMP_ARCH_S390 }, { "SCMP_ARCH_S390X", SCMP_ARCH_S390X },
  { "SCMP_ARCH_PARISC", SCMP_ARCH_PARISC }, { "SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64 },
  { "SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64 },
};

static const struct { const char *name; enum scmp_compare op; } OPS[] = {
  { "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT }, { "SCMP_CMP_LE", SCMP_CMP_LE },
  { "SCMP_CMP_EQ", SCMP_CMP_EQ }, { "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
  { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

// NOTE: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV only matters to a notify listener, which is refused.
static const struct { const char *name; enum scmp_filter_attr attr; } FLAGS[] = {
  { "SECCOMP_FILTER_FLAG_TSYNC", SCMP_FLTATR_CTL_TSYNC }, { "SECCOMP_FILTER_FLAG_LOG", SCMP_FLTATR_CTL_LOG },
  { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SCMP_FLTATR_CTL_SSB },
};

/** Where the object sits ("config.json: linux.seccomp") and where failures go. */
struct where {
  const char *prefix;
  struct oci_error *e;
};

__attribute__((format(printf, 4, 5)))
static int bad (struct where *w, int err, const char *path, const char *fmt, ...) {
  char what[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return oci_fail(w->e, err, "%s%s %s", w->prefix, path, what);
}

/** An action name with its errno (errnoRet, else EPERM) to a libseccomp action. */
static int action (struct where *w, const json_t *name, const json_t *errno_ret, const char *path, uint32_t *out) {
  const char *a = json_string_value(name);
  if (!a) return bad(w, EINVAL, path, "must be an action name (SCMP_ACT_*)");
  uint16_t ret = EPERM;
  if (errno_ret && !json_is_null(errno_ret)) {
    if (!json_is_integer(errno_ret) || json_integer_value(errno_ret) < 0 || json_integer_value(errno_ret) > 4095) {
      return bad(w, EINVAL, path, "has an errnoRet that is not an errno");
    }
    ret = (uint16_t) json_integer_value(errno_ret);
  }
  if (strcmp(a, "SCMP_ACT_ALLOW") == 0) *out = SCMP_ACT_ALLOW;
  else if (strcmp(a, "SCMP_ACT_KILL") == 0 || strcmp(a, "SCMP_ACT_KILL_THREAD") == 0) *out = SCMP_ACT_KILL_THREAD;
  else if (strcmp(a, "SCMP_ACT_KILL_PROCESS") == 0) *out = SCMP_ACT_KILL_PROCESS;
  else if (strcmp(a, "SCMP_ACT_TRAP") == 0) *out = SCMP_ACT_TRAP;
  else if (strcmp(a, "SCMP_ACT_LOG") == 0) *out = SCMP_ACT_LOG;
  else if (strcmp(a, "SCMP_ACT_ERRNO") == 0) *out = SCMP_ACT_ERRNO(ret);
  else if (strcmp(a, "SCMP_ACT_TRACE") == 0) *out = SCMP_ACT_TRACE(ret);
  else if (strcmp(a, "SCMP_ACT_NOTIFY") == 0) return bad(w, ENOTSUP, path, "SCMP_ACT_NOTIFY is not supported by fusejail");
  else return bad(w, EINVAL, path, "is not an action name (\"%s\")", a);
  return 0;
}

static int arg_condition (struct where *w, const json_t *arg, const char *path, struct scmp_arg_cmp *out) {
  json_t *index = json_object_get(arg, "index"), *value = json_object_get(arg, "value"), *two = json_object_get(arg, "valueTwo");
  const char *op = json_string_value(json_object_get(arg, "op"));
  if (!json_is_object(arg)) return bad(w, EINVAL, path, "must be an object");
  if (!json_is_integer(index) || json_integer_value(index) < 0 || json_integer_value(index) > 5) return bad(w, EINVAL, path, "index must be 0 to 5");
  // NOTE: values are unsigned 64 bits; jansson holds them as signed, and the bits are what count.
  if (!json_is_integer(value)) return bad(w, EINVAL, path, "value must be an integer");
  if (two && !json_is_null(two) && !json_is_integer(two)) return bad(w, EINVAL, path, "valueTwo must be an integer");
  size_t k = 0, n = sizeof OPS / sizeof *OPS;
  while (op && k < n && strcmp(OPS[k].name, op) != 0) k++;
  if (!op || k == n) return bad(w, EINVAL, path, "op must be an operator (SCMP_CMP_*)");
  *out = (struct scmp_arg_cmp) {
    .arg = (unsigned) json_integer_value(index), .op = OPS[k].op,
    .datum_a = (scmp_datum_t) json_integer_value(value), .datum_b = two ? (scmp_datum_t) json_integer_value(two) : 0,
  };
  return 0;
}

// NOTE: libseccomp cannot compare one argument twice in a rule; runc and crun read several
// conditions on the same index as alternatives (one rule each), and all others as one rule.
static int add_rule (struct where *w, scmp_filter_ctx ctx, uint32_t act, int nr, const struct scmp_arg_cmp *args, unsigned n, const char *name, const char *path) {
  bool repeated = false;
  for (unsigned i = 0; i < n; i++) {
    for (unsigned j = 0; j < i; j++) repeated |= args[i].arg == args[j].arg;
  }
  int rc = 0;
  if (!repeated) rc = seccomp_rule_add_array(ctx, act, nr, n, args);
  for (unsigned i = 0; repeated && i < n && rc == 0; i++) rc = seccomp_rule_add_array(ctx, act, nr, 1, &args[i]);
  return rc < 0 ? bad(w, -rc, path, "cannot add the rule for %s: %s", name, strerror(-rc)) : 0;
}

static int syscall_rule (struct where *w, scmp_filter_ctx ctx, uint32_t default_act, const json_t *rule, const char *path) {
  char p[256];
  if (!json_is_object(rule)) return bad(w, EINVAL, path, "must be an object");
  json_t *names = json_object_get(rule, "names"), *args = json_object_get(rule, "args");
  uint32_t act;
  snprintf(p, sizeof p, "%s.action", path);
  if (action(w, json_object_get(rule, "action"), json_object_get(rule, "errnoRet"), p, &act) < 0) return -1;
  if (!json_is_array(names) || json_array_size(names) == 0) return bad(w, EINVAL, path, "names must be a non-empty array");
  if (args && !json_is_null(args) && !json_is_array(args)) return bad(w, EINVAL, path, "args must be an array");
  struct scmp_arg_cmp conds[6 * 8];
  unsigned nconds = 0;
  size_t i;
  json_t *item;
  json_array_foreach(args, i, item) {
    snprintf(p, sizeof p, "%s.args[%zu]", path, i);
    if (nconds == sizeof conds / sizeof *conds) return bad(w, EINVAL, p, "is one condition too many");
    if (arg_condition(w, item, p, &conds[nconds++]) < 0) return -1;
  }
  json_array_foreach(names, i, item) {
    const char *name = json_string_value(item);
    snprintf(p, sizeof p, "%s.names[%zu]", path, i);
    if (!name) return bad(w, EINVAL, p, "must be a string");
    // NOTE: profiles name syscalls newer (or older) than this libseccomp knows; runc skips them.
    int nr = seccomp_syscall_resolve_name(name);
    if (!ctx || nr == __NR_SCMP_ERROR || act == default_act) continue;
    if (add_rule(w, ctx, act, nr, conds, nconds, name, p) < 0) return -1;
  }
  return 0;
}

/** Checks `seccomp` and, with a context, adds everything to it: one walk for both. */
static int walk (struct where *w, const json_t *seccomp, scmp_filter_ctx ctx, uint32_t *default_act) {
  char p[256];
  if (!json_is_object(seccomp)) return bad(w, EINVAL, "", "must be an object");
  const char *listener = json_string_value(json_object_get(seccomp, "listenerPath"));
  if (listener && *listener) return bad(w, ENOTSUP, ".listenerPath", "is not supported by fusejail");
  const char *metadata = json_string_value(json_object_get(seccomp, "listenerMetadata"));
  if (metadata && *metadata) return bad(w, ENOTSUP, ".listenerMetadata", "is not supported by fusejail");
  if (action(w, json_object_get(seccomp, "defaultAction"), json_object_get(seccomp, "defaultErrnoRet"), ".defaultAction", default_act) < 0) return -1;
  json_t *list = json_object_get(seccomp, "architectures"), *item;
  size_t i;
  if (list && !json_is_null(list) && !json_is_array(list)) return bad(w, EINVAL, ".architectures", "must be an array");
  json_array_foreach(list, i, item) {
    const char *name = json_string_value(item);
    size_t k = 0, n = sizeof ARCHES / sizeof *ARCHES;
    while (name && k < n && strcmp(ARCHES[k].name, name) != 0) k++;
    snprintf(p, sizeof p, ".architectures[%zu]", i);
    if (!name || k == n) return bad(w, EINVAL, p, "is not an architecture (SCMP_ARCH_*)");
    int rc = ctx ? seccomp_arch_add(ctx, ARCHES[k].arch) : 0;
    if (rc < 0 && rc != -EEXIST) return bad(w, -rc, p, "%s cannot be added: %s", name, strerror(-rc));
  }
  list = json_object_get(seccomp, "flags");
  if (list && !json_is_null(list) && !json_is_array(list)) return bad(w, EINVAL, ".flags", "must be an array");
  json_array_foreach(list, i, item) {
    const char *name = json_string_value(item);
    size_t k = 0, n = sizeof FLAGS / sizeof *FLAGS;
    while (name && k < n && strcmp(FLAGS[k].name, name) != 0) k++;
    snprintf(p, sizeof p, ".flags[%zu]", i);
    if (!name || k == n) return bad(w, ENOTSUP, p, "%s is not supported by fusejail", name ? name : "(not a string)");
    int rc = ctx ? seccomp_attr_set(ctx, FLAGS[k].attr, 1) : 0;
    if (rc < 0) return bad(w, -rc, p, "%s cannot be set: %s", name, strerror(-rc));
  }
  list = json_object_get(seccomp, "syscalls");
  if (list && !json_is_null(list) && !json_is_array(list)) return bad(w, EINVAL, ".syscalls", "must be an array");
  json_array_foreach(list, i, item) {
    snprintf(p, sizeof p, ".syscalls[%zu]", i);
    if (syscall_rule(w, ctx, *default_act, item, p) < 0) return -1;
  }
  return 0;
}

int oci_seccomp_check (const json_t *seccomp, const char *prefix, struct oci_error *e) {
  struct where w = { prefix, e };
  uint32_t default_act;
  return walk(&w, seccomp, NULL, &default_act);
}

// NOTE: the filter never sets no_new_privs itself (libseccomp does by default): the process's
// noNewPrivileges decides, and without it the caller still holds CAP_SYS_ADMIN here.
int oci_seccomp_load (const json_t *seccomp, struct oci_error *e) {
  struct where w = { "linux.seccomp", e };
  uint32_t default_act;
  if (walk(&w, seccomp, NULL, &default_act) < 0) return -1;
  scmp_filter_ctx ctx = seccomp_init(default_act);
  if (!ctx) return oci_fail(e, ENOMEM, "linux.seccomp: cannot start a filter");
  int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
  if (rc == 0 && walk(&w, seccomp, ctx, &default_act) < 0) rc = -1;
  else if (rc < 0) oci_fail(e, -rc, "linux.seccomp: cannot clear the no_new_privs attribute: %s", strerror(-rc));
  if (rc == 0 && (rc = seccomp_load(ctx)) < 0) oci_fail(e, -rc, "linux.seccomp: cannot load the filter: %s", strerror(-rc));
  seccomp_release(ctx);
  return rc < 0 ? -1 : 0;
}
