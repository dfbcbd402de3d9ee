// driver.c: runs an OCI bundle with spec.c/setup.c alone (no lifecycle, no FUSE), for comparing
// what a process sees under fusejail's setup with what runc gives it. Built by hand:
//   cc -Inative-bindings/oci -o /tmp/oci-driver test/oci-driver/driver.c native-bindings/oci/{spec,setup,seccomp,names}.c -ljansson -lseccomp
// Usage: oci-driver [--no-pivot] BUNDLE   (as root; exits with the process's status, 128+N on signal N)
#define _GNU_SOURCE
#include "spec.h"

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int new_namespaces (const struct oci_spec *spec) {
  int flags = 0;
  for (size_t i = 0; i < spec->nnamespaces; i++) {
    if (spec->namespaces[i].type == CLONE_NEWUSER) return -1;
    if (!spec->namespaces[i].path) flags |= spec->namespaces[i].type;
  }
  return flags;
}

int main (int argc, char **argv) {
  bool no_pivot = argc > 2 && strcmp(argv[1], "--no-pivot") == 0;
  struct oci_spec spec;
  struct oci_error e;
  if (argc < 2 || spec_load(argv[argc - 1], &spec, &e) < 0) {
    fprintf(stderr, "oci-driver: %s\n", argc < 2 ? "usage: oci-driver [--no-pivot] BUNDLE" : e.message);
    return 125;
  }
  int flags = new_namespaces(&spec);
  if (flags < 0) {
    fprintf(stderr, "oci-driver: user namespaces need the lifecycle's uid/gid maps\n");
    return 125;
  }
  for (size_t i = 0; i < spec.nnamespaces; i++) {
    if (!spec.namespaces[i].path) continue;
    int fd = open(spec.namespaces[i].path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, spec.namespaces[i].type) < 0) {
      perror(spec.namespaces[i].path);
      return 125;
    }
    close(fd);
  }
  if (unshare(flags) < 0) {
    perror("unshare");
    return 125;
  }
  pid_t pid = fork();
  if (pid == 0) {
    if (setup_rootfs(&spec, spec.root_path, no_pivot, &e) < 0 || setup_process(&spec.process, spec.seccomp, &e) < 0) {
      fprintf(stderr, "oci-driver: %s\n", e.message);
      _exit(125);
    }
    environ = spec.process.env;
    execvp(spec.process.args[0], spec.process.args);
    fprintf(stderr, "oci-driver: cannot run %s: %m\n", spec.process.args[0]);
    _exit(127);
  }
  int status;
  if (pid < 0 || waitpid(pid, &status, 0) < 0) return 125;
  spec_free(&spec);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
