// launcher: the small program that does for fusejail what Node cannot do in a multithreaded process.
//
// Modes (argv[1]):
//   init            PID 1 of a new PID namespace (one per ScopedProcessList), with the list's
//                   network (only lo, up) and IPC namespaces, which launches join: reaps, forwards
//                   SIGTERM/SIGINT/SIGHUP, and ends the namespace when stdin (the supervisor's
//                   control pipe) reaches EOF. Prints {"hostPid":N} on stdout once running.
//   pin PATH NAME   creates a UTS namespace with hostname NAME and pins it by bind-mounting its
//                   nsfs file on PATH (one per HostnameContext), then exits.
//   pin-net PATH    creates a network namespace with lo up and pins it on PATH (a private network).
//   unpin PATH      releases a pinned namespace.
//   hostname PATH [NEW]  prints (or sets) the hostname of a pinned namespace.
//   launch          connects to the Unix socket $FUSEJAIL_SYNC names, reads the plan (one JSON
//                   line) from it and runs it inside the container; see main.c for the stage
//                   order. Reports on the same socket, JSON lines:
//                   {"event":"started","hostPid":N,"containerPid":M,"stages":[[NAME,NS]...]} (the
//                   end of each launch stage, CLOCK_MONOTONIC ns) or
//                   {"event":"failed","stage":S,"errno":E,"message":M}; with a terminal, also
//                   {"event":"exited","status":N} once "ESC ]fusejail-end;NONCE BEL" follows the
//                   payload's output, after which it waits for one byte back.
//
// Exit statuses (launch): the payload's own status; 128+N when it was killed by signal N;
// 125 when a setup stage failed; 126 when the command cannot be executed; 127 when it is not found.
#pragma once
#define _GNU_SOURCE
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum { EXIT_SETUP = 125, EXIT_CANNOT_EXEC = 126, EXIT_NOT_FOUND = 127 };

// A kernel filesystem the layout asks for (ProcFS, SysFS, DevPTS), mounted over its FUSE mount point.
enum kernel_fs { FS_PROC, FS_SYSFS, FS_DEVPTS };
struct kernel_mount {
  enum kernel_fs fs;
  const char *target;     // absolute, inside the container
  bool read_only;
  bool unmasked;          // proc without runc's masks: only test plans ask (the supervisor never does)
};

struct plan {
  char **argv;
  char **env;
  const char *cwd;
  const char *root;       // the FUSE mount serving the container's root
  const char *pidns;      // a process list's /proc/<init>/ns/pid to join, or NULL
  const char *utsns;      // a pinned UTS namespace to join, or NULL
  const char *hostname;   // with a new UTS namespace, when utsns is NULL
  const char *netns;      // a network namespace to join (a process list's), or NULL
  const char *ipcns;      // an IPC namespace to join (a process list's), or NULL
  bool new_net;           // with netns NULL: a new network namespace (only lo, up); else the host's
  bool new_ipc;           // with ipcns NULL: a new IPC namespace; else the host's
  char **cgroups;         // the container's cgroup directories (one per v1 hierarchy, or v2's), joined first
  struct kernel_mount *mounts;  // in layout order; proc gets runc's masks
  size_t nmounts;
  bool dev;               // mount a minimal /dev and a new devpts instance
  bool jail;
  bool tty;
  unsigned short rows, cols;
  uid_t uid;
  gid_t gid;
  gid_t *groups;
  size_t ngroups;
  const char *nonce;      // with a terminal: marks the end of the payload's output
  // A user namespace: container ids 0..size-1 are host ids uid.. and gid.. (size 0: none). With
  // userns_path, that one is joined (another process of the container made it); else a new one,
  // which the launcher's side maps.
  struct { uid_t uid; gid_t gid; unsigned size; } userns;
  const char *userns_path;
};

// A stage failure: written to the report, then the process exits with EXIT_SETUP.
struct failure {
  char stage[32];
  int err;
  char message[256];
};

__attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt, ...);
__attribute__((noreturn, format(printf, 2, 3))) void die_with_errno(int err, const char *fmt, ...);

// plan.c
int plan_parse(const char *json, struct plan *plan, char *error, size_t error_size);

// rootfs.c: everything from "make / private" to pivot_root; fails with *f filled in.
int rootfs_enter(const struct plan *plan, struct failure *f);

// net.c: lo up in the current (new) network namespace.
int net_loopback_up(struct failure *f);

// userns.c: the launcher's side writes the payload's uid_map and gid_map.
int userns_map(pid_t pid, const struct plan *plan, struct failure *f);

// jail.c: the bounding set (before the uid changes), then capabilities, no_new_privs, seccomp.
int jail_drop_bounding(struct failure *f);
int jail_apply(struct failure *f);

// report.c: one connection for the whole launch: the plan comes in on it, the reports go out.
int report_open_from_env(const char *name);
char *report_read_plan(int fd);
// The end of a launch stage, CLOCK_MONOTONIC in ns (the clock Node's process.hrtime reads).
struct stamp {
  const char *name;
  long long ns;
};
void report_started(int fd, pid_t host_pid, pid_t container_pid, const struct stamp *stamps, size_t n);
void report_failed(int fd, const struct failure *f);
void report_exited(int fd, int status);
void report_wait_ack(int fd, int ms);

// sealed.c: re-executes from a sealed memfd copy (returns only when already running from one).
void run_sealed(char **argv);

// util
int fail_with(struct failure *f, const char *stage, int err, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void close_inherited_fds(void);
long long monotonic_ns(void);
