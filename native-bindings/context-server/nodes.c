// The inode table: (mount, host dev, host ino) → node, and (parent, name) → node; no descriptors.
//
// NOTE: a node is reached by its path in the tree (the names it was looked up by), never by a
// descriptor per inode: open-file limits are finite (20,000 here) and trees are large. A
// hard-linked file is one node with several names, so nlink and st_ino agree at once.
#include "context-server.h"

#include <stdlib.h>
#include <string.h>

struct node *root_node;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t serial = 1;

static struct node **by_key;
static size_t key_buckets, key_count;
static struct alias **by_name;
static size_t name_buckets, name_count;

static size_t hash_key (uint64_t mount_id, dev_t dev, ino_t ino) {
  uint64_t h = mount_id * 0x9e3779b97f4a7c15ULL ^ (uint64_t) dev * 0xc2b2ae3d27d4eb4fULL ^ (uint64_t) ino;
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ULL;
  return (size_t) (h ^ (h >> 32));
}

static size_t hash_name (struct node *parent, const char *name) {
  uint64_t h = (uint64_t) (uintptr_t) parent * 0x9e3779b97f4a7c15ULL;
  for (const unsigned char *p = (const unsigned char *) name; *p; p++) h = (h ^ *p) * 0x100000001b3ULL;
  return (size_t) (h ^ (h >> 31));
}

void nodes_init (void) {
  key_buckets = name_buckets = 1 << 12;
  by_key = calloc(key_buckets, sizeof *by_key);
  by_name = calloc(name_buckets, sizeof *by_name);
  root_node = calloc(1, sizeof *root_node);
  root_node->serial = 1;
  root_node->nlookup = 1;
}

void nodes_lock (void) { pthread_mutex_lock(&lock); }
void nodes_unlock (void) { pthread_mutex_unlock(&lock); }

struct node *node_of (fuse_ino_t ino) {
  return ino == FUSE_ROOT_ID ? root_node : (struct node *) (uintptr_t) ino;
}

fuse_ino_t node_ino (struct node *n) {
  return n == root_node ? FUSE_ROOT_ID : (fuse_ino_t) (uintptr_t) n;
}

static void grow_keys (void) {
  size_t nb = key_buckets * 2;
  struct node **t = calloc(nb, sizeof *t);
  if (!t) return;
  for (size_t i = 0; i < key_buckets; i++)
    for (struct node *n = by_key[i], *next; n; n = next) {
      next = n->next_in_hash;
      size_t b = hash_key(n->mount_id, n->dev, n->ino) & (nb - 1);
      n->next_in_hash = t[b];
      t[b] = n;
    }
  free(by_key);
  by_key = t;
  key_buckets = nb;
}

static void grow_names (void) {
  size_t nb = name_buckets * 2;
  struct alias **t = calloc(nb, sizeof *t);
  if (!t) return;
  for (size_t i = 0; i < name_buckets; i++)
    for (struct alias *a = by_name[i], *next; a; a = next) {
      next = a->next_in_hash;
      size_t b = hash_name(a->parent, a->name) & (nb - 1);
      a->next_in_hash = t[b];
      t[b] = a;
    }
  free(by_name);
  by_name = t;
  name_buckets = nb;
}

static struct alias *find_alias (struct node *parent, const char *name) {
  for (struct alias *a = by_name[hash_name(parent, name) & (name_buckets - 1)]; a; a = a->next_in_hash)
    if (a->parent == parent && strcmp(a->name, name) == 0) return a;
  return NULL;
}

static void unhash_alias (struct alias *a) {
  struct alias **p = &by_name[hash_name(a->parent, a->name) & (name_buckets - 1)];
  while (*p && *p != a) p = &(*p)->next_in_hash;
  if (*p) *p = a->next_in_hash;
  name_count--;
}

static void hash_alias (struct alias *a) {
  if (++name_count > name_buckets * 2) grow_names();
  size_t b = hash_name(a->parent, a->name) & (name_buckets - 1);
  a->next_in_hash = by_name[b];
  by_name[b] = a;
}

static void maybe_free (struct node *n);

