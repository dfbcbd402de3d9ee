// Kernel passthrough (FUSE 7.40+, Linux 6.9+) on Debian's libfuse 3.14, through a reply hook.
//
// NOTE: libfuse 3.14 cannot negotiate FUSE_PASSTHROUGH nor carry a backing id in an open reply
// (its capability word is 32 bits), so, as measured in fuse-engine.md §4.3, a custom io pair on the
// session fd (1) notes the unique of INIT, OPEN and CREATE requests and (2) patches their replies:
// INIT gets FUSE_INIT_EXT + FUSE_PASSTHROUGH and max_stack_depth 2 (host trees may be on overlayfs;
// copy mounts are overlayfs), OPEN/CREATE of a file we registered get FOPEN_PASSTHROUGH and the
// backing id. Reads and writes of such files then never reach the server.
//
// The kernel allows one backing file per inode, and refuses (EIO) a cached open of an inode open in
// passthrough and vice versa, so the choice is per node: while a node has passthrough opens every
// open of it passes through; while it has cached opens none does; otherwise an open for writing
// starts passthrough with an O_RDWR backing file (one per node, shared by its opens), and so does
// an open of a large file (1 MiB and more) of a read-only mount, with its own read-only descriptor.
// Small read-only files stay cached: keep_cache serves them faster than a backing file per open.
#include "context-server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

enum {
  OP_INIT = 26, OP_OPEN = 14, OP_CREATE = 35,
  IN_HEADER = 40, OUT_HEADER = 16,
  INIT_EXT = 1 << 30,
  FLAGS2_PASSTHROUGH = 1 << 5,   // FUSE_PASSTHROUGH is bit 37: bit 5 of flags2
  FOPEN_PASSTHROUGH_FLAG = 1 << 7,
  FOPEN_PASSTHROUGH_MASK = 1 << 0 | 1 << 5 | 1 << 6 | 1 << 7,
  MAX_STACK_DEPTH = 2,
  MAX_FD = 1 << 16,
};

struct backing_map {
  int32_t fd;
  uint32_t flags;
  uint64_t padding;
};
#define BACKING_OPEN _IOW(229, 1, struct backing_map)
#define BACKING_CLOSE _IOW(229, 2, uint32_t)

static int session_fd = -1;
static bool offered, enabled;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t init_unique = UINT64_MAX;
static uint64_t open_uniques[64];
static int32_t fd_backing[MAX_FD];   // by file handle (our fd): the backing id its reply carries
static struct node *fd_node[MAX_FD]; // by file handle: the node it is open on

static ssize_t hook_read (int fd, void *buf, size_t len, void *userdata) {
  ssize_t n = read(fd, buf, len);
  if (n < IN_HEADER) return n;
  uint32_t opcode;
  uint64_t unique;
  memcpy(&opcode, (char *) buf + 4, 4);
  memcpy(&unique, (char *) buf + 8, 8);
  if (opcode == OP_INIT && n >= IN_HEADER + 20) {
    uint32_t flags, flags2;
    memcpy(&flags, (char *) buf + IN_HEADER + 12, 4);
    memcpy(&flags2, (char *) buf + IN_HEADER + 16, 4);
    offered = (flags & INIT_EXT) && (flags2 & FLAGS2_PASSTHROUGH);
    init_unique = unique;
  } else if ((opcode == OP_OPEN || opcode == OP_CREATE) && enabled) {
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < 64; i++)
      if (!open_uniques[i]) {
        open_uniques[i] = unique;
        break;
      }
    pthread_mutex_unlock(&lock);
  }
  return n;
}

static bool take_open_unique (uint64_t unique) {
  bool found = false;
  pthread_mutex_lock(&lock);
  for (size_t i = 0; i < 64 && !found; i++)
    if (open_uniques[i] == unique) open_uniques[i] = 0, found = true;
  pthread_mutex_unlock(&lock);
  return found;
}

