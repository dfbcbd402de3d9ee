// context-server: startup (serve request, table, mount), signals, and teardown.
//
// Setup order, once:
//   1. read the ServeRequest (the first line on fd 3);
//   2. drop CAP_FSETID for good, so every write reaching a host file clears set-id bits, and the
//      supplementary groups, so root's groups never grant a request acting as a caller access;
//   3. build the table in layout order (mounts, mkdirs, hidden paths) — nothing is served yet;
//   4. mount FUSE at the mountpoint and answer "ready";
//   5. serve until EOF on fd 3 or SIGTERM/SIGINT/SIGHUP; unmount exposed dirs, then the main one.
#include "context-server.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <grp.h>
#include <sys/syscall.h>
#include <unistd.h>

const char *opt_mountpoint;
static pthread_t main_thread;

const char *errno_name (int err) {
  const char *name = err > 0 ? strerrorname_np(err) : NULL;
  return name ? name : "EIO";
}

void die_failed (const char *code, const char *fmt, ...) {
  char message[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  control_send(json_pack("{s:s, s:{s:s, s:s}}", "event", "failed", "error", "code", code, "message", message));
  fprintf(stderr, "fusejail-context-server: %s\n", message);
  exit(1);
}

dev_t served_dev;

// The device of the filesystem mounted at `dir` (read from mountinfo: a stat would ask ourselves).
static dev_t mounted_dev (const char *dir) {
  FILE *f = fopen("/proc/self/mountinfo", "re");
  dev_t dev = 0;
  char line[4096];
  while (f && fgets(line, sizeof line, f)) {
    unsigned major, minor;
    char point[4096];
    if (sscanf(line, "%*u %*u %u:%u %*s %4095s", &major, &minor, point) == 3 && strcmp(point, dir) == 0) dev = makedev(major, minor);
  }
  if (f) fclose(f);
  return dev;
}

void request_shutdown (void) {
  if (session) fuse_session_exit(session);
  pthread_kill(main_thread, SIGTERM);
}

// NOTE: dropped from the permitted set too: setfsuid back to 0 would raise it again otherwise
// (capabilities(7), "Effect of user ID changes on capabilities").
static void drop_fsetid (void) {
  struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
  struct __user_cap_data_struct data[2];
  if (syscall(SYS_capget, &hdr, data) < 0) return;
  for (int i = 0; i < 2; i++) {
    data[i].effective &= ~(i == 0 ? CAP_TO_MASK(CAP_FSETID) : 0);
    data[i].permitted &= ~(i == 0 ? CAP_TO_MASK(CAP_FSETID) : 0);
    data[i].inheritable &= ~(i == 0 ? CAP_TO_MASK(CAP_FSETID) : 0);
  }
  if (syscall(SYS_capset, &hdr, data) < 0) die_failed("EPERM", "capset: cannot drop CAP_FSETID: %s", errno_name(errno));
}

static void build_table (json_t *table) {
  size_t i;
  json_t *op;
  char err[512];
  json_array_foreach(table, i, op) {
    const char *kind = json_string_value(json_object_get(op, "op"));
    kind = kind ? kind : "";
    if (strcmp(kind, "mount") == 0) {
      struct mount *m = NULL;
      int rc = backend_open(json_object_get(op, "mount"), &m, err, sizeof err);
      if (!rc && (rc = table_add(m, err, sizeof err))) mount_free(m);
      if (rc) die_failed(errno_name(-rc), "layout: %s", err);
    } else if (strcmp(kind, "mkdir") == 0) {
      const char *path = json_string_value(json_object_get(op, "path"));
      mode_t mode = (mode_t) json_integer_value(json_object_get(op, "mode"));
      int rc = path ? layout_mkdir(path, mode ? mode : 0755, err, sizeof err) : -EINVAL;
      if (rc) die_failed(errno_name(-rc), "layout: directory %s: %s", path ? path : "(none)", errno_name(-rc));
    } else if (strcmp(kind, "hide") == 0) {
      const char *path = json_string_value(json_object_get(op, "path"));
      if (path) table_hide(path);
    } else {
      die_failed("EINVAL", "layout: unknown table op \"%s\"", kind);
    }
  }
  if (!table_root()) die_failed("EINVAL", "layout: nothing is mounted at /");
}

int main (int argc, char **argv) {
  main_thread = pthread_self();
  signal(SIGPIPE, SIG_IGN);
  umask(0);  // NOTE: the kernel applies the caller's umask before a request reaches us
  // NOTE: the supervisor's working directory could lie under a mount we serve.
  if (chdir("/") < 0) return 1;
  // NOTE: one descriptor per open file and directory: take all the hard limit allows.
  struct rlimit nofile;
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
  if (fcntl(3, F_SETFD, FD_CLOEXEC) < 0) {
    fprintf(stderr, "fusejail-context-server: no control channel on fd 3\n");
    return 1;
  }
  control_init(3);

  // 1. The ServeRequest.
  char *line = control_read_line();
  if (!line) die_failed("EINVAL", "serve: no request on the control channel");
  json_error_t jerr;
  json_t *req = json_loads(line, 0, &jerr);
  free(line);
  if (!req) die_failed("EINVAL", "serve: bad JSON: %s", jerr.text);
  const char *op = json_string_value(json_object_get(req, "op"));
  if (!op || strcmp(op, "serve") != 0 || json_integer_value(json_object_get(req, "v")) != CONTROL_VERSION)
    die_failed("EPROTO", "serve: expected {\"op\":\"serve\",\"v\":%d}", CONTROL_VERSION);
  opt_mountpoint = json_string_value(json_object_get(req, "mountpoint"));
  const char *fsname = json_string_value(json_object_get(req, "fsname"));
  if (!opt_mountpoint || !fsname || strchr(fsname, ',')) die_failed("EINVAL", "serve: a mountpoint and an fsname without commas are required");
  json_t *exec = json_object_get(req, "exec");
  policy_set(json_is_true(json_object_get(exec, "jailed")), json_object_get(exec, "allow"));
  char err[512];
  if (identity_configure(json_object_get(req, "idmap"), err, sizeof err) < 0) die_failed("EINVAL", "%s", err);

  // 2. CAP_FSETID and the supplementary groups, before any thread exists: every thread starts without.
  drop_fsetid();
  if (setgroups(0, NULL) < 0) die_failed(errno_name(errno), "setgroups: cannot drop the supplementary groups: %s", errno_name(errno));

  // 3. The table.
  nodes_init();
  if (backends_init(err, sizeof err) < 0) die_failed("EIO", "%s", err);
  build_table(json_object_get(req, "table"));

  // 4. The mount.
  char options[1024];
  snprintf(options, sizeof options, "allow_other,default_permissions,nosuid,nodev,fsname=%s,subtype=fusejail", fsname);
  char *fargv[] = { argv[0], "-o", options, NULL };
  struct fuse_args args = FUSE_ARGS_INIT(3, fargv);
  session = fuse_session_new(&args, &context_ops, sizeof context_ops, NULL);
  if (!session) die_failed("EINVAL", "serve: fuse_session_new failed");
  if (fuse_set_signal_handlers(session) != 0) die_failed("EIO", "serve: cannot install signal handlers");
  if (fuse_session_mount(session, opt_mountpoint) != 0) die_failed("EIO", "serve: mount %s failed", opt_mountpoint);
  if (!getenv("FUSEJAIL_NO_PASSTHROUGH")) passthrough_install(session);
  served_dev = mounted_dev(opt_mountpoint);
  control_send(json_pack("{s:s, s:i, s:i}", "event", "ready", "v", CONTROL_VERSION, "pid", (int) getpid()));

  // NOTE: our own threads must not take the signals meant to stop the session loop.
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM), sigaddset(&block, SIGINT), sigaddset(&block, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  control_start();
  pthread_sigmask(SIG_SETMASK, &old, NULL);

  // 5. Serve, then tear down.
  struct fuse_loop_config *config = fuse_loop_cfg_create();
  fuse_loop_cfg_set_max_threads(config, 16);
  fuse_session_loop_mt(session, config);
  exposed_unmount_all();
  fuse_session_unmount(session);
  // NOTE: the signal handlers stay: a late SIGTERM (or the control thread's, on EOF) must not turn
  // this clean exit into a death by signal.
  _exit(0);
}