// Drops one name of a node; the parent may go with it.
static void drop_alias (struct alias *a) {
  unhash_alias(a);
  struct alias **p = &a->node->names;
  while (*p && *p != a) p = &(*p)->next_of_node;
  if (*p) *p = a->next_of_node;
  struct node *parent = a->parent;
  parent->refs--;
  free(a->name);
  free(a);
  maybe_free(parent);
}

static void maybe_free (struct node *n) {
  if (n == root_node || n->nlookup > 0 || n->refs > 0) return;
  while (n->names) drop_alias(n->names);
  if (n->mount_id != 0) {
    struct node **p = &by_key[hash_key(n->mount_id, n->dev, n->ino) & (key_buckets - 1)];
    while (*p && *p != n) p = &(*p)->next_in_hash;
    if (*p) *p = n->next_in_hash;
    key_count--;
  }
  free(n);
}

static void add_alias (struct node *n, struct node *parent, const char *name) {
  struct alias *old = find_alias(parent, name);
  if (old && old->node == n) return;
  if (old) drop_alias(old);
  struct alias *a = calloc(1, sizeof *a);
  if (!a) return;
  a->parent = parent;
  a->name = strdup(name);
  a->node = n;
  parent->refs++;
  struct alias **tail = &n->names;
  while (*tail) tail = &(*tail)->next_of_node;
  *tail = a;
  hash_alias(a);
}

static struct node *find_key (uint64_t mount_id, dev_t dev, ino_t ino) {
  for (struct node *n = by_key[hash_key(mount_id, dev, ino) & (key_buckets - 1)]; n; n = n->next_in_hash)
    if (n->mount_id == mount_id && n->dev == dev && n->ino == ino) return n;
  return NULL;
}

struct node *node_find (uint64_t mount_id, dev_t dev, ino_t ino) {
  pthread_mutex_lock(&lock);
  struct node *n = find_key(mount_id, dev, ino);
  pthread_mutex_unlock(&lock);
  return n;
}

// Counts one lookup of `name` in `parent`; mount_id 0 is a synthesised directory.
struct node *node_get (uint64_t mount_id, dev_t dev, ino_t ino, struct node *parent, const char *name) {
  pthread_mutex_lock(&lock);
  struct node *n = NULL;
  if (mount_id != 0) n = find_key(mount_id, dev, ino);
  else {
    struct alias *a = find_alias(parent, name);
    if (a && a->node->mount_id == 0) n = a->node;
  }
  if (!n && (n = calloc(1, sizeof *n))) {
    n->serial = ++serial;
    n->mount_id = mount_id;
    n->dev = dev;
    n->ino = ino;
    if (mount_id != 0) {
      if (++key_count > key_buckets * 2) grow_keys();
      size_t b = hash_key(mount_id, dev, ino) & (key_buckets - 1);
      n->next_in_hash = by_key[b];
      by_key[b] = n;
    }
  }
  if (n) {
    n->nlookup++;
    add_alias(n, parent, name);
  }
  pthread_mutex_unlock(&lock);
  return n;
}

void node_forget (struct node *n, uint64_t count) {
  pthread_mutex_lock(&lock);
  n->nlookup = n->nlookup > count ? n->nlookup - count : 0;
  maybe_free(n);
  pthread_mutex_unlock(&lock);
}

struct node *node_child (struct node *parent, const char *name) {
  pthread_mutex_lock(&lock);
  struct alias *a = find_alias(parent, name);
  struct node *n = a ? a->node : NULL;
  pthread_mutex_unlock(&lock);
  return n;
}

void node_unlink (struct node *parent, const char *name) {
  pthread_mutex_lock(&lock);
  struct alias *a = find_alias(parent, name);
  if (a) {
    struct node *n = a->node;
    n->refs++;  // NOTE: keeps `n` while its last name goes; released just below
    drop_alias(a);
    n->refs--;
    maybe_free(n);
  }
  pthread_mutex_unlock(&lock);
}

