// context-server: one VFS root context served over FUSE (libfuse3 low-level), driven over fd 3.
//
// The supervisor writes a ServeRequest (src/context-server/table.ts) as the first JSON line; the
// server builds its mount table, mounts, answers {"event":"ready"} and then serves until the
// control channel reaches EOF or a SIGTERM/SIGINT/SIGHUP arrives, when it unmounts and exits 0.
// Fatal setup errors: {"event":"failed",...} and exit 1.
//
// Every backend is a descriptor (a host directory or file opened without following symlinks, or a
// detached tmpfs/overlayfs mount of the server's own), so the server is one generic passthrough
// with a mount table in front. Host objects are reached with openat2(RESOLVE_BENEATH |
// RESOLVE_NO_SYMLINKS) from the mount's root descriptor: a symlink swapped in at any moment fails
// with ELOOP and never leads out.
#pragma once
#define _GNU_SOURCE
#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

enum { CONTROL_VERSION = 1 };

enum mount_type { M_RAMFS, M_BIND, M_COPY, M_SYMLINK, M_MOUNTPOINT, M_SHARE, M_HANDLE };

struct mount {
  uint64_t id;            // never reused: nodes remember it to notice a removed mount (ESTALE)
  char *target;           // absolute, canonical
  size_t target_len;
  enum mount_type type;
  bool read_only;
  bool host;              // host objects (bind, handle, share of those): host-safety rules apply
  bool cache_long;        // server-owned or read-only: 86400 s timeouts and kept caches
  int root_fd;            // O_PATH: the directory, file or symlink this mount shows at target
  int store_fd;           // a private tmpfs/overlay mount kept alive for this mount, or -1
};

// table.c: the mount table, its lock, hidden paths.
extern pthread_rwlock_t table_lock;
struct mount *table_resolve(const char *path, const char **inner);
bool table_hidden(const char *path);
bool table_busy(const char *path);
int table_child_names(const char *dir, char ***names);
int table_add(struct mount *m, char *err, size_t errlen);
int table_remove(const char *target, char *err, size_t errlen);
void table_hide(const char *path);
struct mount *table_root(void);
struct mount *table_by_id(uint64_t id);
void mount_free(struct mount *m);

// backends.c: building a mount's descriptor from a ServedMount.
int backends_init(char *err, size_t errlen);
int backend_open(json_t *spec, struct mount **out, char *err, size_t errlen);
int mount_open(struct mount *m, const char *inner, int flags);
int mount_parent(struct mount *m, const char *inner, const char **name);

// nodes.c: the inode table; a node is a path (parent + name) within the tree, no descriptor.
struct node;
struct alias {
  struct node *parent;
  char *name;
  struct node *node;
  struct alias *next_of_node;
  struct alias *next_in_hash;
};
struct node {
  uint64_t serial;        // st_ino shown to processes
  uint64_t mount_id;      // 0: synthesised directory on the way to a mount target
  dev_t dev;
  ino_t ino;
  uint64_t nlookup;
  uint64_t refs;          // aliases whose parent is this node
  struct alias *names;    // first = the name used to reach it
  struct node *next_in_hash;
  int32_t backing_id;     // passthrough.c: the kernel backing file all its opens share, or 0
  uint32_t passthrough_opens, cached_opens;
  struct timespec seen_mtime;  // ops.c: the host file as its last open saw it (whether its pages
  off_t seen_size;             // may be kept: unchanged since)
};
extern struct node *root_node;
void nodes_init(void);
void nodes_lock(void);
void nodes_unlock(void);
struct node *node_of(fuse_ino_t ino);
fuse_ino_t node_ino(struct node *n);
char *node_path(struct node *n);
char **node_paths(struct node *n);
fuse_ino_t *node_inos_of(uint64_t mount_id);
struct node *node_get(uint64_t mount_id, dev_t dev, ino_t ino, struct node *parent, const char *name);
void node_forget(struct node *n, uint64_t count);
struct node *node_child(struct node *parent, const char *name);
void node_unlink(struct node *parent, const char *name);
void node_rename(struct node *p1, const char *n1, struct node *p2, const char *n2, bool exchange);
struct node *node_find(uint64_t mount_id, dev_t dev, ino_t ino);

