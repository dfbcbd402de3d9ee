// main.c: bin/fusejail: the OCI runtime's command line (runc's spelling) in C, every other use exec'd
// on the Node CLI (dist/cli/main.js) with the same arguments and the same pid.
//
// NOTE: routing, in order (docs: the report of issue 13; keep it in step with verbs.ts):
//   1. a global OCI flag before the verb (--root, --log, --log-format, --systemd-cgroup,
//      --cgroup-manager, --debug, --rootless; `--f v` or `--f=v`) → OCI;
//   2. verbs only the OCI runtime has (create start state delete features spec list pause resume
//      update checkpoint restore) → OCI;
//   3. exec/ps/kill/events, which the Node CLI has too → OCI when an OCI-only option is present
//      (exec --process, ps --format, kill --all, events --stats/--interval) or (exec/ps/kill) their
//      ID names a container in the default OCI root; else Node. `events NAME` of an OCI container
//      stays Node's: the OCI runtime has no events, and the supervisor's list its launches;
//   4. a verb of the Node CLI, no verb, --help, --version → Node; any other verb → exit 1.
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "oci.h"

struct oci_globals g = { .root = OCI_DEFAULT_ROOT };

static const char *const NODE_VERBS[] = { "run", "exec", "ls", "ps", "kill", "rm", "root", "hostname", "mounts", "mount",
                                          "expose", "events", "stats", "serve", "unshare", "resources", "daemon", NULL };

typedef int (*verb_fn) (int argc, char **argv);
static int not_implemented (int argc, char **argv);

static const struct {
  const char *name;
  verb_fn fn;
} OCI_VERBS[] = {
  { "create", cmd_create },   { "start", cmd_start },     { "state", cmd_state },      { "kill", cmd_kill },
  { "delete", cmd_delete },   { "exec", cmd_exec },       { "ps", cmd_ps },            { "features", cmd_features },
  { "spec", cmd_spec },       { "list", cmd_list },       { "pause", not_implemented }, { "resume", not_implemented },
  { "update", not_implemented }, { "checkpoint", not_implemented }, { "restore", not_implemented },
  { "events", not_implemented },
};

static bool in_list (const char *const *list, const char *word) {
  for (; *list; list++)
    if (strcmp (*list, word) == 0) return true;
  return false;
}

static verb_fn oci_verb (const char *name) {
  for (size_t i = 0; i < sizeof OCI_VERBS / sizeof OCI_VERBS[0]; i++)
    if (strcmp (OCI_VERBS[i].name, name) == 0) return OCI_VERBS[i].fn;
  return NULL;
}

static const char *current_verb;

static int not_implemented (int argc, char **argv) {
  // NOTE: also with --help: podman probes `checkpoint --help` and must see a failure.
  return fail ("%s is not implemented by fusejail", current_verb);
}

/** `--name` or `--name=...` matches name; *value gets what follows "=", if anything. */
static bool flag_is (const char *arg, const char *name, const char **value) {
  size_t n = strlen (name);
  if (strncmp (arg, name, n) != 0) return false;
  if (arg[n] == '\0') {
    *value = NULL;
    return true;
  }
  if (arg[n] == '=') {
    *value = arg + n + 1;
    return true;
  }
  return false;
}

/**
 * Reads the global OCI flags at argv[*i...]; returns 1 when one was read, 0 when argv[*i] is none,
 * -1 after a message.
 */
static int global_flag (int argc, char **argv, int *i) {
  static const char *const VALUED[] = { "--root", "--log", "--log-format", "--cgroup-manager", NULL };
  const char *arg = argv[*i], *value;
  for (const char *const *f = VALUED; *f; f++) {
    if (!flag_is (arg, *f, &value)) continue;
    if (!value) {
      if (*i + 1 >= argc) return fail ("%s needs a value", *f), -1;
      value = argv[++*i];
    }
    if (strcmp (*f, "--root") == 0) g.root = value;
    else if (strcmp (*f, "--log") == 0) g.log = value;
    else if (strcmp (*f, "--log-format") == 0) {
      if (strcmp (value, "json") != 0 && strcmp (value, "text") != 0) return fail ("--log-format must be text or json, not %s", value), -1;
      g.log_json = strcmp (value, "json") == 0;
    } else {
      if (strcmp (value, "disabled") != 0 && strcmp (value, "cgroupfs") != 0 && strcmp (value, "systemd") != 0)
        return fail ("--cgroup-manager must be cgroupfs, systemd or disabled, not %s", value), -1;
      g.cgroups_disabled = strcmp (value, "disabled") == 0;
      g.systemd_cgroup = strcmp (value, "systemd") == 0;
    }
    return 1;
  }
  if (flag_is (arg, "--systemd-cgroup", &value)) {
    g.systemd_cgroup = !value || strcmp (value, "false") != 0;
    return 1;
  }
  if (flag_is (arg, "--debug", &value)) {
    g.debug = true;
    return 1;
  }
  if (flag_is (arg, "--rootless", &value)) {
    // NOTE: go-runc passes --rootless=BOOL; `--rootless VALUE` takes a following true/false/auto.
    if (!value && *i + 1 < argc && (strcmp (argv[*i + 1], "true") == 0 || strcmp (argv[*i + 1], "false") == 0 || strcmp (argv[*i + 1], "auto") == 0))
      value = argv[++*i];
    if (value && strcmp (value, "true") == 0) return fail ("--rootless=true is not supported by fusejail (it runs as root)"), -1;
    return 1;
  }
  return 0;
}

