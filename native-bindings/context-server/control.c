// The JSON-lines control channel on fd 3: requests, replies, and the queue of events.
#include "context-server.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

struct fuse_session *session;
static int control_fd = -1;
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;

// NOTE: FUSE requests never wait on the channel: events go to a bounded queue that one writer
// thread drains; when it is full they are counted and reported in a log event instead.
enum { QUEUE_SIZE = 1024 };
static char *queue[QUEUE_SIZE];
static size_t q_head, q_len;
static unsigned long q_dropped, log_dropped;
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;

static char **exposed;
static size_t nexposed;
static int *located;
static size_t nlocated;

void control_init (int fd) { control_fd = fd; }

static void write_all (const char *line) {
  size_t len = strlen(line);
  pthread_mutex_lock(&write_lock);
  for (size_t done = 0; done < len;) {
    ssize_t n = write(control_fd, line + done, len - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += (size_t) n;
  }
  pthread_mutex_unlock(&write_lock);
}

static char *line_of (json_t *msg) {
  char *text = json_dumps(msg, JSON_COMPACT);
  json_decref(msg);
  if (!text) return NULL;
  size_t len = strlen(text);
  char *line = realloc(text, len + 2);
  if (!line) {
    free(text);
    return NULL;
  }
  line[len] = '\n', line[len + 1] = '\0';
  return line;
}

// Synchronous: only the main and control threads use it, never a FUSE request.
void control_send (json_t *msg) {
  char *line = line_of(msg);
  if (line) write_all(line);
  free(line);
}

static void enqueue (json_t *msg) {
  char *line = line_of(msg);
  pthread_mutex_lock(&q_lock);
  if (!line || q_len == QUEUE_SIZE) {
    q_dropped++;
    free(line);
  } else {
    queue[(q_head + q_len++) % QUEUE_SIZE] = line;
    pthread_cond_signal(&q_cond);
  }
  pthread_mutex_unlock(&q_lock);
}

static void *writer (void *arg) {
  for (;;) {
    pthread_mutex_lock(&q_lock);
    while (q_len == 0 && q_dropped == 0) pthread_cond_wait(&q_cond, &q_lock);
    char *line = NULL;
    unsigned long dropped = q_dropped;
    if (q_len > 0) {
      line = queue[q_head];
      q_head = (q_head + 1) % QUEUE_SIZE, q_len--;
    }
    q_dropped = 0;
    pthread_mutex_unlock(&q_lock);
    if (line) write_all(line);
    free(line);
    if (dropped) {
      char *note = line_of(json_pack("{s:s, s:s, s:I}", "event", "log", "message", "event queue full: events dropped", "dropped", (json_int_t) dropped));
      if (note) write_all(note);
      free(note);
    }
  }
  return NULL;
}

void event_launch (const char *path, pid_t pid, uid_t uid, const char *refused) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  json_t *launch = json_pack("{s:I, s:s, s:I, s:I, s:b}", "time", (json_int_t) now.tv_sec * 1000 + now.tv_nsec / 1000000,
                             "path", path, "pid", (json_int_t) pid, "uid", (json_int_t) uid, "allowed", refused == NULL);
  if (launch && refused) json_object_set_new(launch, "reason", json_string(refused));
  if (launch) enqueue(json_pack("{s:s, s:o}", "event", "launch", "launch", launch));
}