// identity.c: the ids replies show (an idmap) and the host identity a request acts as.
struct identity {
  bool act;               // false: the server's own (root); true: fsuid/fsgid uid, gid
  uid_t uid;
  gid_t gid;
};
struct identity_saved {  // what identity_leave needs
  bool entered, nested, changed;
  uid_t uid;
  gid_t gid;
};
int identity_configure(json_t *idmap, char *err, size_t errlen);
void identity_show(struct stat *st);
struct identity identity_for(fuse_req_t req, const struct mount *m);
int identity_enter(struct identity id, struct identity_saved *saved);
void identity_leave(struct identity_saved *saved);
bool identity_acting_as(uid_t uid, gid_t gid);
int identity_chown(int fd, const struct stat *st, uid_t uid, gid_t gid);

// resolve.c: a request's node or name → the mount holding it and the path inside that mount.
// A node resolved for one request: the table's read lock is held until `done`.
struct at {
  struct node *node;      // NULL for a child not looked up yet
  char *path;             // in the tree
  struct mount *holder;   // the mount holding `path`
  struct mount *m;        // = holder, or NULL when `path` is a synthesised directory
  const char *inner;      // the path inside holder ("/" for its root)
  struct identity id;     // what the request's host syscalls act as until `done`
  struct identity_saved saved;
};
enum { LONG_TIMEOUT = 86400, SHORT_TIMEOUT = 1, NEGATIVE_TIMEOUT = 1 };
extern struct timespec started;  // synthesised directories' times
void done(struct at *a);
char *join(const char *dir, const char *name);
int resolve_path(fuse_req_t req, struct at *a, char *path);
int resolve_node(fuse_req_t req, struct at *a, fuse_ino_t ino);
int resolve_child(fuse_req_t req, struct at *a, fuse_ino_t parent, const char *name, bool creating);
int resolve_orphan(fuse_req_t req, struct at *a, fuse_ino_t ino, int *obj);
double timeout(struct mount *m);
void synth_stat(struct stat *st);
int stat_at(struct at *a, struct stat *st);
int lookup_entry(fuse_req_t req, fuse_ino_t parent, const char *name, struct fuse_entry_param *e);
void reply_entry(fuse_req_t req, fuse_ino_t parent, const char *name);
int proc_path(char *buf, size_t len, int fd);
int parent_for_create(struct at *a, const char **last);
int layout_mkdir(const char *path, mode_t mode, char *err, size_t errlen);
int locate_path(const char *path, int *fd, bool *dir, uint64_t *mount_id);

// hostview.c: a host process following a container's symlink stays inside the root.
bool hostview_leads_out(const char *target);
bool hostview_outside(pid_t pid);
bool hostview_container(pid_t pid);
int hostview_link(const char *link_path, const char *target, char *out, size_t len);

// ops.c, dirs.c, xattrs.c: the FUSE operations.
extern const struct fuse_lowlevel_ops context_ops;
void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi);
void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi);
void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi);
void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size, int flags);
void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size);
void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name);

// policy.c
void policy_set(bool jailed, json_t *allow);
const char *policy_decide(char *const *paths, int fd, mode_t mode, pid_t pid, const char **path);

// control.c
extern struct fuse_session *session;
void control_init(int fd);
char *control_read_line(void);
void control_send(json_t *msg);
void control_start(void);
void event_launch(const char *path, pid_t pid, uid_t uid, const char *refused);
__attribute__((format(printf, 1, 2))) void event_log(const char *fmt, ...);
void notify_path(const char *target);
void exposed_unmount_all(void);

// passthrough.c: kernel passthrough through a reply hook (gated on the kernel offering it).
void passthrough_install(struct fuse_session *se);
enum pass { PASS_NO, PASS_WRITES, PASS_LARGE_READ_ONLY };
void passthrough_opened(struct node *n, int fd, enum pass pass, int (*reopen)(void *), void *ctx);
void passthrough_released(struct node *n, int fd);
bool passthrough_enabled(void);
int node_open_fd(struct node *n);

// main.c
__attribute__((noreturn, format(printf, 2, 3))) void die_failed(const char *code, const char *fmt, ...);
const char *errno_name(int err);
void request_shutdown(void);
extern const char *opt_mountpoint;
extern dev_t served_dev;  // our own FUSE filesystem: never entered through a backend
