// probe: runs inside a container and prints what it observes, one "name: result" line per check.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int result (const char *name, long rc) {
  printf("%s: %s\n", name, rc < 0 ? strerror(errno) : "ok");
  return 0;
}

int main (int argc, char **argv) {
  const char *what = argc > 1 ? argv[1] : "";
  if (strcmp(what, "clone3-newuser") == 0) {
    struct clone_args args = { .flags = CLONE_NEWUSER, .exit_signal = SIGCHLD };
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) _exit(0);
    if (pid > 0) waitpid((pid_t) pid, NULL, 0);
    return result("clone3-newuser", pid);
  }
  if (strcmp(what, "clone-newuser") == 0) {
    long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) _exit(0);
    if (pid > 0) waitpid((pid_t) pid, NULL, 0);
    return result("clone-newuser", pid);
  }
  if (strcmp(what, "tiocsti") == 0) {
    const char *text = argc > 2 ? argv[2] : "echo INJECTED\n";
    long rc = 0;
    for (const char *c = text; *c && rc == 0; c++) rc = ioctl(0, TIOCSTI, c);
    return result("tiocsti", rc);
  }
  if (strcmp(what, "fds") == 0) {
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    printf("fds:");
    while ((e = readdir(d)) != NULL) {
      if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d)) continue;
      printf(" %s", e->d_name);
    }
    printf("\n");
    return 0;
  }
  fprintf(stderr, "usage: probe clone3-newuser | clone-newuser | tiocsti [TEXT] | fds\n");
  return 2;
}