static ssize_t hook_writev (int fd, struct iovec *iov, int count, void *userdata) {
  if (count >= 1 && iov[0].iov_len == OUT_HEADER) {
    int32_t error;
    uint64_t unique;
    memcpy(&error, (char *) iov[0].iov_base + 4, 4);
    memcpy(&unique, (char *) iov[0].iov_base + 8, 8);
    char *arg = count >= 2 ? iov[count - 1].iov_base : NULL;
    size_t len = count >= 2 ? iov[count - 1].iov_len : 0;
    // NOTE: an OPEN's unique is taken back whatever the reply (errors come as a bare header), so
    // the table of pending opens never fills up.
    bool open_reply = enabled && unique != 0 && take_open_unique(unique);
    if (unique == init_unique && error == 0 && len >= 40) {
      init_unique = UINT64_MAX;
      if (offered) {
        uint32_t flags, flags2, depth = MAX_STACK_DEPTH;
        memcpy(&flags, arg + 12, 4);
        memcpy(&flags2, arg + 32, 4);
        flags |= INIT_EXT;
        flags2 |= FLAGS2_PASSTHROUGH;
        memcpy(arg + 12, &flags, 4);
        memcpy(arg + 32, &flags2, 4);
        memcpy(arg + 36, &depth, 4);
        enabled = true;
      }
    } else if (open_reply && error == 0 && len >= 16) {
      // NOTE: fuse_open_out is the whole OPEN reply and the tail of a CREATE reply.
      char *out = arg + len - 16;
      uint64_t fh;
      memcpy(&fh, out, 8);
      int32_t id = fh < MAX_FD ? fd_backing[fh] : 0;
      if (id > 0) {
        uint32_t open_flags;
        memcpy(&open_flags, out + 8, 4);
        // NOTE: the kernel refuses (EIO) a passthrough open with any flag outside
        // FOPEN_PASSTHROUGH_MASK: direct_io, noflush, parallel_direct_writes; keep_cache goes.
        open_flags &= FOPEN_PASSTHROUGH_MASK;
        open_flags |= FOPEN_PASSTHROUGH_FLAG;
        memcpy(out + 8, &open_flags, 4);
        memcpy(out + 12, &id, 4);
      }
    }
  }
  ssize_t n = writev(fd, iov, count);
  return n < 0 ? -errno : n;
}

void passthrough_install (struct fuse_session *se) {
  static const struct fuse_custom_io io = { .writev = hook_writev, .read = hook_read };
  session_fd = fuse_session_fd(se);
  if (fuse_session_custom_io(se, &io, session_fd) != 0) session_fd = -1;
}

// Called by open/create with the node locked: the backing id this open of `n` passes through
// (0 for a cached open). `fd` is the open's own descriptor; `writes` whether it can write.
static int32_t choose (struct node *n, int fd, enum pass pass, int (*reopen)(void *), void *ctx) {
  if (n->backing_id > 0) return n->backing_id;
  if (n->cached_opens > 0 || pass == PASS_NO) return 0;
  // NOTE: a large file of a read-only mount can have no writer here: its own descriptor will do.
  int backing = pass == PASS_LARGE_READ_ONLY || (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : reopen(ctx);
  if (backing < 0) return 0;
  struct backing_map map = { .fd = backing };
  int id = ioctl(session_fd, BACKING_OPEN, &map);
  close(backing);  // NOTE: the kernel holds its own reference to a registered backing file
  if (id <= 0) {
    // NOTE: no CAP_SYS_ADMIN (rootless), writeback cache or an old kernel: cached I/O for good.
    enabled = false;
    event_log("passthrough: BACKING_OPEN failed (%s): cached I/O from now on", errno_name(errno));
    return 0;
  }
  n->backing_id = id;
  return id;
}

void passthrough_opened (struct node *n, int fd, enum pass pass, int (*reopen)(void *), void *ctx) {
  nodes_lock();
  int32_t id = enabled && session_fd >= 0 && fd < MAX_FD ? choose(n, fd, pass, reopen, ctx) : 0;
  if (id > 0) n->passthrough_opens++;
  else n->cached_opens++;
  if (fd < MAX_FD) fd_backing[fd] = id, fd_node[fd] = n;
  nodes_unlock();
}

void passthrough_released (struct node *n, int fd) {
  nodes_lock();
  int32_t id = fd < MAX_FD ? fd_backing[fd] : 0;
  if (fd < MAX_FD) fd_backing[fd] = 0, fd_node[fd] = NULL;
  if (id > 0 && n->passthrough_opens > 0 && --n->passthrough_opens == 0) {
    uint32_t backing = (uint32_t) n->backing_id;
    ioctl(session_fd, BACKING_CLOSE, &backing);
    n->backing_id = 0;
  } else if (id == 0 && n->cached_opens > 0) {
    n->cached_opens--;
  }
  nodes_unlock();
}

bool passthrough_enabled (void) { return enabled; }

// A new descriptor of a file open on `n`, or -1: how a file unlinked while open is still reached
// (the kernel's fstat and fchmod of it come without a file handle).
// NOTE: a scan, but only for nodes that have no name left.
int node_open_fd (struct node *n) {
  int fd = -1;
  nodes_lock();
  for (int i = 0; i < MAX_FD && fd < 0; i++)
    if (fd_node[i] == n) fd = fcntl(i, F_DUPFD_CLOEXEC, 0);
  nodes_unlock();
  return fd;
}
