// init.c: PID 1 of a scoped process list's PID namespace: reaps, forwards, ends with its pipe.
#include "launcher.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
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

int init_main (void) {
  close_inherited_fds();
  if (unshare(CLONE_NEWPID) < 0) die_with_errno(errno, "init: unshare(CLONE_NEWPID)");
  pid_t child = fork();
  if (child < 0) die_with_errno(errno, "init: fork");
  if (child == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    // NOTE: run from a sealed copy (fexecve), it would otherwise show in ps as its fd number.
    prctl(PR_SET_NAME, "fusejail-init");
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
