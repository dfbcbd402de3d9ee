// cmd_kill.c: `kill [--all] ID [SIGNAL]`: a number or a name with or without SIG, TERM by default.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "names.h"
#include "oci.h"

int signal_init (const struct oci_state *st, int sig) {
  // NOTE: the pidfd pins the process checked: a pid reused after the check is never signalled.
  int fd = (int) syscall (SYS_pidfd_open, st->pid, 0);
  if (fd < 0) return -1;
  if (!pid_alive (st->pid, st->start_time)) {
    close (fd);
    return errno = ESRCH, -1;
  }
  int r = (int) syscall (SYS_pidfd_send_signal, fd, sig, NULL, 0);
  int err = errno;
  close (fd);
  return errno = err, r;
}

int cmd_kill (int argc, char **argv) {
  bool all = false;
  const struct opt opts[] = { { "all", 'a', false, NULL, &all }, { 0 } };
  if (wants_help (argc, argv))
    return printf ("usage: fusejail [global options] kill [--all] ID [SIGNAL]\n"
                   "SIGNAL: a number or a name with or without SIG (default TERM); --all: every process of the container.\n"),
           0;
  char **pos;
  int npos;
  if (parse_opts (argc, argv, opts, &pos, &npos) < 0) return 1;
  if (npos < 1 || npos > 2) return fail ("kill needs a container id and at most one signal");
  const char *name = npos == 2 ? pos[1] : "TERM";
  int sig = oci_signal_number (name);
  if (sig <= 0) return fail ("unknown signal %s", name);
  struct oci_state st;
  if (load_container (1, pos, "kill", &st) < 0) return 1;
  int r = 0;
  if (state_status (&st) == ST_STOPPED) r = fail ("container not running");
  else if (all) {
    pid_t *pids;
    size_t n;
    container_pids (&st, &pids, &n);
    for (size_t i = 0; i < n; i++)
      if (pids[i] != st.pid) kill (pids[i], sig);
    free (pids);
    if (signal_init (&st, sig) < 0 && errno != ESRCH) r = fail ("cannot signal container %s: %s", st.id, strerror (errno));
  } else if (signal_init (&st, sig) < 0)
    r = errno == ESRCH ? fail ("container not running") : fail ("cannot signal container %s: %s", st.id, strerror (errno));
  state_free (&st);
  return r;
}
