// oci.h: the runtime's lifecycle half (front-end, verbs, state store, supervisor client, cgroups,
// hooks, console, log); spec.h is the config.json half.
#pragma once
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>
#include "spec.h"

/** The OCI root when --root is not given (podman 4.3's bare `state ID` relies on it being stable). */
#define OCI_DEFAULT_ROOT "/run/fusejail-oci"
#define OCI_SPEC_VERSION "1.2.0"

/** The global flags before the verb (runc's spelling; crun's --cgroup-manager too). */
struct oci_globals {
  const char *root;
  const char *log;
  bool log_json;
  bool systemd_cgroup;
  bool cgroups_disabled;  // --cgroup-manager disabled
  bool debug;
};
extern struct oci_globals g;

// log.c: every failure goes to stderr and, with --log, to the log file (one JSON line with json).
__attribute__((format(printf, 1, 2))) void oci_error (const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void oci_warn (const char *fmt, ...);
/** Writes the failure and returns the exit status 1. */
__attribute__((format(printf, 1, 2))) int fail (const char *fmt, ...);

// args.c: a verb's own options, `--opt value` and `--opt=value` alike.
struct opt {
  const char *long_name;  // without "--"
  char short_name;        // 0: none
  bool has_value;
  const char **value;     // set for valued options
  bool *flag;             // set for flags
};
/** Parses argv (after the verb); positionals are compacted into pos. Returns -1 after a message. */
int parse_opts (int argc, char **argv, const struct opt *opts, char ***pos, int *npos);
/** True when argv holds -h or --help among the options. */
bool wants_help (int argc, char **argv);

// state.c: <root>/<id>/ holds state.json, exec.fifo (start barrier) and config.json (a copy).
enum oci_status { ST_CREATING, ST_CREATED, ST_RUNNING, ST_STOPPED };
struct oci_state {
  char id[1024];
  char dir[4096];          // <root>/<id>
  char bundle[4096];
  char rootfs[4096];
  char created[64];        // RFC 3339
  char supervisor_name[256];
  char supervisor_dir[4096];  // the supervisor's state dir create talked to (podman calls delete without create's env)
  json_t *cgroups;         // the container's cgroup directories (one per v1 hierarchy, or v2's); [] when none
  pid_t pid;               // the init's host pid
  unsigned long long start_time;  // /proc/<pid>/stat field 22
  uid_t owner;
  json_t *annotations;
};
bool valid_id (const char *id);
int state_dir_path (const char *id, char *out, size_t size);
/** Loads <root>/<id>/state.json; -1 with errno ENOENT when there is no such container. */
int state_load (const char *id, struct oci_state *st);
int state_save (const struct oci_state *st);
enum oci_status state_status (const struct oci_state *st);
const char *status_name (enum oci_status s);
/** The runtime-spec state object (runc's extra fields included). */
json_t *state_json (const struct oci_state *st, enum oci_status s);
unsigned long long proc_start_time (pid_t pid);
bool pid_alive (pid_t pid, unsigned long long start_time);
void state_free (struct oci_state *st);
/** Removes <root>/<id> and what it holds. */
void state_remove_dir (const char *dir);
/** Writes a decimal pid (no newline) to path through a temp file and rename. */
int write_pid_file (const char *path, pid_t pid);
void rfc3339_now (char *out, size_t size);
/** The container of a verb's one ID argument (cmd_start.c); else a message ("... does not exist") and -1. */
int load_container (int argc, char **argv, const char *verb, struct oci_state *st);
/** The container's host pids: its cgroup's, else those in the init's PID namespace (cmd_ps.c). */
int container_pids (const struct oci_state *st, pid_t **pids, size_t *n);
/** Sends sig to the init through a pidfd opened after its start time was checked (cmd_kill.c). */
int signal_init (const struct oci_state *st, int sig);

// supervisor.c: the supervisor's newline-JSON protocol (started on demand like the Node client does).
/**
 * Sends {"v":1,"id":1,"op":op,...fields} (fields' reference taken) and returns the reply's result
 * (new ref), or NULL with code and msg set. With start, a supervisor is started when none answers;
 * else code is "UNAVAILABLE" (nothing of ours can be held by a supervisor that is not running).
 */
json_t *supervisor_request (const char *dir, const char *op, json_t *fields, bool start, char *code, size_t code_size, char *msg,
                            size_t msg_size);
/** $FUSEJAIL_STATE_DIR, else /run/fusejail: where create finds the supervisor. */
const char *supervisor_dir (void);
/** The checkout holding this binary (<checkout>/bin/fusejail, links resolved). */
int checkout_dir (char *out, size_t size);

// cgroup.c: cgroups v1 (memory, cpu, cpuacct, pids, devices) and v2, as absolute directories.
/**
 * The container's directories: cgroupsPath (slice:prefix:name with --systemd-cgroup, mapped to
 * SLICE/PREFIX-NAME.scope), else fusejail-oci/ID; absolute under each hierarchy's root, relative
 * under this process's own cgroup there.
 */
json_t *cgroup_dirs_for (const struct oci_spec *spec, const char *id, struct oci_error *e);
/** Creates the directories and applies spec.resources (device rules with linux.devices allowed). */
int cgroup_create (const json_t *dirs, const struct oci_spec *spec, struct oci_error *e);
int cgroup_join (const json_t *dirs, pid_t pid, struct oci_error *e);
/** The host pids in the cgroup; -1 when there is none. */
int cgroup_pids (const json_t *dirs, pid_t **pids, size_t *n);
void cgroup_remove (const json_t *dirs);

// hooks.c: runtime-spec hooks, run from the copy of config.json (`hooks.<name>` arrays).
/** Runs each hook of hooks[name] with the state on stdin; stops at the first failure (prestart to startContainer). */
int hooks_run (const json_t *config, const char *name, const json_t *state, struct oci_error *e);
/** Runs every hook of hooks[name] in the container's saved config.json, with its state as `status`; a failure is only warned about (poststart, poststop). */
void hooks_run_warning (const struct oci_state *st, const char *name, enum oci_status status);

// console.c: the pty master travels over --console-socket (SCM_RIGHTS, data = the slave's name).
/** Opens a pty in the current root's /dev/ptmx; returns the master, slave fd and name. */
int pty_open (int *master, int *slave, char *name, size_t name_size, unsigned short rows, unsigned short cols, struct oci_error *e);
/** Makes slave the controlling terminal and fds 0-2, and binds it on /dev/console. */
int pty_become_console (int slave, const char *name, struct oci_error *e);
int console_send (const char *socket_path, int master, const char *name, struct oci_error *e);
int send_fd (int sock, int fd, const void *data, size_t len);
int recv_fd (int sock, int *fd, void *data, size_t len);

// sync.c: the channel between a verb and the processes it forks (SOCK_SEQPACKET, fixed messages).
enum sync_type {
  SYNC_GO = 1,    // verb → child: go on (first: the child is in the cgroup; create: value = the init's host pid)
  SYNC_USERMAP,   // child → verb: in a new user namespace, write its uid/gid maps
  SYNC_INIT_PID,  // child → verb: value = the grandchild's host pid (the init, the exec'd process)
  SYNC_HOOKS,     // init → create: in the namespaces; run prestart/createRuntime, then GO
  SYNC_PTY,       // init/process → verb: the pty master (passed fd), message = the slave's name
  SYNC_READY,     // init → create: waiting at the start barrier
  SYNC_ERROR,     // any → verb: value = errno, message = what failed
};
struct sync_msg {
  int type;
  int value;
  char message[1024];
};
int sync_send (int fd, int type, int value, const char *message);
int sync_send_fd (int fd, int type, int passed, const char *message);
/** Reads one message (and a passed fd into *passed when not NULL). 0 at EOF. */
int sync_recv (int fd, struct sync_msg *m, int *passed);

// init.c: what create and exec fork (the container's init, an exec'd process).
struct init_args {
  const struct oci_spec *spec;       // create: the whole spec; exec: NULL
  const struct oci_process *process; // the process to run
  const json_t *seccomp;             // the container's linux.seccomp, or NULL
  const char *id, *state_dir, *mountpoint;
  bool no_pivot, no_new_keyring, jail;
  int sync;                          // the child's end of the sync channel
  int keep_fds;                      // fds 3..3+keep_fds-1 pass through (--preserve-fds, LISTEN_FDS)
};
/** create's child: namespaces, then the init as a grandchild; never returns. */
__attribute__((noreturn)) void init_create_child (const struct init_args *a);
/** exec's child: the container's namespaces, then the process as a grandchild; never returns. */
__attribute__((noreturn)) void init_exec_child (const struct init_args *a, pid_t container_init);
/** The number of fds from 3 on that pass through: max(--preserve-fds, LISTEN_FDS). */
int kept_fds (const char *preserve, int *out);
/** Waits up to ms for pid to be gone (pidfd, so not only for children); true when it is. */
bool wait_gone (pid_t pid, int ms);

// nsenter.c: namespaces in the order runc uses (joined ones first, user first among them).
/** In the forked child: joins spec's namespaces by path, creates the new ones (user maps by the parent). */
int ns_enter_for_create (const struct oci_spec *spec, int sync, struct oci_error *e);
int ns_write_maps (pid_t pid, const struct oci_spec *spec, struct oci_error *e);
/** Joins every namespace of pid that differs from ours, user first. */
int ns_join_pid (pid_t pid, struct oci_error *e);

// path.c: args[0] looked up with the container's PATH, inside the current root.
int find_executable (const char *name, char *const env[], char *out, size_t size, struct oci_error *e);

// The verbs (cmd_*.c): argc/argv start after the verb; each returns the exit status.
int cmd_create (int argc, char **argv);
int cmd_start (int argc, char **argv);
int cmd_state (int argc, char **argv);
int cmd_kill (int argc, char **argv);
int cmd_delete (int argc, char **argv);
int cmd_exec (int argc, char **argv);
int cmd_ps (int argc, char **argv);
int cmd_features (int argc, char **argv);
int cmd_spec (int argc, char **argv);
int cmd_list (int argc, char **argv);