static void move_alias (struct alias *a, struct node *parent, const char *name) {
  unhash_alias(a);
  struct node *old = a->parent;
  char *copy = strdup(name);
  if (copy) free(a->name), a->name = copy;
  a->parent = parent;
  parent->refs++;
  hash_alias(a);
  old->refs--;
  maybe_free(old);
}

void node_rename (struct node *p1, const char *n1, struct node *p2, const char *n2, bool exchange) {
  pthread_mutex_lock(&lock);
  struct alias *a = find_alias(p1, n1), *b = find_alias(p2, n2);
  if (a && a == b) {
    // NOTE: a name renamed onto itself: nothing moves.
  } else if (exchange && a && b) {
    // NOTE: both names swap at once; each parent keeps the same number of names.
    unhash_alias(a);
    unhash_alias(b);
    struct node *pa = a->parent;
    char *na = a->name;
    a->parent = b->parent, a->name = b->name;
    b->parent = pa, b->name = na;
    hash_alias(a);
    hash_alias(b);
  } else if (exchange) {
    if (a) move_alias(a, p2, n2);
    if (b) move_alias(b, p1, n1);
  } else {
    if (b && b != a) {
      struct node *n = b->node;
      n->refs++;
      drop_alias(b);
      n->refs--;
      maybe_free(n);
    }
    if (a) move_alias(a, p2, n2);
  }
  pthread_mutex_unlock(&lock);
}

static char *path_locked (struct node *n) {
  size_t len = 0, depth = 0;
  for (struct node *p = n; p != root_node; p = p->names->parent) {
    if (!p->names || ++depth > 4096) return NULL;
    len += strlen(p->names->name) + 1;
  }
  char *path = malloc(len + 2);
  if (!path) return NULL;
  path[len] = '\0';
  size_t end = len;
  for (struct node *p = n; p != root_node; p = p->names->parent) {
    size_t l = strlen(p->names->name);
    end -= l;
    memcpy(path + end, p->names->name, l);
    path[--end] = '/';
  }
  if (len == 0) strcpy(path, "/");
  return path;
}

// The node's path in the tree ("/" for the root), or NULL when it has no name left.
char *node_path (struct node *n) {
  pthread_mutex_lock(&lock);
  char *path = path_locked(n);
  pthread_mutex_unlock(&lock);
  return path;
}

// Every path a node is known by (a hard-linked file has several): NULL-terminated, caller frees.
char **node_paths (struct node *n) {
  pthread_mutex_lock(&lock);
  size_t count = 0;
  for (struct alias *a = n->names; a; a = a->next_of_node) count++;
  char **paths = calloc(count + 2, sizeof *paths);
  size_t i = 0;
  if (paths && n == root_node) paths[i++] = strdup("/");
  for (struct alias *a = n->names; a && paths; a = a->next_of_node) {
    char *dir = path_locked(a->parent);
    if (!dir) continue;
    size_t dl = strlen(dir), nl = strlen(a->name);
    char *p = malloc(dl + nl + 2);
    if (p) {
      memcpy(p, dir, dl);
      size_t o = dl == 1 ? 0 : dl;
      p[o] = '/';
      memcpy(p + o + 1, a->name, nl + 1);
      paths[i++] = p;
    }
    free(dir);
  }
  pthread_mutex_unlock(&lock);
  return paths;
}

// The nodes of one mount (as inode numbers, to be used after the lock is released): NULL-ended.
fuse_ino_t *node_inos_of (uint64_t mount_id) {
  pthread_mutex_lock(&lock);
  size_t n = 0, cap = 64;
  fuse_ino_t *inos = malloc((cap + 1) * sizeof *inos);
  for (size_t b = 0; b < key_buckets && inos; b++)
    for (struct node *x = by_key[b]; x && inos; x = x->next_in_hash) {
      if (x->mount_id != mount_id) continue;
      if (n == cap) {
        fuse_ino_t *grown = realloc(inos, (2 * cap + 1) * sizeof *inos);
        if (!grown) break;
        inos = grown, cap *= 2;
      }
      inos[n++] = node_ino(x);
    }
  if (inos) inos[n] = 0;
  pthread_mutex_unlock(&lock);
  return inos;
}
