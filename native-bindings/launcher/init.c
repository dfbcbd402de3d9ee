// init.c: PID 1 of a scoped process list's PID namespace: reaps, forwards, ends with its pipe.
#include "launcher.h"

#include <errno.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void reap_forever (void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigprocmask(SIG_BLOCK, &set, NULL);
  int sfd = signalfd(-1, &set, SFD_CLOEXEC);
  if (sfd < 0) die_with_errno(errno, "init: signalfd");
  struct pollfd fds[2] = { { .fd = sfd, .events = POLLIN }, { .fd = STDIN_FILENO, .events = POLLIN } };
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      die_with_errno(errno, "init: poll");
    }
    if (fds[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof si) == sizeof si && si.ssi_signo != SIGCHLD) kill(-1, (int) si.ssi_signo);
      while (waitpid(-1, NULL, WNOHANG) > 0) {}
    }
    // NOTE: EOF on the control pipe means the supervisor is gone or done with this list: PID 1
    // exiting makes the kernel kill every process left in the namespace.
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      char buf[64];
      if (read(STDIN_FILENO, buf, sizeof buf) <= 0) {
        kill(-1, SIGKILL);
        _exit(0);
      }
    }
  }
}

/*
 * NOTE: every process of the list can read /proc/1 (mountinfo, root, cwd, fds): were init left in
 * the host's mount namespace with host root's capabilities, the list would see the host's whole
 * mount table, and, unjailed, its files through /proc/1/root. So init gets a mount namespace of
 * its own whose root is an empty, read-only tmpfs (it only reaps and signals: it needs no file),
 * and keeps one capability: CAP_KILL, to signal members that run as another uid. Stages, in
 * order: new mount, network and IPC namespaces (the last two are the list's: launches join them
 * through /proc/<init>/ns, so they live exactly as long as the list), lo up, / private, an empty tmpfs, pivot_root into it and detach the old
 * root, the bounding and ambient sets emptied, capabilities down to CAP_KILL, no_new_privs.
 */
static void leave_the_host (void) {
  if (unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC) < 0) die_with_errno(errno, "init: cannot create mount, network and IPC namespaces");
  struct failure f = { 0 };
  if (net_loopback_up(&f) < 0) die_with_errno(f.err, "init: %s", f.message);
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die_with_errno(errno, "init: cannot make / private");
  if (mount("tmpfs", "/tmp", "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0555") < 0) die_with_errno(errno, "init: cannot mount an empty root");
  if (chdir("/tmp") < 0 || syscall(SYS_pivot_root, ".", ".") < 0) die_with_errno(errno, "init: cannot pivot into an empty root");
  if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0) die_with_errno(errno, "init: cannot detach the host's root");
  for (int cap = 0; cap <= CAP_LAST_CAP; cap++) {
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) die_with_errno(errno, "init: cannot drop capability %d", cap);
  }
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct data[2] = { { 1u << CAP_KILL, 1u << CAP_KILL, 0 }, { 0, 0, 0 } };
  if (syscall(SYS_capset, &header, data) < 0) die_with_errno(errno, "init: cannot drop capabilities");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die_with_errno(errno, "init: cannot set no_new_privs");
}

int init_main (void) {
  close_inherited_fds();
  if (unshare(CLONE_NEWPID) < 0) die_with_errno(errno, "init: unshare(CLONE_NEWPID)");
  pid_t child = fork();
  if (child < 0) die_with_errno(errno, "init: fork");
  if (child == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    // NOTE: run from a sealed copy (fexecve), it would otherwise show in ps as its fd number.
    prctl(PR_SET_NAME, "fusejail-init");
    leave_the_host();
    reap_forever();
  }
  printf("{\"hostPid\":%d}\n", (int) child);
  fflush(stdout);
  int status;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) die_with_errno(errno, "init: waitpid");
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
