// hooks.c: runtime-spec hooks (path, args, env, timeout) with the state JSON on stdin, read from
// the container's copy of config.json (already validated by spec_load at create).
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "oci.h"

static char **string_array (const json_t *a, const char *first) {
  size_t n = json_array_size (a);
  char **out = calloc (n + 2, sizeof *out);
  size_t k = 0;
  if (first) out[k++] = (char *) first;
  for (size_t i = 0; i < n; i++)
    if (json_is_string (json_array_get (a, i))) out[k++] = (char *) json_string_value (json_array_get (a, i));
  return out;
}

static int run_one (const json_t *hook, const char *name, size_t index, const char *state, struct oci_error *e) {
  const char *path = json_string_value (json_object_get (hook, "path"));
  if (!path) return oci_fail (e, EINVAL, "hooks.%s[%zu]: no path", name, index);
  json_t *args = json_object_get (hook, "args");
  char **argv = string_array (args, json_array_size (args) ? NULL : path);
  char **envp = string_array (json_object_get (hook, "env"), NULL);
  int timeout = (int) json_integer_value (json_object_get (hook, "timeout"));
  int in[2];
  if (pipe2 (in, O_CLOEXEC) < 0) return oci_fail (e, errno, "hooks.%s[%zu]: pipe: %s", name, index, strerror (errno));
  pid_t pid = fork ();
  if (pid == 0) {
    // NOTE: the runtime's stdio is the container's: a hook writes to /dev/null, never there.
    int null = open ("/dev/null", O_RDWR);
    dup2 (in[0], 0);
    dup2 (null, 1);
    dup2 (null, 2);
    execve (path, argv, envp);
    _exit (127);
  }
  close (in[0]);
  free (argv);
  free (envp);
  if (pid < 0) {
    close (in[1]);
    return oci_fail (e, errno, "hooks.%s[%zu]: fork: %s", name, index, strerror (errno));
  }
  signal (SIGPIPE, SIG_IGN);
  if (write (in[1], state, strlen (state)) < 0) { /* a hook may ignore its stdin */ }
  close (in[1]);
  int status = 0;
  for (long waited_ms = 0;; waited_ms += 10) {
    pid_t r = waitpid (pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return oci_fail (e, errno, "hooks.%s[%zu] %s: wait: %s", name, index, path, strerror (errno));
    if (timeout > 0 && waited_ms >= timeout * 1000L) {
      kill (pid, SIGKILL);
      waitpid (pid, &status, 0);
      return oci_fail (e, ETIMEDOUT, "hooks.%s[%zu] %s: timed out after %d s", name, index, path, timeout);
    }
    struct timespec ts = { 0, 10 * 1000000L };
    nanosleep (&ts, NULL);
  }
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0) return 0;
  if (WIFEXITED (status)) return oci_fail (e, EIO, "hooks.%s[%zu] %s exited with status %d", name, index, path, WEXITSTATUS (status));
  return oci_fail (e, EIO, "hooks.%s[%zu] %s was killed by signal %d", name, index, path, WTERMSIG (status));
}

int hooks_run (const json_t *config, const char *name, const json_t *state, struct oci_error *e) {
  json_t *hooks = json_object_get (json_object_get (config, "hooks"), name);
  if (json_array_size (hooks) == 0) return 0;
  char *text = json_dumps (state, JSON_COMPACT);
  if (!text) return oci_fail (e, ENOMEM, "hooks.%s: out of memory", name);
  int r = 0;
  for (size_t i = 0; r == 0 && i < json_array_size (hooks); i++) r = run_one (json_array_get (hooks, i), name, i, text, e);
  free (text);
  return r;
}

void hooks_run_warning (const struct oci_state *st, const char *name, enum oci_status status) {
  char path[PATH_MAX];
  snprintf (path, sizeof path, "%s/config.json", st->dir);
  json_t *config = json_load_file (path, 0, NULL);
  json_t *hooks = json_object_get (json_object_get (config, "hooks"), name);
  json_t *state = json_array_size (hooks) ? state_json (st, status) : NULL;
  char *text = state ? json_dumps (state, JSON_COMPACT) : NULL;
  if (state && !text) oci_warn ("hooks.%s: out of memory", name);
  // NOTE: runtime-spec (config.md, poststart and poststop): a failing hook is logged as a warning
  // and the remaining hooks and lifecycle still run.
  for (size_t i = 0; text && i < json_array_size (hooks); i++) {
    struct oci_error e = { 0 };
    if (run_one (json_array_get (hooks, i), name, i, text, &e) < 0) oci_warn ("%s", e.message);
  }
  free (text);
  json_decref (state);
  json_decref (config);
}
