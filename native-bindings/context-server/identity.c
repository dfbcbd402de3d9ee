// identity.c: the ids a reply shows (an idmap), and the host identity a request acts as.
//
// A container in a user namespace sees host ids BASE..BASE+size-1 as its 0..size-1 (the idmap).
// Host files keep their real owners, mostly root: the kernel would show them to the container as
// the overflow id (`nobody`). Replies therefore show host id u < size as BASE+u, so host root's
// files show as root inside; ids already in the range stay as they are. One rule: `identity_show`.
//
// NOTE: default_permissions makes the kernel decide access on those shown attributes, and they no
// longer tell who owns a host file: container root has CAP_DAC_OVERRIDE over every inode whose
// shown owner maps into its namespace, host root's files included. So a request from such a
// caller on a host-backed mount runs its host syscalls with the caller's fsuid/fsgid (per thread):
// the host kernel decides by the real ownership, as it would for that uid outside any container.
// Without an idmap, container root is host uid 0 and passes the kernel's owner check on every
// root file; on a read-only host mount it acts as the overflow uid with its own gid, so it reads
// only what others (or its group) may read (issue 12: 0600 root files under a read-only /etc).
// A host process browsing the root is not a container process and is left as it is.
// One decision (`decide`), taken where a request resolves its mount (resolve.c) and holding for
// every host syscall until the request is done.
#include "context-server.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct idmap {
  uint32_t uid, gid, size;  // size 0: no idmap
};

static struct idmap map;

enum { OVERFLOW_ID = 65534 };  // the kernel's default overflowuid/overflowgid

static bool in_range (uint32_t id, uint32_t base) { return map.size && id >= base && id - base < map.size; }

static int field (json_t *idmap, const char *key, uint32_t min, uint32_t *out, char *err, size_t errlen) {
  json_t *v = json_object_get(idmap, key);
  json_int_t n = json_is_integer(v) ? json_integer_value(v) : -1;
  if (n < (json_int_t) min || n > (json_int_t) UINT32_MAX - 1) {
    snprintf(err, errlen, "serve: idmap.%s must be an integer from %u to %u", key, min, UINT32_MAX - 1);
    return -EINVAL;
  }
  *out = (uint32_t) n;
  return 0;
}

int identity_configure (json_t *idmap, char *err, size_t errlen) {
  if (!idmap) return 0;
  if (!json_is_object(idmap)) {
    snprintf(err, errlen, "serve: idmap must be an object {uid, gid, size}");
    return -EINVAL;
  }
  const char *key;
  json_t *value;
  json_object_foreach(idmap, key, value) {
    if (strcmp(key, "uid") && strcmp(key, "gid") && strcmp(key, "size")) {
      snprintf(err, errlen, "serve: idmap.%s is not a field of an idmap (uid, gid, size)", key);
      return -EINVAL;
    }
  }
  struct idmap m;
  int rc = field(idmap, "size", 1, &m.size, err, errlen);
  if (!rc) rc = field(idmap, "uid", 1, &m.uid, err, errlen);
  if (!rc) rc = field(idmap, "gid", 1, &m.gid, err, errlen);
  if (rc) return rc;
  // NOTE: host ids below `size` are shown shifted into the range: a range that overlaps them
  // would show two owners as one. And the range must end before (uid_t) -1, which is no id.
  const char *bad = m.uid < m.size ? "uid" : m.gid < m.size ? "gid" : NULL;
  if (bad) {
    snprintf(err, errlen, "serve: idmap.%s %u overlaps the host ids it shows shifted (0 to %u): it must be at least idmap.size",
             bad, bad[0] == 'u' ? m.uid : m.gid, m.size - 1);
    return -EINVAL;
  }
  bad = (uint64_t) m.uid + m.size > UINT32_MAX ? "uid" : (uint64_t) m.gid + m.size > UINT32_MAX ? "gid" : NULL;
  if (bad) {
    snprintf(err, errlen, "serve: idmap.%s + idmap.size passes the largest id (%u)", bad, UINT32_MAX - 1);
    return -EINVAL;
  }
  map = m;
  return 0;
}

void identity_show (struct stat *st) {
  if (!map.size) return;
  if (st->st_uid < map.size) st->st_uid = map.uid + st->st_uid;
  if (st->st_gid < map.size) st->st_gid = map.gid + st->st_gid;
}