// At most a few diagnostics a second; the rest are counted in the next one's `dropped`.
void event_log (const char *fmt, ...) {
  static time_t window;
  static int sent;
  char message[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  pthread_mutex_lock(&q_lock);
  time_t now = time(NULL);
  if (now != window) window = now, sent = 0;
  bool send = sent < 5;
  unsigned long dropped = 0;
  if (send) sent++, dropped = log_dropped, log_dropped = 0;
  else log_dropped++;
  pthread_mutex_unlock(&q_lock);
  if (send) enqueue(json_pack("{s:s, s:s, s:I}", "event", "log", "message", message, "dropped", (json_int_t) dropped));
}

// NOTE: a serve request carries the whole table and allow list: lines may be long (16 MiB at most).
char *control_read_line (void) {
  static char *buf;
  static size_t have, size;
  for (;;) {
    char *nl = buf ? memchr(buf, '\n', have) : NULL;
    if (nl) {
      size_t len = (size_t) (nl - buf);
      char *line = strndup(buf, len);
      memmove(buf, nl + 1, have - len - 1);
      have -= len + 1;
      return line;
    }
    if (have == size) {
      if (size >= (16u << 20)) have = 0;  // NOTE: an over-long line is dropped, not half-parsed
      else {
        char *grown = realloc(buf, size ? size * 2 : 1 << 16);
        if (!grown) return NULL;
        buf = grown, size = size ? size * 2 : 1 << 16;
      }
    }
    ssize_t n = read(control_fd, buf + have, size - have);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return NULL;
    have += (size_t) n;
  }
}

// Expires every name on the way to `target` the kernel knows, and refreshes their listings, so
// a running process sees a table edit at once.
// NOTE: expire, not inval_entry: invalidating a name that is a mountpoint detaches the kernel
// mounts on it (a container's /proc would vanish) — see fuse-engine.md.
void notify_path (const char *target) {
  char *copy = strdup(target);
  if (!copy) return;
  struct node *dir = root_node;
  for (char *save = NULL, *name = strtok_r(copy, "/", &save); name && dir; name = strtok_r(NULL, "/", &save)) {
    fuse_lowlevel_notify_expire_entry(session, node_ino(dir), name, strlen(name), FUSE_LL_EXPIRE_ONLY);
    fuse_lowlevel_notify_inval_inode(session, node_ino(dir), 0, 0);
    dir = node_child(dir, name);
  }
  free(copy);
}

static json_t *error_json (int err, const char *message) {
  return json_pack("{s:s, s:s}", "code", errno_name(err), "message", message);
}

static bool inside (const char *path, const char *dir) {
  size_t l = strlen(dir);
  return strncmp(path, dir, l) == 0 && (path[l] == '\0' || path[l] == '/');
}

// Serves the same root at `dir` too: a bind mount of our mount, the same FUSE connection.
static int expose (const char *dir, char *err, size_t errlen) {
  // NOTE: checked by name before any syscall touches `dir`: the server must never do I/O on a
  // path it serves itself.
  if (dir[0] != '/' || strstr(dir, "/..") || strstr(dir, "/./")) {
    snprintf(err, errlen, "expose %s: not an absolute canonical path", dir);
    return -EINVAL;
  }
  bool ours = inside(dir, opt_mountpoint);
  for (size_t i = 0; i < nexposed; i++) ours = ours || inside(dir, exposed[i]);
  if (ours) {
    snprintf(err, errlen, "expose %s: lies inside a mountpoint this server serves", dir);
    return -EBUSY;
  }
  struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC, .resolve = RESOLVE_NO_SYMLINKS };
  int fd = (int) syscall(SYS_openat2, AT_FDCWD, dir, &how, sizeof how);
  if (fd < 0) {
    int e = errno;
    snprintf(err, errlen, "expose %s: %s", dir, e == ENOTDIR ? "not a directory" : errno_name(e));
    return -e;
  }
  int rc = 0;
  struct statx stx;
  char proc[32];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx) == 0 && (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
      (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT)) {
    rc = -EINVAL;
    snprintf(err, errlen, "expose %s: already a mountpoint", dir);
  }
  if (!rc) {
    int d = open(proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    char buf[256];
    long n = d < 0 ? -1 : syscall(SYS_getdents64, d, buf, sizeof buf);
    // NOTE: "." and ".." take 48 bytes at most; anything more is an entry.
    if (n > 48) rc = -ENOTEMPTY, snprintf(err, errlen, "expose %s: not empty", dir);
    if (d >= 0) close(d);
  }
  if (!rc && mount(opt_mountpoint, proc, NULL, MS_BIND, NULL) < 0) {
    rc = -errno;
    snprintf(err, errlen, "expose %s: mount: %s", dir, errno_name(errno));
  }
  close(fd);
  if (!rc) {
    char **grown = realloc(exposed, (nexposed + 1) * sizeof *exposed);
    if (grown) exposed = grown, exposed[nexposed++] = strdup(dir);
  }
  return rc;
}

void exposed_unmount_all (void) {
  for (size_t i = nexposed; i-- > 0;)
    if (umount2(exposed[i], 0) < 0) umount2(exposed[i], MNT_DETACH);
  nexposed = 0;
}

