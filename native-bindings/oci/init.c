// init.c: the processes create and exec fork. create's child enters the namespaces and forks the
// init (so a new PID namespace has it as PID 1, and it reparents to the caller's subreaper when the
// child exits); exec's child joins the init's namespaces and forks the process the same way.
//
// NOTE: the init's steps, in order (runtime-spec's lifecycle; hooks at their points):
//   1. (child) fds past the kept ones made close-on-exec; namespaces joined by path, a new user
//      namespace (maps written by create), the other new ones; fork → the init
//   (before them, while still host root: exec.fifo's read end opened, the start barrier, and the
//   served root entered as the cwd, which setup.c binds: the state dir is 0700)
//   2. create runs prestart/createRuntime hooks (runtime namespace)
//   3. setup_rootfs_prepare: mounts, devices, sysctl, hostname (setup.c)
//   4. createContainer hooks (container namespaces, after the mounts, before pivot_root), then
//      setup_rootfs_enter: pivot_root, masks, read-only paths, root.readonly
//   5. with a terminal: a pty from the container's devpts; the master goes to create, the slave
//      becomes the controlling terminal, fds 0-2 and /dev/console
//   6. args[0] found with the container's PATH (create fails when it is not there)
//   7. session keyring; setup_process (user, capabilities, rlimits, no_new_privs, seccomp); jail
//   8. READY to create, which exits; the init waits until `start` writes to exec.fifo
//   9. startContainer hooks, execve; exec.fifo, close-on-exec, closes with it and `start` returns.
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/keyctl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "oci.h"
#ifdef OCI_JAIL
#include "../launcher/launcher.h"
#endif

int kept_fds (const char *preserve, int *out) {
  long n = 0;
  if (preserve) {
    char *end;
    n = strtol (preserve, &end, 10);
    if (*preserve == '\0' || *end || n < 0 || n > 65536) return -1;
  }
  const char *listen = getenv ("LISTEN_FDS");
  long l = listen ? strtol (listen, NULL, 10) : 0;
  *out = (int) (l > n ? l : n);
  return 0;
}

bool wait_gone (pid_t pid, int ms) {
  int fd = (int) syscall (SYS_pidfd_open, pid, 0);
  if (fd < 0) return errno == ESRCH;
  struct pollfd p = { .fd = fd, .events = POLLIN };
  int r = poll (&p, 1, ms);
  close (fd);
  return r > 0;
}

__attribute__((noreturn)) static void child_fail (int sync, const struct oci_error *e) {
  sync_send (sync, SYNC_ERROR, e->err, e->message);
  _exit (1);
}

/** The state hooks see from inside: what create will write, status "creating". */
static json_t *init_state (const struct init_args *a, pid_t host_pid) {
  return json_pack ("{s:s, s:s, s:s, s:I, s:s, s:O}", "ociVersion", OCI_SPEC_VERSION, "id", a->id, "status", "creating", "pid",
                    (json_int_t) host_pid, "bundle", a->spec->bundle, "annotations", a->spec->annotations);
}

/** Steps 5 to 7 (both verbs): terminal, executable, process setup, jail. */
static void prepare_process (const struct init_args *a, char *exe, size_t exe_size) {
  struct oci_error e = { 0 };
  if (a->process->terminal) {
    int master, slave;
    char name[64];
    if (pty_open (&master, &slave, name, sizeof name, a->process->rows, a->process->cols, &e) < 0) child_fail (a->sync, &e);
    if (sync_send_fd (a->sync, SYNC_PTY, master, name) < 0) {
      oci_fail (&e, errno, "terminal: cannot hand the pty to the runtime: %s", strerror (errno));
      child_fail (a->sync, &e);
    }
    close (master);
    if (pty_become_console (slave, name, &e) < 0) child_fail (a->sync, &e);
    if (slave > 2) close (slave);
  } else
    setsid ();
  if (find_executable (a->process->args[0], a->process->env, exe, exe_size, &e) < 0) child_fail (a->sync, &e);
  if (!a->no_new_keyring) syscall (SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL);
  const struct oci_process *process = a->process;
#ifdef OCI_JAIL
  // NOTE: fusejail's jail, as the launcher applies it: the bounding set emptied while the
  // capability to do so is still held (the process keeps none in the end, so its own sets are
  // emptied too: an inheritable set may not outgrow the bounding one), then after the process's
  // own setup: no capabilities, no_new_privs, the jail's seccomp filter.
  struct oci_process jailed;
  struct failure f = { 0 };
  if (a->jail) {
    jailed = *a->process;
    for (int set = 0; set < 5; set++) jailed.caps[set] = 0;
    jailed.has_capabilities = true;
    process = &jailed;
    if (jail_drop_bounding (&f) < 0) {
      oci_fail (&e, f.err, "jail: %s: %s", f.stage, f.message);
      child_fail (a->sync, &e);
    }
  }
#endif
  if (setup_process (process, a->seccomp, &e) < 0) child_fail (a->sync, &e);
#ifdef OCI_JAIL
  if (a->jail && jail_apply (&f) < 0) {
    oci_fail (&e, f.err, "jail: %s: %s", f.stage, f.message);
    child_fail (a->sync, &e);
  }
#endif
}

