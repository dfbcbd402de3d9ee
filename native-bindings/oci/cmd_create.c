// cmd_create.c: `create`: gather (config.json, the state dir, the served root, the cgroup), then
// fork the init and wait until it waits at the start barrier; any failure undoes all of it.
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "oci.h"

/** What create made so far, undone in reverse on failure. */
struct made {
  char dir[PATH_MAX];
  bool dir_made, context_made;
  json_t *cgroups;
  pid_t init;
};

static void undo (struct made *m, const char *id) {
  if (m->init > 0) {
    kill (m->init, SIGKILL);
    wait_gone (m->init, 5000);
  }
  cgroup_remove (m->cgroups);
  if (m->context_made) {
    char code[64], msg[1024];
    json_t *r = supervisor_request (supervisor_dir (), "oci-delete", json_pack ("{s:{s:s, s:s}}", "oci", "root", g.root, "id", id), false, code, sizeof code, msg, sizeof msg);
    if (!r) oci_warn ("could not release the container's root: %s", msg);
    json_decref (r);
  }
  if (m->dir_made) state_remove_dir (m->dir);
}

static int mkdir_p (const char *path, mode_t mode) {
  char copy[PATH_MAX];
  snprintf (copy, sizeof copy, "%s", path);
  for (char *p = copy + 1; *p; p++)
    if (*p == '/') {
      *p = '\0';
      if (mkdir (copy, mode) < 0 && errno != EEXIST) return -1;
      *p = '/';
    }
  return mkdir (copy, mode) < 0 && errno != EEXIST ? -1 : 0;
}

static void usage (void) {
  printf ("usage: fusejail [global options] create --bundle DIR --pid-file FILE [--console-socket SOCKET]\n"
          "                [--no-pivot] [--no-new-keyring] [--preserve-fds N] ID\n"
          "Creates the container ID from DIR/config.json; its init waits for `start`.\n");
}

/** The parent's side of the sync channel until the init waits at the barrier; 0 when it does. */
static int follow_init (int sync, pid_t child, const struct oci_spec *spec, const char *id, const char *console, const json_t *config,
                        struct made *made, struct oci_error *e) {
  struct sync_msg m;
  int passed;
  for (;;) {
    int r = sync_recv (sync, &m, &passed);
    if (r <= 0) return oci_fail (e, EPIPE, "the container's init exited during create");
    switch (m.type) {
    case SYNC_USERMAP:
      if (ns_write_maps (child, spec, e) < 0) return -1;
      sync_send (sync, SYNC_GO, 0, NULL);
      break;
    case SYNC_INIT_PID:
      made->init = m.value;
      waitpid (child, NULL, 0);
      break;
    case SYNC_HOOKS: {
      json_t *state = json_pack ("{s:s, s:s, s:s, s:I, s:s, s:O}", "ociVersion", OCI_SPEC_VERSION, "id", id, "status", "creating", "pid",
                                 (json_int_t) made->init, "bundle", spec->bundle, "annotations", spec->annotations);
      // NOTE: prestart (deprecated) and createRuntime run here, in the runtime's namespaces.
      r = hooks_run (config, "prestart", state, e);
      if (r == 0) r = hooks_run (config, "createRuntime", state, e);
      json_decref (state);
      if (r < 0) return -1;
      sync_send (sync, SYNC_GO, made->init, NULL);
      break;
    }
    case SYNC_PTY:
      if (!console) {
        close (passed);
        return oci_fail (e, EINVAL, "process.terminal is true but no --console-socket was given");
      }
      r = console_send (console, passed, m.message, e);
      close (passed);
      if (r < 0) return -1;
      break;
    case SYNC_READY:
      return 0;
    case SYNC_ERROR:
      return oci_fail (e, m.value, "%s", m.message);
    default:
      return oci_fail (e, EPROTO, "the container's init sent message %d", m.type);
    }
  }
}

