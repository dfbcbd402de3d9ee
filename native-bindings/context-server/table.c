// The mount table: longest-matching-target resolution, hidden paths, busy targets, edits.
#include "context-server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// NOTE: readers (every FUSE request) hold the read lock for the whole request, so a removed
// mount's descriptors are closed only once no request can still be using them.
pthread_rwlock_t table_lock = PTHREAD_RWLOCK_INITIALIZER;

static struct mount **mounts;
static size_t nmounts;
static char **hidden;
static size_t nhidden;

// `path` is `target` or lies beneath it.
static bool within (const char *path, const char *target, size_t tlen) {
  if (tlen == 1) return true;
  return strncmp(path, target, tlen) == 0 && (path[tlen] == '\0' || path[tlen] == '/');
}

struct mount *table_resolve (const char *path, const char **inner) {
  struct mount *best = NULL;
  for (size_t i = 0; i < nmounts; i++) {
    struct mount *m = mounts[i];
    if (within(path, m->target, m->target_len) && (!best || m->target_len > best->target_len)) best = m;
  }
  if (best && inner) {
    const char *rest = best->target_len == 1 ? path : path + best->target_len;
    *inner = *rest ? rest : "/";
  }
  return best;
}

struct mount *table_root (void) {
  for (size_t i = 0; i < nmounts; i++)
    if (mounts[i]->target_len == 1) return mounts[i];
  return NULL;
}

struct mount *table_by_id (uint64_t id) {
  for (size_t i = 0; i < nmounts; i++)
    if (mounts[i]->id == id) return mounts[i];
  return NULL;
}

bool table_hidden (const char *path) {
  for (size_t i = 0; i < nhidden; i++)
    if (within(path, hidden[i], strlen(hidden[i]))) return true;
  return false;
}

// A mount target or a path leading to one: it cannot be removed and shows as a directory.
bool table_busy (const char *path) {
  size_t len = strlen(path);
  for (size_t i = 0; i < nmounts; i++) {
    const char *t = mounts[i]->target;
    if (strcmp(t, path) == 0) return true;
    if (len == 1 ? mounts[i]->target_len > 1 : (strncmp(t, path, len) == 0 && t[len] == '/')) return true;
  }
  return false;
}

// Names of mount targets directly below `dir` (deduplicated); the caller frees them.
int table_child_names (const char *dir, char ***out) {
  size_t dlen = strlen(dir);
  char **names = calloc(nmounts + 1, sizeof *names);
  int n = 0;
  for (size_t i = 0; i < nmounts && names; i++) {
    const char *t = mounts[i]->target;
    const char *rest;
    if (dlen == 1) rest = t + 1;
    else if (strncmp(t, dir, dlen) == 0 && t[dlen] == '/') rest = t + dlen + 1;
    else continue;
    if (!*rest) continue;
    size_t l = strcspn(rest, "/");
    bool seen = false;
    for (int j = 0; j < n; j++)
      if (strlen(names[j]) == l && strncmp(names[j], rest, l) == 0) seen = true;
    if (!seen) names[n++] = strndup(rest, l);
  }
  *out = names;
  return n;
}

static bool canonical (const char *p) {
  if (p[0] != '/') return false;
  if (p[1] == '\0') return true;
  size_t len = strlen(p);
  if (p[len - 1] == '/' || strstr(p, "//") || strstr(p, "/./") || strstr(p, "/../")) return false;
  if (len >= 2 && strcmp(p + len - 2, "/.") == 0) return false;
  if (len >= 3 && strcmp(p + len - 3, "/..") == 0) return false;
  return true;
}

// Takes ownership of `m` on success. The caller holds the write lock.
int table_add (struct mount *m, char *err, size_t errlen) {
  if (!canonical(m->target)) {
    snprintf(err, errlen, "mount target \"%s\" is not an absolute canonical path", m->target);
    return -EINVAL;
  }
  for (size_t i = 0; i < nmounts; i++)
    if (strcmp(mounts[i]->target, m->target) == 0) {
      snprintf(err, errlen, "mount target \"%s\" is already in use", m->target);
      return -EBUSY;
    }
  struct mount **grown = realloc(mounts, (nmounts + 1) * sizeof *mounts);
  if (!grown) return -ENOMEM;
  mounts = grown;
  mounts[nmounts++] = m;
  return 0;
}

// The caller holds the write lock.
int table_remove (const char *target, char *err, size_t errlen) {
  if (strcmp(target, "/") == 0) {
    snprintf(err, errlen, "the root mount \"/\" cannot be removed from a context in use");
    return -EBUSY;
  }
  for (size_t i = 0; i < nmounts; i++) {
    if (strcmp(mounts[i]->target, target) != 0) continue;
    mount_free(mounts[i]);
    memmove(&mounts[i], &mounts[i + 1], (nmounts - i - 1) * sizeof *mounts);
    nmounts--;
    return 0;
  }
  snprintf(err, errlen, "nothing is mounted at \"%s\"", target);
  return -ENODEV;
}

void table_hide (const char *path) {
  char **grown = realloc(hidden, (nhidden + 1) * sizeof *hidden);
  if (!grown) return;
  hidden = grown;
  hidden[nhidden++] = strdup(path);
}

void mount_free (struct mount *m) {
  if (!m) return;
  if (m->root_fd >= 0) close(m->root_fd);
  if (m->store_fd >= 0) close(m->store_fd);
  free(m->target);
  free(m);
}