__attribute__((noreturn)) static void exec_process (const struct oci_process *p, const char *exe, int sync) {
  execve (exe, p->args, p->env);
  int err = errno;
  char message[1100];
  snprintf (message, sizeof message, "exec: \"%s\": %s", exe, strerror (err));
  if (sync >= 0) sync_send (sync, SYNC_ERROR, err, message);
  else dprintf (STDERR_FILENO, "fusejail: %s\n", message);
  _exit (err == ENOENT ? 127 : 126);
}

__attribute__((noreturn)) static void run_init (const struct init_args *a, int fifo) {
  struct oci_error e = { 0 };
  struct sync_msg m;
  char exe[4096];
  if (sync_send (a->sync, SYNC_HOOKS, 0, NULL) < 0 || sync_recv (a->sync, &m, NULL) <= 0 || m.type != SYNC_GO) _exit (1);
  json_t *state = init_state (a, m.value);
  if (setup_rootfs_prepare (a->spec, a->mountpoint, &e) < 0) child_fail (a->sync, &e);
  if (hooks_run (a->spec->document, "createContainer", state, &e) < 0) child_fail (a->sync, &e);
  if (setup_rootfs_enter (a->spec, a->mountpoint, a->no_pivot, &e) < 0) child_fail (a->sync, &e);
  prepare_process (a, exe, sizeof exe);
  sync_send (a->sync, SYNC_READY, 0, NULL);
  close (a->sync);
  for (;;) {
    struct pollfd p = { .fd = fifo, .events = POLLIN };
    if (poll (&p, 1, -1) < 0 && errno != EINTR) _exit (1);
    char byte;
    ssize_t n = read (fifo, &byte, 1);
    if (n == 1) break;
    if (n < 0 && errno != EAGAIN && errno != EINTR) _exit (1);
    // NOTE: only `start` writes here, always a byte; a writer gone without one ends the init.
    if (n == 0) _exit (1);
  }
  // NOTE: the fifo stays open (close-on-exec) through execve: `start` waits until it closes.
  if (hooks_run (a->spec->document, "startContainer", state, &e) < 0) {
    dprintf (STDERR_FILENO, "fusejail: %s\n", e.message);
    _exit (1);
  }
  exec_process (a->process, exe, -1);
}

static void close_others (int keep) {
  // NOTE: fds 0-2, the kept ones (--preserve-fds, LISTEN_FDS) pass through; the rest closes at exec.
  close_range (3 + (unsigned) keep, ~0U, CLOSE_RANGE_CLOEXEC);
}

void init_create_child (const struct init_args *a) {
  struct oci_error e = { 0 };
  struct sync_msg m;
  char fifo_path[4096];
  close_others (a->keep_fds);
  if (sync_recv (a->sync, &m, NULL) <= 0 || m.type != SYNC_GO) _exit (1);
  // NOTE: opened while still host root (the state dir is 0700): a read end with no writer yet, so
  // the init's poll() waits until `start` opens it and writes; no path is needed after pivot_root.
  snprintf (fifo_path, sizeof fifo_path, "%s/exec.fifo", a->state_dir);
  int fifo = open (fifo_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fifo < 0) {
    oci_fail (&e, errno, "cannot open %s: %s", fifo_path, strerror (errno));
    child_fail (a->sync, &e);
  }
  // NOTE: entered while still host root, for the same reason: setup.c binds the root from the cwd.
  if (chdir (a->mountpoint) < 0) {
    oci_fail (&e, errno, "cannot enter the container root %s: %s", a->mountpoint, strerror (errno));
    child_fail (a->sync, &e);
  }
  if (ns_enter_for_create (a->spec, a->sync, &e) < 0) child_fail (a->sync, &e);
  pid_t init = fork ();
  if (init < 0) {
    oci_fail (&e, errno, "cannot fork the container's init: %s", strerror (errno));
    child_fail (a->sync, &e);
  }
  if (init == 0) run_init (a, fifo);
  sync_send (a->sync, SYNC_INIT_PID, init, NULL);
  _exit (0);
}

void init_exec_child (const struct init_args *a, pid_t container_init) {
  struct oci_error e = { 0 };
  struct sync_msg m;
  char exe[4096];
  close_others (a->keep_fds);
  if (sync_recv (a->sync, &m, NULL) <= 0 || m.type != SYNC_GO) _exit (1);
  if (ns_join_pid (container_init, &e) < 0) child_fail (a->sync, &e);
  pid_t pid = fork ();
  if (pid < 0) {
    oci_fail (&e, errno, "cannot fork the process: %s", strerror (errno));
    child_fail (a->sync, &e);
  }
  if (pid > 0) {
    sync_send (a->sync, SYNC_INIT_PID, pid, NULL);
    _exit (0);
  }
  // NOTE: setns(mnt) left us at the container's root; the cwd is set by setup_process.
  if (chdir ("/") < 0) _exit (1);
  prepare_process (a, exe, sizeof exe);
  // NOTE: the sync fd is close-on-exec: exec reads EOF once execve succeeded.
  exec_process (a->process, exe, a->sync);
}
