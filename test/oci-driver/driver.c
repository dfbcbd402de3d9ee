// driver.c: runs an OCI bundle with spec.c/setup.c alone (no lifecycle, no FUSE), for comparing
// what a process sees under fusejail's setup with what runc gives it. Built by hand:
//   cc -Inative-bindings/oci -o /tmp/oci-driver test/oci-driver/driver.c native-bindings/oci/{spec,setup,seccomp,names}.c -ljansson -lseccomp
// Usage: oci-driver [--no-pivot] [--root DIR] BUNDLE   (as root; exits with the process's status,
// 128+N on signal N). --root enters DIR (e.g. a FUSE mount serving root.path) instead of root.path.
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
    if (!spec->namespaces[i].path && spec->namespaces[i].type != CLONE_NEWUSER) flags |= spec->namespaces[i].type;
  }
  return flags;
}

static int wait_status (pid_t pid) {
  int status;
  if (pid < 0 || waitpid(pid, &status, 0) < 0) return 125;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void write_map (pid_t pid, const char *name, const struct oci_idmap *map, size_t n) {
  char path[64], text[4096] = "";
  snprintf(path, sizeof path, "/proc/%d/%s", pid, name);
  for (size_t i = 0; i < n; i++) {
    snprintf(text + strlen(text), sizeof text - strlen(text), "%u %u %u\n", map[i].container, map[i].host, map[i].size);
  }
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, text, strlen(text)) < 0) perror(path);
  close(fd);
}

/**
 * A new user namespace needs its maps written from outside: the child unshares it and waits for
 * one byte; the parent writes the maps, sends the byte and waits for the child's status.
 */
static void enter_user_namespace (const struct oci_spec *spec) {
  int ready[2], go[2];
  if (pipe(ready) < 0 || pipe(go) < 0) exit(125);
  pid_t pid = fork();
  if (pid > 0) {
    char c;
    close(ready[1]);
    close(go[0]);
    if (read(ready[0], &c, 1) == 1) {
      write_map(pid, "uid_map", spec->uid_mappings, spec->nuid_mappings);
      write_map(pid, "gid_map", spec->gid_mappings, spec->ngid_mappings);
      if (write(go[1], "g", 1) < 0) perror("sync");
    }
    exit(wait_status(pid));
  }
  char c;
  if (pid < 0 || unshare(CLONE_NEWUSER) < 0 || write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1) {
    perror("user namespace");
    exit(125);
  }
  close(ready[0]);
  close(ready[1]);
  close(go[0]);
  close(go[1]);
}

int main (int argc, char **argv) {
  bool no_pivot = false;
  const char *root = NULL;
  for (int i = 1; i < argc - 1; i++) {
    if (strcmp(argv[i], "--no-pivot") == 0) no_pivot = true;
    else if (strcmp(argv[i], "--root") == 0 && i + 1 < argc - 1) root = argv[++i];
  }
  struct oci_spec spec;
  struct oci_error e;
  if (argc < 2 || spec_load(argv[argc - 1], &spec, &e) < 0) {
    fprintf(stderr, "oci-driver: %s\n", argc < 2 ? "usage: oci-driver [--no-pivot] [--root DIR] BUNDLE" : e.message);
    return 125;
  }
  // NOTE: setup_rootfs binds the root from the cwd (entered before a user namespace, as init.c does).
  if (chdir(root ? root : spec.root_path) < 0) {
    perror(root ? root : spec.root_path);
    return 125;
  }
  int flags = new_namespaces(&spec);
  const struct oci_namespace *user = spec_namespace(&spec, CLONE_NEWUSER);
  if (user && !user->path) enter_user_namespace(&spec);
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
    if (setup_rootfs(&spec, root ? root : spec.root_path, no_pivot, &e) < 0 || setup_process(&spec.process, spec.seccomp, &e) < 0) {
      fprintf(stderr, "oci-driver: %s\n", e.message);
      _exit(125);
    }
    environ = spec.process.env;
    execvp(spec.process.args[0], spec.process.args);
    fprintf(stderr, "oci-driver: cannot run %s: %m\n", spec.process.args[0]);
    _exit(127);
  }
  int status = wait_status(pid);
  spec_free(&spec);
  return status;
}
