// main.c: the launcher's modes, and the launch stages in their one fixed order.
#include "launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int init_main(void);

extern char **environ;

// What the payload's side tells the launcher's side over a close-on-exec pipe: with a new user
// namespace, that it is made (the launcher's side maps it and answers one byte on a second pipe);
// its container pid once set up, then nothing (exec succeeded, the pipe closed) or the stage that failed.
struct message {
  enum { MSG_READY, MSG_FAILED, MSG_USERNS } type;
  pid_t container_pid;
  // CLOCK_MONOTONIC (ns) when the root was entered and when the jail was applied (FUSEJAIL_TRACE).
  long long root_ns, jail_ns;
  struct failure failure;
};

static void send_message (int fd, const struct message *m) {
  ssize_t ignored = write(fd, m, sizeof *m);
  (void) ignored;
}

static void fail_child (int fd, const struct failure *f, int status) {
  struct message m = { .type = MSG_FAILED, .failure = *f };
  send_message(fd, &m);
  _exit(status);
}

static int join (const char *path, int nstype, const char *what, struct failure *f) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || setns(fd, nstype) < 0) return fail_with(f, "setns", errno, "cannot join the %s namespace %s", what, path);
  close(fd);
  return 0;
}

// Writing "0" to cgroup.procs moves the writer; every process it starts is then counted too.
static int join_cgroup (const char *dir, struct failure *f) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/cgroup.procs", dir);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, "0", 1) != 1) {
    int err = errno;
    if (fd >= 0) close(fd);
    return fail_with(f, "cgroup", err, "cannot join the cgroup %s", dir);
  }
  close(fd);
  return 0;
}

/*
 * NOTE: vm.memfd_noexec is per PID namespace (Linux 6.3), and 2 means no memfd can ever be
 * executed (memfd_create with MFD_EXEC fails, every other memfd is sealed non-executable): a
 * jailed payload cannot run code that is on no filesystem (so never seen by the FUSE root's exec
 * check). It is written here, through the host's /proc, because the container's /proc/sys is
 * read-only; the value can only be raised, so the payload cannot lower it. It applies to every
 * process of the list, jailed or not. Without a PID namespace of its own the host's value would
 * change, so it is not set there (docs/security.md).
 */
