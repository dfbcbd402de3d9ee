// cmd_exec.c: `exec --process F ID`: another process in a running container: its namespaces (user
// first), its cgroup, the container's seccomp; --detach leaves it a descendant of the caller.
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "oci.h"

static void usage (void) {
  printf ("usage: fusejail [global options] exec --process FILE [--detach] [--pid-file FILE] [--console-socket SOCKET]\n"
          "                [--tty] [--preserve-fds N] ID\n"
          "Runs the runtime-spec process in FILE in the running container ID; without --detach, waits\n"
          "and exits with its status (128+N when killed by signal N).\n");
}

/** The parent's side until the process exec'd (EOF) or failed; 0 when it runs, *pid set. */
static int follow (int sync, pid_t child, const char *console, pid_t *pid, struct oci_error *e) {
  struct sync_msg m;
  int passed;
  for (;;) {
    int r = sync_recv (sync, &m, &passed);
    if (r < 0) return oci_fail (e, errno, "exec: %s", strerror (errno));
    if (r == 0) return *pid ? 0 : oci_fail (e, EPIPE, "exec: the process ended before it started");
    switch (m.type) {
    case SYNC_INIT_PID:
      *pid = m.value;
      waitpid (child, NULL, 0);
      break;
    case SYNC_PTY:
      r = console ? console_send (console, passed, m.message, e) : oci_fail (e, EINVAL, "a terminal needs --console-socket");
      close (passed);
      if (r < 0) return -1;
      break;
    case SYNC_ERROR:
      return oci_fail (e, m.value, "%s", m.message);
    default:
      return oci_fail (e, EPROTO, "exec: unexpected message %d", m.type);
    }
  }
}

static volatile pid_t forward_to;

static void forward (int sig) {
  if (forward_to > 0) kill (forward_to, sig);
}

struct exec_opts {
  const char *pid_file, *console;
  bool detach;
  int keep;
};

/**
 * Forks the process into the container; returns its exit status (without --detach; 128+N when
 * killed by signal N), 0 once it runs (--detach), or -1 with e filled.
 */
static int exec_in (const struct oci_state *st, const struct oci_process *process, const json_t *seccomp, const struct exec_opts *o,
                    struct oci_error *e) {
  int sv[2];
  // NOTE: waiting for a grandchild needs it to reparent to us.
  if (!o->detach) prctl (PR_SET_CHILD_SUBREAPER, 1);
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return oci_fail (e, errno, "socketpair: %s", strerror (errno));
  const char *jail = json_string_value (json_object_get (st->annotations, "run.fusejail.jail"));
  struct init_args a = { .process = process, .seccomp = seccomp, .id = st->id, .state_dir = st->dir, .sync = sv[1], .keep_fds = o->keep,
                         .jail = jail && strcmp (jail, "true") == 0 };
  pid_t child = fork ();
  if (child < 0) {
    close (sv[0]);
    close (sv[1]);
    return oci_fail (e, errno, "fork: %s", strerror (errno));
  }
  if (child == 0) {
    close (sv[0]);
    init_exec_child (&a, st->pid);
  }
  close (sv[1]);
  pid_t pid = 0;
  int r = cgroup_join (st->cgroups, child, e);
  if (r == 0) {
    sync_send (sv[0], SYNC_GO, 0, NULL);
    r = follow (sv[0], child, o->console, &pid, e);
  }
  close (sv[0]);
  if (r < 0) {
    if (!pid) kill (child, SIGKILL);
    waitpid (child, NULL, 0);
    return -1;
  }
  if (o->pid_file && write_pid_file (o->pid_file, pid) < 0) {
    kill (pid, SIGKILL);
    return oci_fail (e, errno, "--pid-file %s: %s", o->pid_file, strerror (errno));
  }
  if (o->detach) return 0;
  // NOTE: as runc does, signals sent to the runtime go on to the process; the runtime waits, and
  // reaps whatever else reparents to it on the way.
  forward_to = pid;
  static const int FORWARDED[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH };
  struct sigaction sa = { .sa_handler = forward };
  for (size_t i = 0; i < sizeof FORWARDED / sizeof FORWARDED[0]; i++) sigaction (FORWARDED[i], &sa, NULL);
  for (int wstatus;;) {
    pid_t w = waitpid (-1, &wstatus, 0);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return oci_fail (e, errno, "exec: wait: %s", strerror (errno));
    if (w == pid) return WIFEXITED (wstatus) ? WEXITSTATUS (wstatus) : 128 + WTERMSIG (wstatus);
  }
}

int cmd_exec (int argc, char **argv) {
  const char *process_file = NULL, *preserve = NULL;
  bool tty = false;
  struct exec_opts o = { 0 };
  const struct opt opts[] = {
    { "process", 'p', true, &process_file, NULL },
    { "pid-file", 0, true, &o.pid_file, NULL },
    { "console-socket", 0, true, &o.console, NULL },
    { "preserve-fds", 0, true, &preserve, NULL },
    { "detach", 'd', false, NULL, &o.detach },
    { "tty", 't', false, NULL, &tty },
    { 0 },
  };
  if (wants_help (argc, argv)) return usage (), 0;
  char **pos;
  int npos;
  if (parse_opts (argc, argv, opts, &pos, &npos) < 0) return 1;
  if (!process_file) return fail ("exec needs --process FILE (fusejail does not take the command on the line)");
  if (npos != 1) return fail ("exec needs exactly one container id");
  if (kept_fds (preserve, &o.keep) < 0) return fail ("--preserve-fds must be a number, not %s", preserve);
  struct oci_state st;
  if (load_container (1, pos, "exec", &st) < 0) return 1;
  if (state_status (&st) == ST_STOPPED) {
    state_free (&st);
    return fail ("container not running");
  }
  struct oci_process process;
  struct oci_error e = { 0 };
  if (spec_load_process (process_file, &process, &e) < 0) {
    state_free (&st);
    return fail ("%s", e.message);
  }
  if (tty) process.terminal = true;
  int status = -1;
  if (process.terminal && !o.console) oci_fail (&e, EINVAL, "a terminal needs --console-socket");
  else {
    // NOTE: the container's seccomp from create's copy of config.json (edits since do not count).
    char path[PATH_MAX];
    snprintf (path, sizeof path, "%s/config.json", st.dir);
    json_t *config = json_load_file (path, 0, NULL);
    status = exec_in (&st, &process, json_object_get (json_object_get (config, "linux"), "seccomp"), &o, &e);
    json_decref (config);
  }
  process_free (&process);
  state_free (&st);
  return status < 0 ? fail ("%s", e.message) : status;
}
