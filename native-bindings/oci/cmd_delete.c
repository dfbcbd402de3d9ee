// cmd_delete.c: `delete [--force] ID`: what create made, undone: processes (created, or with
// --force), poststop hooks, the served root, the cgroup, the state dir.
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "oci.h"

/** Every process of the container killed, and waited for (so its mounts and cgroup are free). */
static void kill_all (const struct oci_state *st) {
  pid_t *pids;
  size_t n;
  signal_init (st, SIGKILL);
  container_pids (st, &pids, &n);
  for (size_t i = 0; i < n; i++) kill (pids[i], SIGKILL);
  for (size_t i = 0; i < n; i++) wait_gone (pids[i], 2000);
  free (pids);
  wait_gone (st->pid, 2000);
}

int cmd_delete (int argc, char **argv) {
  bool force = false;
  const struct opt opts[] = { { "force", 'f', false, NULL, &force }, { 0 } };
  if (wants_help (argc, argv))
    return printf ("usage: fusejail [global options] delete [--force] ID\n"
                   "Deletes a stopped (or created) container; --force kills a running one first.\n"),
           0;
  char **pos;
  int npos;
  if (parse_opts (argc, argv, opts, &pos, &npos) < 0) return 1;
  if (npos != 1) return fail ("delete needs exactly one container id");
  struct oci_state st;
  if (state_load (pos[0], &st) < 0) {
    // NOTE: runc: a forced delete of an unknown id succeeds; cleanups rely on it.
    if (force && errno == ENOENT) return 0;
    return errno == EINVAL ? fail ("invalid container id %s", pos[0]) : fail ("container %s does not exist", pos[0]);
  }
  enum oci_status s = state_status (&st);
  if (s == ST_RUNNING && !force) {
    state_free (&st);
    return fail ("cannot delete container %s that is not stopped: running", pos[0]);
  }
  // NOTE: a created container is killed and deleted, as runc and crun do.
  if (s != ST_STOPPED) kill_all (&st);
  char code[64], msg[1024];
  hooks_run_warning (&st, "poststop", ST_STOPPED);
  json_t *r = supervisor_request (st.supervisor_dir[0] ? st.supervisor_dir : supervisor_dir (), "oci-delete", json_pack ("{s:{s:s, s:s}}", "oci", "root", g.root, "id", st.id), false, code, sizeof code, msg, sizeof msg);
  if (!r && strcmp (code, "NOT_FOUND") != 0 && strcmp (code, "UNAVAILABLE") != 0) oci_warn ("the supervisor could not release container %s's root: %s", st.id, msg);
  json_decref (r);
  cgroup_remove (st.cgroups);
  state_remove_dir (st.dir);
  state_free (&st);
  return 0;
}