static int memfd_noexec (struct failure *f) {
  int fd = open("/proc/sys/vm/memfd_noexec", O_WRONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return 0;  // an older kernel: nothing to set
  if (fd < 0 || write(fd, "2", 1) != 1) {
    int err = errno;
    if (fd >= 0) close(fd);
    return fail_with(f, "memfd-noexec", err, "cannot set vm.memfd_noexec in the process list");
  }
  close(fd);
  return 0;
}

/*
 * NOTE: joined, not made anew, for `exec`: every process of a container is then in one user
 * namespace (ps names one), and container root's capabilities inside cover all of them, as in
 * one machine; a second namespace with the same map would hold the same ids but be a stranger to
 * the first. The map is the first process's, written once.
 */
static int enter_user_namespace (int joined, int fd, int mapped, struct failure *f) {
  if (joined >= 0) {
    if (setns(joined, CLONE_NEWUSER) < 0) return fail_with(f, "setns", errno, "cannot join the container's user namespace");
    close(joined);
    return 0;
  }
  if (unshare(CLONE_NEWUSER) < 0) return fail_with(f, "unshare-user", errno, "cannot create a user namespace");
  struct message m = { .type = MSG_USERNS };
  send_message(fd, &m);
  char ok;
  if (read(mapped, &ok, 1) != 1) return fail_with(f, "userns-map", EPROTO, "the launcher did not map the user namespace");
  close(mapped);
  return 0;
}

/*
 * NOTE: The payload's side, in the PID namespace. Stages, in order:
 *   0. the container's cgroups (from here on, its limits count), then a cgroup namespace, so it
 *      sees its own cgroup as / (and not the host's tree of them); then,
 *      jailed in a process list, vm.memfd_noexec=2 for the list (through the host's /proc);
 *   1. a session of its own (without a terminal, it can never push input into the caller's
 *      terminal; with one, the pty becomes its controlling terminal, so the payload leads its
 *      session inside the container, as in a local terminal);
 *   2. the UTS, network and IPC namespaces (each joined, new, or the host's; a new network
 *      namespace gets lo up), and a new mount namespace: here and not before the
 *      fork, because pivot_root moves the root of every process in the mount namespace, and the
 *      launcher's side must keep the host's to report on the sync socket;
 *   3. rootfs_enter: / private, bind the FUSE root, /dev, the layout's kernel filesystems
 *      (ProcFS, SysFS, DevPTS, in layout order), pivot_root;
 *   4. sethostname, when this launch owns a new UTS namespace;
 *   5. chdir to the working directory, resolved by the kernel in the new root, and verified to
 *      be inside it (no escape through a magic link such as /proc/1/cwd);
 *   6. with a user namespace: a new one (unshare, then the launcher's side, host root in the
 *      host's /proc, writes its uid_map and gid_map while this side waits), or the container's
 *      (exec). Only here: every namespace above was made or joined with host privilege, so it
 *      stays owned by the host's user namespace, and container root gets no capability over
 *      them (no mount, no sethostname), nor over any host object;
 *   7. the capability bounding set emptied (needs CAP_SETPCAP, which the next stage loses; a
 *      new user namespace gave a full set again, so this comes after it);
 *   8. groups, gid, uid (inside a user namespace, its ids: the kernel's are the mapped ones);
 *   9. the jail: capabilities, no_new_privs, seccomp (last: nothing after it needs privilege);
 *  10. the environment, then exec.
 */
static void payload (const struct plan *plan, int fd, int mapped, int joined) {
  struct failure f = { 0 };
  for (char **c = plan->cgroups; *c; c++) if (join_cgroup(*c, &f) < 0) fail_child(fd, &f, EXIT_SETUP);
  if (unshare(CLONE_NEWCGROUP) < 0) {
    fail_with(&f, "unshare-cgroup", errno, "cannot create a cgroup namespace");
    fail_child(fd, &f, EXIT_SETUP);
  }
  if (plan->jail && plan->pidns && memfd_noexec(&f) < 0) fail_child(fd, &f, EXIT_SETUP);
  if (setsid() < 0) {
    fail_with(&f, "setsid", errno, "cannot start a new session");
    fail_child(fd, &f, EXIT_SETUP);
  }
  // NOTE: with a terminal, the pty becomes this session's controlling terminal, taken from the
  // launcher's session (argument 1: allowed with CAP_SYS_ADMIN, which this side still has). Its
  // foreground process group is then inside the container, so a shell's job control works and
  // dash finds the group it restores on exit (issue 11: "Cannot set tty process group").
  if (plan->tty && ioctl(STDIN_FILENO, TIOCSCTTY, 1) < 0) {
    fail_with(&f, "setsid", errno, "cannot make the terminal the session's controlling terminal");
    fail_child(fd, &f, EXIT_SETUP);
  }
  if (plan->utsns && join(plan->utsns, CLONE_NEWUTS, "UTS", &f) < 0) fail_child(fd, &f, EXIT_SETUP);
  if (plan->hostname && unshare(CLONE_NEWUTS) < 0) {
    fail_with(&f, "unshare-uts", errno, "cannot create a UTS namespace");
    fail_child(fd, &f, EXIT_SETUP);
  }
  if (plan->netns && join(plan->netns, CLONE_NEWNET, "network", &f) < 0) fail_child(fd, &f, EXIT_SETUP);
  if (plan->new_net && (unshare(CLONE_NEWNET) < 0 || net_loopback_up(&f) < 0)) {
    if (f.stage[0] == 0) fail_with(&f, "unshare-net", errno, "cannot create a network namespace");
    fail_child(fd, &f, EXIT_SETUP);
  }
  if (plan->ipcns && join(plan->ipcns, CLONE_NEWIPC, "IPC", &f) < 0) fail_child(fd, &f, EXIT_SETUP);
  if (plan->new_ipc && unshare(CLONE_NEWIPC) < 0) {
    fail_with(&f, "unshare-ipc", errno, "cannot create an IPC namespace");
    fail_child(fd, &f, EXIT_SETUP);
  }
  if (unshare(CLONE_NEWNS) < 0) {
    fail_with(&f, "unshare-mount", errno, "cannot create a mount namespace");
    fail_child(fd, &f, EXIT_SETUP);
  }
  if (rootfs_enter(plan, &f) < 0) fail_child(fd, &f, EXIT_SETUP);
  if (plan->hostname && sethostname(plan->hostname, strlen(plan->hostname)) < 0) {
    fail_with(&f, "sethostname", errno, "cannot set the hostname to \"%s\"", plan->hostname);
    fail_child(fd, &f, EXIT_SETUP);
  }
  // NOTE: the kernel resolves the path in the new root ("/.." is "/", symlinks are followed);
  // getcwd fails (glibc: ENOENT for the kernel's "(unreachable)") when a magic link such as
  // /proc/1/cwd led out of the root: that is refused as EXDEV.
  char cwd[PATH_MAX];
  long long root_ns;
  if (chdir(plan->cwd) < 0) {
    fail_with(&f, "chdir", errno, "cannot enter the working directory %s", plan->cwd);
    fail_child(fd, &f, EXIT_SETUP);
  }
  if (getcwd(cwd, sizeof cwd) == NULL || cwd[0] != '/') {
    fail_with(&f, "chdir", EXDEV, "the working directory %s is outside the container", plan->cwd);
    fail_child(fd, &f, EXIT_SETUP);
  }
  root_ns = monotonic_ns();
  if (plan->userns.size && enter_user_namespace(joined, fd, mapped, &f) < 0) fail_child(fd, &f, EXIT_SETUP);
  if (plan->jail && jail_drop_bounding(&f) < 0) fail_child(fd, &f, EXIT_SETUP);
  if (setgroups(plan->ngroups, plan->groups) < 0 || setresgid(plan->gid, plan->gid, plan->gid) < 0 ||
      setresuid(plan->uid, plan->uid, plan->uid) < 0) {
    fail_with(&f, "set-user", errno, "cannot become uid %u gid %u", (unsigned) plan->uid, (unsigned) plan->gid);
    fail_child(fd, &f, EXIT_SETUP);
  }
  if (plan->jail && jail_apply(&f) < 0) fail_child(fd, &f, EXIT_SETUP);
  struct message ready = { .type = MSG_READY, .container_pid = getpid(), .root_ns = root_ns, .jail_ns = monotonic_ns() };
  send_message(fd, &ready);
  environ = plan->env;
  execvp(plan->argv[0], plan->argv);
  int err = errno;
  fail_with(&f, "exec", err, "cannot execute %s", plan->argv[0]);
  fail_child(fd, &f, err == ENOENT || err == ENOTDIR ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC);
}

static volatile pid_t payload_pid;

static void relay (int sig) {
  if (payload_pid > 0) kill(payload_pid, sig);
}

/*
 * NOTE: the end of a terminal cannot be trusted to carry the last output: node-pty drops data
 * still buffered when the pty reports EIO, and destroys it 200 ms after the process exits. So,
 * with the payload gone, the launcher writes a marker (an OSC sequence with the plan's nonce,
 * which terminals ignore and the payload cannot know) behind its output, reports the status and
 * keeps the terminal open until the supervisor has read up to the marker.
 */
static void drain_terminal (int sync, int status, const char *nonce) {
  dprintf(STDOUT_FILENO, "\033]fusejail-end;%s\007", nonce);
  report_exited(sync, status);
  // NOTE: no time limit: a slow reader paces the output (backpressure), so the marker may take
  // long to be read; a supervisor that goes away closes the socket, which ends the wait too.
  report_wait_ack(sync, -1);
}

static int wait_payload (pid_t pid) {
  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) die_with_errno(errno, "waitpid");
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/*
 * NOTE: The launcher's side. Stages, in order: close inherited fds; become non-dumpable; connect
 * to the sync socket and read the plan from it (never from the environment, which a container's
 * process could read before exec: FUSEJAIL-PLAN security fault, issue 11); join the
 * process list's PID namespace (setns(CLONE_NEWPID) applies to children, hence the fork);
 * set the terminal size before anything can print; fork the payload; with a new user namespace,
 * write its maps when the payload's side has made it; report; relay signals; exit with the
 * payload's status.
 */
static int launch_main (void) {
  long long start_ns = monotonic_ns();
  close_inherited_fds();
  // NOTE: not dumpable, before anything is read: the fork below inherits it, so until its exec
  // the payload's side (a process of the container) has no /proc/<pid>/environ, mem or fd that
  // another container process could read; exec resets it for the payload.
  prctl(PR_SET_DUMPABLE, 0);
  int sync = report_open_from_env("FUSEJAIL_SYNC");
  if (sync < 0) die("launch: $FUSEJAIL_SYNC does not name a socket that answers");
  char *json = report_read_plan(sync);
  if (json == NULL) die("launch: no plan on the sync socket");
  struct plan plan;
  char error[512];
  if (plan_parse(json, &plan, error, sizeof error) < 0) die("%s", error);
  struct failure f = { 0 };
  long long plan_ns = monotonic_ns();
  if (plan.pidns && join(plan.pidns, CLONE_NEWPID, "PID", &f) < 0) {
    report_failed(sync, &f);
    die_with_errno(f.err, "%s", f.message);
  }
  if (plan.tty && plan.rows && plan.cols) {
    struct winsize ws = { .ws_row = plan.rows, .ws_col = plan.cols };
    ioctl(STDIN_FILENO, TIOCSWINSZ, &ws);
  }
  // NOTE: opened here, in the host's /proc: the payload's side joins it after pivot_root, where
  // /proc is the container's and the first process's host PID means nothing.
  int joined = -1;
  if (plan.userns_path && (joined = open(plan.userns_path, O_RDONLY | O_CLOEXEC)) < 0) {
    fail_with(&f, "setns", errno, "cannot open the user namespace %s", plan.userns_path);
    report_failed(sync, &f);
    die_with_errno(f.err, "%s", f.message);
  }
  int pipefd[2], mapped[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0 || pipe2(mapped, O_CLOEXEC) < 0) die_with_errno(errno, "pipe2");
  // In a terminal, Ctrl-C and Ctrl-\ reach the payload from the terminal itself.
  signal(SIGINT, plan.tty ? SIG_IGN : relay);
  signal(SIGQUIT, plan.tty ? SIG_IGN : relay);
  signal(SIGTERM, relay);
  signal(SIGHUP, relay);
  signal(SIGUSR1, relay);
  signal(SIGUSR2, relay);
  long long pidns_ns = monotonic_ns();
  pid_t pid = fork();
  if (pid < 0) die_with_errno(errno, "cannot fork into the container");
  if (pid == 0) {
    signal(SIGINT, SIG_DFL);
    signal(SIGQUIT, SIG_DFL);
    close(pipefd[0]);
    close(mapped[1]);
    payload(&plan, pipefd[1], mapped[0], joined);
  }
  payload_pid = pid;
  // NOTE: a payload killed before it reads its map's answer must not take this side with it.
  signal(SIGPIPE, SIG_IGN);
  close(pipefd[1]);
  close(mapped[0]);
  if (joined >= 0) close(joined);
  struct message m;
  ssize_t n = read(pipefd[0], &m, sizeof m);
  if (n == sizeof m && m.type == MSG_USERNS) {
    struct failure mf = { 0 };
    // NOTE: on failure the payload's side reads EOF and exits; this side's failure is the one reported.
    if (userns_map(pid, &plan, &mf) < 0) m = (struct message) { .type = MSG_FAILED, .failure = mf };
    else if (write(mapped[1], "k", 1) == 1) n = read(pipefd[0], &m, sizeof m);
    else m = (struct message) { .type = MSG_FAILED, .failure = { "userns-map", errno, "cannot tell the payload its user namespace is mapped" } };
  }
  close(mapped[1]);
  if (n == sizeof m && m.type == MSG_READY) {
    pid_t container_pid = m.container_pid;
    // NOTE: the end of each stage, for FUSEJAIL_TRACE; exec's ends when the pipe closed on it.
    struct stamp stamps[] = {
      { "launcher: start", start_ns }, { "launcher: plan", plan_ns }, { "launcher: pid namespace", pidns_ns },
      { "launcher: namespaces and root", m.root_ns }, { "launcher: user and jail", m.jail_ns }, { "launcher: exec", 0 },
    };
    n = read(pipefd[0], &m, sizeof m);
    stamps[5].ns = monotonic_ns();
    if (n == 0) report_started(sync, pid, container_pid, stamps, sizeof stamps / sizeof *stamps);
  }
  // NOTE: the report carries the failure; whoever reads it tells the user, once.
  if (n == sizeof m && m.type == MSG_FAILED) report_failed(sync, &m.failure);
  close(pipefd[0]);
  int status = wait_payload(pid);
  if (plan.tty && plan.nonce) drain_terminal(sync, status, plan.nonce);
  return status;
}

static int pin_main (const char *path, const char *name) {
  if (unshare(CLONE_NEWUTS) < 0) die_with_errno(errno, "pin: cannot create a UTS namespace");
  if (sethostname(name, strlen(name)) < 0) die_with_errno(errno, "pin: cannot set the hostname to \"%s\"", name);
  int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) die_with_errno(errno, "pin: cannot create %s", path);
  close(fd);
  if (mount("/proc/self/ns/uts", path, NULL, MS_BIND, NULL) < 0) die_with_errno(errno, "pin: cannot bind the namespace on %s", path);
  return 0;
}