static json_t *handle_request (json_t *req, int *rc, char *err, size_t errlen) {
  const char *op = json_string_value(json_object_get(req, "op"));
  op = op ? op : "";
  if (strcmp(op, "mount-add") == 0) {
    struct mount *m = NULL;
    *rc = backend_open(json_object_get(req, "mount"), &m, err, errlen);
    if (*rc) return NULL;
    pthread_rwlock_wrlock(&table_lock);
    *rc = table_add(m, err, errlen);
    pthread_rwlock_unlock(&table_lock);
    if (*rc) {
      mount_free(m);
      return NULL;
    }
    notify_path(m->target);
    return json_null();
  }
  if (strcmp(op, "mount-rm") == 0) {
    const char *target = json_string_value(json_object_get(req, "target"));
    if (!target) return *rc = -EINVAL, NULL;
    pthread_rwlock_wrlock(&table_lock);
    *rc = table_remove(target, err, errlen);
    pthread_rwlock_unlock(&table_lock);
    if (!*rc) notify_path(target);
    return *rc ? NULL : json_null();
  }
  if (strcmp(op, "locate") == 0) {
    const char *path = json_string_value(json_object_get(req, "path"));
    int fd = -1;
    bool dir = false;
    uint64_t mount_id = 0;
    *rc = path ? locate_path(path, &fd, &dir, &mount_id) : -EINVAL;
    if (*rc) {
      snprintf(err, errlen, "locate %s: %s", path ? path : "(none)", *rc == -EINVAL ? "neither a directory nor a regular file" : errno_name(-*rc));
      return NULL;
    }
    // NOTE: another server writes these files from now on: what our kernel already holds of them
    // (attributes, pages, listings, handed out for 86400 s) is dropped once here.
    fuse_ino_t *inos = node_inos_of(mount_id);
    for (size_t i = 0; inos && inos[i]; i++) fuse_lowlevel_notify_inval_inode(session, inos[i], 0, 0);
    free(inos);
    int *grown = realloc(located, (nlocated + 1) * sizeof *located);
    if (grown) located = grown, located[nlocated++] = fd;
    char handle[64];
    snprintf(handle, sizeof handle, "/proc/%d/fd/%d", (int) getpid(), fd);
    return json_pack("{s:s, s:s}", "handle", handle, "kind", dir ? "directory" : "file");
  }
  if (strcmp(op, "unlocate") == 0) {
    const char *handle = json_string_value(json_object_get(req, "handle"));
    int pid = 0, fd = -1;
    if (!handle || sscanf(handle, "/proc/%d/fd/%d", &pid, &fd) != 2 || pid != getpid()) {
      snprintf(err, errlen, "unlocate %s: not a handle of this server", handle ? handle : "(none)");
      return *rc = -EINVAL, NULL;
    }
    for (size_t i = 0; i < nlocated; i++)
      if (located[i] == fd) {
        close(fd);
        located[i] = located[--nlocated];
        return json_null();
      }
    snprintf(err, errlen, "unlocate %s: no such handle", handle);
    return *rc = -ENOENT, NULL;
  }
  if (strcmp(op, "expose") == 0) {
    const char *dir = json_string_value(json_object_get(req, "dir"));
    *rc = dir ? expose(dir, err, errlen) : -EINVAL;
    return *rc ? NULL : json_null();
  }
  snprintf(err, errlen, "unknown request \"%s\"", op);
  *rc = -EINVAL;
  return NULL;
}

static void *control_loop (void *arg) {
  char *line;
  while ((line = control_read_line())) {
    json_error_t jerr;
    json_t *req = json_loads(line, 0, &jerr);
    free(line);
    if (!req) {
      event_log("control: bad JSON line: %s", jerr.text);
      continue;
    }
    int rc = 0;
    char err[512] = "";
    json_t *result = handle_request(req, &rc, err, sizeof err);
    json_t *id = json_incref(json_object_get(req, "id"));
    if (!id) id = json_null();
    if (rc) {
      if (!err[0]) snprintf(err, sizeof err, "%s", errno_name(-rc));
      control_send(json_pack("{s:o, s:b, s:o}", "id", id, "ok", 0, "error", error_json(-rc, err)));
    } else {
      control_send(json_pack("{s:o, s:b, s:o}", "id", id, "ok", 1, "result", result ? result : json_null()));
    }
    json_decref(req);
  }
  request_shutdown();
  return NULL;
}

void control_start (void) {
  pthread_t t;
  pthread_create(&t, NULL, writer, NULL);
  pthread_detach(t);
  pthread_create(&t, NULL, control_loop, NULL);
  pthread_detach(t);
}
