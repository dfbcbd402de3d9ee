// spec.h: an OCI bundle's config.json, validated, as the runtime uses it (runtime-spec 1.0–1.2).
//
// NOTE: the contract between the two halves of the OCI runtime: spec.c/setup.c/seccomp.c read
// config.json and prepare a container process inside its namespaces; the lifecycle (main.c,
// create/start/state/kill/delete/exec) decides when. What fusejail does not support is refused by
// spec_load with the JSON path named, never ignored.
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

/** A failure: errno-like code and a message naming the input ("config.json: mounts[3].type ..."). */
struct oci_error {
  int err;
  char message[1024];
};

int oci_fail (struct oci_error *e, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

struct oci_mount {
  char *destination;  // absolute, inside the container
  char *type;         // "bind" for bind/rbind; else the filesystem type
  char *source;       // absolute host path for binds (relative ones resolved against the bundle)
  unsigned long flags;        // MS_* from options (MS_BIND|MS_REC for rbind, MS_RDONLY, MS_NOSUID...)
  unsigned long propagation;  // MS_PRIVATE/MS_SLAVE/MS_SHARED/MS_UNBINDABLE (| MS_REC), or 0
  char *data;                 // the remaining options, comma-joined (e.g. "mode=755,size=65536k"), or NULL
};

struct oci_namespace {
  int type;    // CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWCGROUP
  char *path;  // join this one (setns) instead of creating a new one; NULL: new
};

struct oci_idmap {
  uint32_t container, host, size;
};

struct oci_rlimit {
  int resource;  // RLIMIT_*
  rlim_t soft, hard;
};

struct oci_device {
  char *path;
  char type;  // 'c', 'b', 'u' (= 'c'), 'p'
  int64_t major, minor;
  mode_t mode;  // permission bits; 0666 when absent
  uid_t uid;
  gid_t gid;
};

struct oci_hook {
  char *path;
  char **args;  // NULL-terminated, may be empty
  char **env;   // NULL-terminated, may be empty
  int timeout;  // seconds; 0: none
};

struct oci_hooks {
  struct oci_hook *prestart, *create_runtime, *create_container, *start_container, *poststart, *poststop;
  size_t nprestart, ncreate_runtime, ncreate_container, nstart_container, npoststart, npoststop;
};

/** `process` of config.json, and the whole of an `exec --process` file. */
struct oci_process {
  bool terminal;
  unsigned short rows, cols;  // consoleSize; 0 when absent
  char **args;                // NULL-terminated, at least one
  char **env;                 // NULL-terminated
  char *cwd;                  // absolute
  uid_t uid;
  gid_t gid;
  gid_t *additional_gids;
  size_t nadditional_gids;
  bool has_umask;
  mode_t umask;
  bool has_capabilities;      // false: leave capabilities as they are (runc: as for root)
  uint64_t caps[5];           // bit masks (1ULL << CAP_X): indexed by enum oci_capset
  struct oci_rlimit *rlimits;
  size_t nrlimits;
  bool no_new_privileges;
  bool has_oom_score_adj;
  int oom_score_adj;
};

enum oci_capset { CAPS_BOUNDING, CAPS_EFFECTIVE, CAPS_PERMITTED, CAPS_INHERITABLE, CAPS_AMBIENT };

/** linux.resources.devices[i]: a device cgroup rule (enforced on cgroup v1 only). */
struct oci_device_rule {
  bool allow;
  char type;             // 'a', 'c' or 'b'
  int64_t major, minor;  // -1: any
  char access[4];        // a non-empty subset of "rwm"
};

struct oci_resources {
  struct oci_device_rule *device_rules;  // in the listed order
  size_t ndevice_rules;
  int64_t memory_limit;   // bytes; -1: none
  int64_t memory_reservation;  // bytes; -1: none (v1 soft limit, v2 memory.low)
  int64_t memory_swap;    // bytes; -1: none
  int64_t cpu_quota;      // microseconds per period; -1: none
  uint64_t cpu_period;    // microseconds; 0: default
  uint64_t cpu_shares;    // 0: none
  int64_t pids_limit;     // -1 or 0: none
};

struct oci_spec {
  json_t *document;         // the parsed config.json (owns every string below)
  char *bundle;             // absolute
  char *oci_version;
  char *root_path;          // absolute real path of root.path (resolved against the bundle)
  bool root_readonly;
  char *hostname;           // NULL when absent
  struct oci_process process;
  struct oci_mount *mounts;
  size_t nmounts;
  struct oci_namespace *namespaces;
  size_t nnamespaces;
  struct oci_idmap *uid_mappings, *gid_mappings;
  size_t nuid_mappings, ngid_mappings;
  char **masked_paths, **readonly_paths;  // NULL-terminated
  char **sysctl_keys, **sysctl_values;    // NULL-terminated, same length
  struct oci_device *devices;
  size_t ndevices;
  char *cgroups_path;       // NULL: the runtime picks one
  struct oci_resources resources;
  json_t *seccomp;          // linux.seccomp as given, or NULL; compiled by oci_seccomp_load
  char *rootfs_propagation; // linux.rootfsPropagation or NULL
  struct oci_hooks hooks;
  json_t *annotations;      // object, possibly empty
  bool jail;                // annotation run.fusejail.jail = "true"
};

/** Reads and validates BUNDLE/config.json. Unsupported keys are refused with their JSON path. */
int spec_load (const char *bundle, struct oci_spec *spec, struct oci_error *e);

/** Reads an `exec --process` file (a runtime-spec `process` object). */
int spec_load_process (const char *path, struct oci_process *process, struct oci_error *e);

/** The namespace of `type` in the spec, or NULL. */
const struct oci_namespace *spec_namespace (const struct oci_spec *spec, int type);

/*
 * setup.c: run by the container's init, in order, after it is in its namespaces (new mount
 * namespace included) and before it waits for `start`:
 *   setup_rootfs: / made private (or rootfsPropagation), the served root (`root`: a host directory,
 *     the FUSE mountpoint, named in messages; the caller's cwd, entered before the namespaces) bound on itself, every mounts[] entry in order on top of it (binds, tmpfs,
 *     proc, sysfs, devpts, mqueue, cgroup), the default devices and linux.devices, /dev/ptmx,
 *     /dev/fd etc. links, maskedPaths, readonlyPaths, sysctl, then pivot_root (chroot with
 *     no_pivot), root.readonly applied.
 *   setup_process: umask, rlimits, oom_score_adj, chdir(cwd, created if missing), groups/gid/uid
 *     (capabilities kept across the uid change with PR_SET_KEEPCAPS), the five capability sets,
 *     no_new_privs, then seccomp (last). The environment and exec are the caller's.
 */
int setup_rootfs (const struct oci_spec *spec, const char *root, bool no_pivot, struct oci_error *e);

/**
 * setup_rootfs in two halves, for createContainer hooks (runtime-spec: in the container's
 * namespaces, after its mounts, before pivot_root): _prepare does everything up to pivot_root
 * (propagation, root bind, mounts[], /dev, sysctl, hostname and domainname); _enter does
 * pivot_root (or MS_MOVE + chroot), readonlyPaths, maskedPaths and root.readonly.
 */
int setup_rootfs_prepare (const struct oci_spec *spec, const char *root, struct oci_error *e);
int setup_rootfs_enter (const struct oci_spec *spec, const char *root, bool no_pivot, struct oci_error *e);
int setup_process (const struct oci_process *process, const json_t *seccomp, struct oci_error *e);

/** seccomp.c: compiles a runtime-spec seccomp object with libseccomp and loads it. */
int oci_seccomp_load (const json_t *seccomp, struct oci_error *e);

void spec_free (struct oci_spec *spec);
void process_free (struct oci_process *process);