// pin-net PATH: a new network namespace with lo up, pinned on PATH (a container's private network,
// which pasta then connects to the host's).
static int pin_net_main (const char *path) {
  struct failure f = { 0 };
  if (unshare(CLONE_NEWNET) < 0) die_with_errno(errno, "pin-net: cannot create a network namespace");
  if (net_loopback_up(&f) < 0) die_with_errno(f.err, "pin-net: %s", f.message);
  int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) die_with_errno(errno, "pin-net: cannot create %s", path);
  close(fd);
  if (mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL) < 0) die_with_errno(errno, "pin-net: cannot bind the namespace on %s", path);
  return 0;
}

// hostname PATH [NEW]: prints, or sets, the hostname of a pinned UTS namespace.
static int hostname_main (const char *path, const char *name) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || setns(fd, CLONE_NEWUTS) < 0) die_with_errno(errno, "hostname: cannot join the hostname context %s", path);
  close(fd);
  if (name != NULL) {
    if (sethostname(name, strlen(name)) < 0) die_with_errno(errno, "hostname: cannot set \"%s\"", name);
    return 0;
  }
  char buf[HOST_NAME_MAX + 1] = { 0 };
  if (gethostname(buf, sizeof buf - 1) < 0) die_with_errno(errno, "hostname: cannot read it");
  printf("%s\n", buf);
  return 0;
}

