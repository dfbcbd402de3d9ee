// cmd_start.c: `start`: releases the init waiting at exec.fifo, waits until it has exec'd the
// process (or failed), then runs the poststart hooks.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "oci.h"

int load_container (int argc, char **argv, const char *verb, struct oci_state *st) {
  if (argc != 1) return fail ("%s needs exactly one container id", verb), -1;
  if (state_load (argv[0], st) < 0) {
    if (errno == EINVAL) return fail ("invalid container id %s", argv[0]), -1;
    return fail ("container %s does not exist", argv[0]), -1;  // NOTE: callers match "does not exist"
  }
  return 0;
}

/**
 * Waits until the init holds exec.fifo no more: its read end is close-on-exec, so that is when its
 * execve succeeded or it exited. runc's start waits the same way: a signal sent after `start`
 * must reach the process (a shell's trap), and poststart hooks run after it started.
 */
static void wait_exec (int fd) {
  // NOTE: events 0: on a fifo's write end poll reports POLLERR once no reader is left (pipe(7)).
  struct pollfd p = { .fd = fd, .events = 0 };
  while (poll (&p, 1, -1) < 0 && errno == EINTR) {}
}

int cmd_start (int argc, char **argv) {
  if (wants_help (argc, argv)) return printf ("usage: fusejail [global options] start ID\nRuns the created container's process.\n"), 0;
  struct oci_state st;
  if (load_container (argc, argv, "start", &st) < 0) return 1;
  enum oci_status s = state_status (&st);
  if (s != ST_CREATED) {
    state_free (&st);
    return s == ST_STOPPED ? fail ("cannot start a container that has stopped") : fail ("cannot start an already running container");
  }
  char fifo[PATH_MAX];
  snprintf (fifo, sizeof fifo, "%s/exec.fifo", st.dir);
  // NOTE: the init holds the read end; a non-blocking open fails (ENXIO) only when it is gone.
  int fd = open (fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    state_free (&st);
    return fail ("cannot start container %s: %s", argv[0], errno == ENXIO ? "container not running" : strerror (errno));
  }
  ssize_t n = write (fd, "0", 1);
  int err = errno;
  if (n != 1) {
    close (fd);
    state_free (&st);
    return fail ("cannot start container %s: %s", argv[0], strerror (err));
  }
  wait_exec (fd);
  close (fd);
  // NOTE: without the fifo the status reads "running" from now on.
  unlink (fifo);
  hooks_run_warning (&st, "poststart", ST_RUNNING);
  state_free (&st);
  return 0;
}