static void usage (void) {
  printf (
    "usage: fusejail [--root DIR] [--log FILE] [--log-format text|json] [--systemd-cgroup]\n"
    "                [--cgroup-manager cgroupfs|systemd|disabled] [--debug] VERB ...\n\n"
    "The OCI runtime command line, as runc spells it (containers keyed by --root and id; default\n"
    "root " OCI_DEFAULT_ROOT "):\n"
    "  create --bundle DIR --pid-file F [--console-socket S] [--no-pivot] [--no-new-keyring] [--preserve-fds N] ID\n"
    "  start ID | state ID | kill [--all] ID [SIGNAL] | delete [--force] ID | ps [--format json|table] ID\n"
    "  exec --process F [--detach] [--pid-file F] [--console-socket S] [--tty] [--preserve-fds N] ID\n"
    "  features | spec [--bundle DIR] | list\n"
    "  pause, resume, update, checkpoint, restore, events: not implemented (exit 1)\n\n"
    "--systemd-cgroup: cgroupsPath is read as slice:prefix:name and used as the cgroupfs path\n"
    "  SLICE/PREFIX-NAME.scope (no systemd unit is made).\n\n"
    "Everything else is fusejail's own command line: fusejail --help\n");
}

/** exec's node on <checkout>/dist/cli/main.js with the same arguments (the same pid). */
static int exec_node (int argc, char **argv) {
  char checkout[PATH_MAX], script[PATH_MAX + 32];
  if (checkout_dir (checkout, sizeof checkout) < 0) return fail ("cannot find the checkout from /proc/self/exe: %s", strerror (errno));
  snprintf (script, sizeof script, "%s/dist/cli/main.js", checkout);
  char **args = calloc ((size_t) argc + 2, sizeof *args);
  if (!args) return fail ("out of memory");
  args[0] = "node";
  args[1] = script;
  for (int i = 1; i < argc; i++) args[i + 1] = argv[i];
  execvp ("node", args);
  return fail ("cannot run node (%s): %s", script, strerror (errno));
}

/** True when `--name`/`-s` (or `--name=...`) appears among args. */
static bool has_option (int argc, char **argv, const char *name, char short_name) {
  const char *value;
  for (int i = 0; i < argc; i++) {
    if (strcmp (argv[i], "--") == 0) break;
    if (flag_is (argv[i], name, &value)) return true;
    if (short_name && argv[i][0] == '-' && argv[i][1] == short_name && argv[i][2] == '\0') return true;
  }
  return false;
}

/** The first positional argument of a shared verb names a container under the default OCI root. */
static bool names_oci_container (int argc, char **argv) {
  for (int i = 0; i < argc; i++) {
    if (argv[i][0] == '-') continue;
    if (!valid_id (argv[i])) return false;
    char path[PATH_MAX];
    snprintf (path, sizeof path, "%s/%s/state.json", g.root, argv[i]);
    return access (path, F_OK) == 0;
  }
  return false;
}

int main (int argc, char **argv) {
  bool oci_flag = false;
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    int r = global_flag (argc, argv, &i);
    if (r < 0) return 1;
    if (r == 0) break;
    oci_flag = true;
  }
  if (i >= argc || argv[i][0] == '-') {
    if (!oci_flag) return exec_node (argc, argv);
    if (i < argc && (strcmp (argv[i], "--version") == 0 || strcmp (argv[i], "-v") == 0)) {
      printf ("fusejail version 0.1.0\nspec: %s\n", OCI_SPEC_VERSION);
      return 0;
    }
    if (i < argc && (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0)) return usage (), 0;
    return fail (i < argc ? "unknown global option %s" : "name a verb; see fusejail --root DIR --help", argv[i]);
  }
  const char *verb = argv[i];
  int vargc = argc - i - 1;
  char **vargv = argv + i + 1;
  verb_fn fn = oci_verb (verb);
  bool node = in_list (NODE_VERBS, verb);
  if (fn && node) {
    bool oci_only = (strcmp (verb, "exec") == 0 && has_option (vargc, vargv, "--process", 'p')) ||
                    (strcmp (verb, "ps") == 0 && has_option (vargc, vargv, "--format", 'f')) ||
                    (strcmp (verb, "kill") == 0 && has_option (vargc, vargv, "--all", 'a')) ||
                    (strcmp (verb, "events") == 0 && (has_option (vargc, vargv, "--stats", 0) || has_option (vargc, vargv, "--interval", 0)));
    bool by_id = strcmp (verb, "events") != 0 && names_oci_container (vargc, vargv);
    if (!oci_flag && !oci_only && !by_id) return exec_node (argc, argv);
  } else if (!fn) {
    if (node && !oci_flag) return exec_node (argc, argv);
    return fail ("unknown command %s (see fusejail --help)", verb);
  }
  current_verb = verb;
  return fn (vargc, vargv);
}