static int unpin_main (const char *path) {
  if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL) die_with_errno(errno, "unpin: cannot unmount %s", path);
  if (unlink(path) < 0 && errno != ENOENT) die_with_errno(errno, "unpin: cannot remove %s", path);
  return 0;
}

int main (int argc, char **argv) {
  // The modes whose processes a container can see run from a sealed copy (see sealed.c).
  if (argc == 2 && (strcmp(argv[1], "init") == 0 || strcmp(argv[1], "launch") == 0)) run_sealed(argv);
  prctl(PR_SET_NAME, "fusejail");
  if (argc == 2 && strcmp(argv[1], "init") == 0) return init_main();
  if (argc == 2 && strcmp(argv[1], "launch") == 0) return launch_main();
  if (argc == 4 && strcmp(argv[1], "pin") == 0) return pin_main(argv[2], argv[3]);
  if (argc == 3 && strcmp(argv[1], "unpin") == 0) return unpin_main(argv[2]);
  if (argc == 3 && strcmp(argv[1], "pin-net") == 0) return pin_net_main(argv[2]);
  if ((argc == 3 || argc == 4) && strcmp(argv[1], "hostname") == 0) return hostname_main(argv[2], argc == 4 ? argv[3] : NULL);
  die("usage: launcher init | launch | pin PATH HOSTNAME | pin-net PATH | unpin PATH | hostname PATH [NEW]");
}