// The decision: (caller, mount, idmap) → act as the server itself, or as these fsuid/fsgid.
static struct identity decide (const struct fuse_ctx *c, const struct mount *m, const struct idmap *idmap) {
  struct identity none = { .act = false };
  if (!c || !m || !m->host) return none;
  if (idmap->size && c->uid >= idmap->uid && c->uid - idmap->uid < idmap->size) return (struct identity) { true, c->uid, c->gid };
  // NOTE: asked last: it reads /proc/PID/root, and only this case needs it.
  if (c->uid == 0 && m->read_only && hostview_container(c->pid)) return (struct identity) { true, OVERFLOW_ID, c->gid };
  return none;
}

struct identity identity_for (fuse_req_t req, const struct mount *m) { return decide(req ? fuse_req_ctx(req) : NULL, m, &map); }

// NOTE: raw syscalls: setfsuid/setfsgid change the calling thread only. While fsuid is not 0 the
// kernel clears the filesystem capabilities (CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_CHOWN...) from the
// thread's effective set, and raises them again from the permitted set when it returns to 0
// (capabilities(7)); CAP_FSETID is not permitted at all (main.c), so it never comes back.
// An id of -1 changes nothing and answers the current one, without a new cred: cheap.
static void acting (uid_t *uid, gid_t *gid) {
  *uid = (uid_t) syscall(SYS_setfsuid, -1);
  *gid = (gid_t) syscall(SYS_setfsgid, -1);
}

// NOTE: setfsuid reports no failure; asking again tells whether it took.
static int act_as (uid_t uid, gid_t gid) {
  syscall(SYS_setfsgid, gid);
  syscall(SYS_setfsuid, uid);
  uid_t now_uid;
  gid_t now_gid;
  acting(&now_uid, &now_gid);
  return now_uid == uid && now_gid == gid ? 0 : -EPERM;
}

// NOTE: a change of identity costs a new cred (~2.5 us each for fsuid and fsgid, measured here),
// as much as the rest of a small request. So a thread keeps the identity of its last request and
// changes only when the next one needs another: every host syscall made for a request runs
// between an enter and its leave, and the outermost enter always sets what it needs (the
// server's own 0:0 included). Worker threads libfuse starts inherit whatever their creator acts
// as, so the identity is read from the kernel, never remembered. A nested enter (two names of one
// request, a listing looking up a mount target) is undone by its leave: the outer one continues
// as it was.
static __thread unsigned depth;

int identity_enter (struct identity id, struct identity_saved *saved) {
  uid_t uid = id.act ? id.uid : 0;
  gid_t gid = id.act ? id.gid : 0;
  acting(&saved->uid, &saved->gid);
  saved->entered = true;
  saved->nested = depth++ > 0;
  saved->changed = saved->uid != uid || saved->gid != gid;
  return saved->changed ? act_as(uid, gid) : 0;
}

void identity_leave (struct identity_saved *saved) {
  if (!saved->entered) return;
  depth--;
  if (saved->nested && saved->changed) act_as(saved->uid, saved->gid);
  saved->entered = false;
}

// Whether the thread's host syscalls act as `uid` and `gid` ((gid_t) -1: any group), so that what
// it creates already belongs to them.
bool identity_acting_as (uid_t uid, gid_t gid) {
  uid_t now_uid;
  gid_t now_gid;
  acting(&now_uid, &now_gid);
  return uid == now_uid && (gid == (gid_t) -1 || gid == now_gid);
}

// NOTE: chown needs CAP_CHOWN, which a thread acting as a caller does not have. The kernel has
// allowed the caller's chown on the shown owner; the real owner must then be the container's own
// (in the idmap range), never a host file shown as the container's. The change itself is made as
// the server, and its ids are stored as the kernel sent them (host ids).
int identity_chown (int fd, const struct stat *st, uid_t uid, gid_t gid) {
  uid_t was_uid;
  gid_t was_gid;
  acting(&was_uid, &was_gid);
  bool as_caller = was_uid != 0;
  if (as_caller && !in_range(st->st_uid, map.uid)) return -EPERM;
  int rc = as_caller ? act_as(0, 0) : 0;
  if (!rc && fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0) rc = -errno;
  if (as_caller && act_as(was_uid, was_gid) < 0) rc = -EPERM;
  return rc;
}