int cmd_create (int argc, char **argv) {
  const char *bundle = ".", *pid_file = NULL, *console = NULL, *preserve = NULL, *pidfd_socket = NULL;
  bool no_pivot = false, no_new_keyring = false, detach = false;
  const struct opt opts[] = {
    { "bundle", 'b', true, &bundle, NULL },
    { "pid-file", 0, true, &pid_file, NULL },
    { "console-socket", 0, true, &console, NULL },
    { "preserve-fds", 0, true, &preserve, NULL },
    { "pidfd-socket", 0, true, &pidfd_socket, NULL },
    { "no-pivot", 0, false, NULL, &no_pivot },
    { "no-new-keyring", 0, false, NULL, &no_new_keyring },
    { "detach", 'd', false, NULL, &detach },
    { 0 },
  };
  if (wants_help (argc, argv)) return usage (), 0;
  char **pos;
  int npos, keep;
  if (parse_opts (argc, argv, opts, &pos, &npos) < 0) return 1;
  if (npos != 1) return fail ("create needs exactly one container id (see create --help)");
  const char *id = pos[0];
  if (!valid_id (id)) return fail ("invalid container id %s", id);
  if (pidfd_socket) return fail ("--pidfd-socket is not supported by fusejail");
  if (kept_fds (preserve, &keep) < 0) return fail ("--preserve-fds must be a number, not %s", preserve);

  // 1. Gather: config.json validated whole before anything is made.
  struct oci_spec spec;
  struct oci_error e = { 0 };
  char bundle_abs[PATH_MAX];
  if (!realpath (bundle, bundle_abs)) return fail ("bundle %s: %s", bundle, strerror (errno));
  if (spec_load (bundle_abs, &spec, &e) < 0) return fail ("%s", e.message);
#ifndef OCI_JAIL
  if (spec.jail) return spec_free (&spec), fail ("config.json: annotations.run.fusejail.jail: this build has no jail");
#endif
  if (spec.process.terminal && !console) return spec_free (&spec), fail ("process.terminal is true but no --console-socket was given");

  // 2. The state dir: made exclusively, so a second create of the same id fails here.
  struct made made = { 0 };
  if (state_dir_path (id, made.dir, sizeof made.dir) < 0) return spec_free (&spec), fail ("invalid container id %s", id);
  if (mkdir_p (g.root, 0700) < 0) return spec_free (&spec), fail ("--root %s: %s", g.root, strerror (errno));
  if (mkdir (made.dir, 0700) < 0) {
    int err = errno;
    spec_free (&spec);
    return err == EEXIST ? fail ("container with given ID already exists") : fail ("%s: %s", made.dir, strerror (err));
  }
  made.dir_made = true;
  char path[PATH_MAX], code[64], msg[1024];
  json_t *reply = NULL;
  int sv[2] = { -1, -1 };
  struct oci_state st = { 0 };
  snprintf (path, sizeof path, "%s/config.json", made.dir);
  // NOTE: a copy, so later verbs (exec's seccomp, delete's poststop hooks) ignore edits to the bundle.
  if (json_dump_file (spec.document, path, JSON_COMPACT) < 0) {
    oci_fail (&e, errno, "cannot write %s", path);
    goto failed;
  }

  // 3. The served root: a write-through bind of root.path over FUSE, held by the supervisor.
  // NOTE: served read-write even for root.readonly: missing mount destinations (podman's file binds)
  // are made inside it first; setup_rootfs_enter then makes the container's / read-only.
  reply = supervisor_request (supervisor_dir (), "oci-create",
                              json_pack ("{s:{s:s, s:s, s:s, s:s, s:b, s:b}}", "oci", "root", g.root, "id", id, "bundle", spec.bundle, "rootfs",
                                         spec.root_path, "readonly", false, "jail", spec.jail),
                              true, code, sizeof code, msg, sizeof msg);
  const char *mountpoint = json_string_value (json_object_get (reply, "root"));
  const char *name = json_string_value (json_object_get (reply, "name"));
  if (!reply || !mountpoint || !name) {
    oci_fail (&e, EIO, "the supervisor could not serve root.path %s: %s", spec.root_path, reply ? "its answer has no root" : msg);
    goto failed;
  }
  made.context_made = true;

  // 4. The cgroup (none with --cgroup-manager disabled: an empty list).
  made.cgroups = g.cgroups_disabled ? json_array () : cgroup_dirs_for (&spec, id, &e);
  if (!made.cgroups || cgroup_create (made.cgroups, &spec, &e) < 0) goto failed;
  snprintf (path, sizeof path, "%s/exec.fifo", made.dir);
  if (mkfifo (path, 0600) < 0) {
    oci_fail (&e, errno, "cannot make %s: %s", path, strerror (errno));
    goto failed;
  }

  // 5. Deploy: the child enters the namespaces and forks the init (init.c has the steps).
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    oci_fail (&e, errno, "socketpair: %s", strerror (errno));
    goto failed;
  }
  struct init_args a = { .spec = &spec, .process = &spec.process, .seccomp = spec.seccomp, .id = id, .state_dir = made.dir,
                         .mountpoint = mountpoint, .no_pivot = no_pivot, .no_new_keyring = no_new_keyring, .jail = spec.jail,
                         .sync = sv[1], .keep_fds = keep };
  pid_t child = fork ();
  if (child < 0) {
    oci_fail (&e, errno, "fork: %s", strerror (errno));
    goto failed;
  }
  if (child == 0) {
    close (sv[0]);
    init_create_child (&a);
  }
  close (sv[1]);
  sv[1] = -1;
  if (cgroup_join (made.cgroups, child, &e) < 0) {
    kill (child, SIGKILL);
    waitpid (child, NULL, 0);
    goto failed;
  }
  sync_send (sv[0], SYNC_GO, 0, NULL);
  if (follow_init (sv[0], child, &spec, id, console, spec.document, &made, &e) < 0) {
    if (!made.init) {
      kill (child, SIGKILL);
      waitpid (child, NULL, 0);
    }
    goto failed;
  }

  // 6. Recorded: state.json, the pid file, the supervisor told.
  snprintf (st.id, sizeof st.id, "%s", id);
  snprintf (st.dir, sizeof st.dir, "%s", made.dir);
  snprintf (st.bundle, sizeof st.bundle, "%s", spec.bundle);
  snprintf (st.rootfs, sizeof st.rootfs, "%s", spec.root_path);
  snprintf (st.supervisor_name, sizeof st.supervisor_name, "%s", name);
  snprintf (st.supervisor_dir, sizeof st.supervisor_dir, "%s", supervisor_dir ());
  rfc3339_now (st.created, sizeof st.created);
  st.pid = made.init;
  st.start_time = proc_start_time (made.init);
  st.owner = getuid ();
  st.annotations = spec.annotations;
  st.cgroups = made.cgroups;
  if (state_save (&st) < 0) {
    oci_fail (&e, errno, "cannot write %s/state.json: %s", made.dir, strerror (errno));
    goto failed;
  }
  if (pid_file && write_pid_file (pid_file, made.init) < 0) {
    oci_fail (&e, errno, "--pid-file %s: %s", pid_file, strerror (errno));
    goto failed;
  }
  json_t *told = supervisor_request (supervisor_dir (), "oci-started", json_pack ("{s:{s:s, s:s}, s:I}", "oci", "root", g.root, "id", id, "pid", (json_int_t) made.init),
                                     false, code, sizeof code, msg, sizeof msg);
  if (!told) {
    oci_fail (&e, EIO, "the supervisor did not take the container's pid: %s", msg);
    goto failed;
  }
  json_decref (told);
  json_decref (made.cgroups);
  json_decref (reply);
  close (sv[0]);
  spec_free (&spec);
  return 0;

failed:
  if (pid_file && made.init) unlink (pid_file);
  undo (&made, id);
  json_decref (made.cgroups);
  json_decref (reply);
  if (sv[0] >= 0) close (sv[0]);
  spec_free (&spec);
  return fail ("%s", e.message);
}
