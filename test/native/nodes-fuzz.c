// A randomized check of the context server's inode table (nodes.c) under AddressSanitizer:
// lookups, forgets, unlinks, renames and exchanges against a simple model of names.
// Build and run: cc -g -fsanitize=address,undefined $(pkg-config --cflags fuse3) -I native-bindings/context-server
//   test/native/nodes-fuzz.c native-bindings/context-server/nodes.c -lfuse3 -lpthread -o /tmp/nodes-fuzz && /tmp/nodes-fuzz
#include "context-server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Stubs for what nodes.c does not use here.
void event_log (const char *fmt, ...) { (void) fmt; }

enum { DIRS = 8, NAMES = 6, STEPS = 2000000 };

int main (void) {
  nodes_init();
  struct node *dirs[DIRS] = { root_node };
  uint64_t held[DIRS] = { 0 };
  // A few directories below the root, each looked up once and kept.
  for (int d = 1; d < DIRS; d++) {
    char name[8];
    snprintf(name, sizeof name, "d%d", d);
    dirs[d] = node_get(1, 1, (ino_t) (1000 + d), d < 4 ? root_node : dirs[d - 3], name);
    held[d] = 1;
  }
  struct node *files[64] = { 0 };
  uint64_t counts[64] = { 0 };
  srand(42);
  for (long step = 0; step < STEPS; step++) {
    int op = rand() % 8, d = rand() % DIRS, d2 = rand() % DIRS, f = rand() % 64;
    char name[8], name2[8];
    snprintf(name, sizeof name, "n%d", rand() % NAMES);
    snprintf(name2, sizeof name2, "n%d", rand() % NAMES);
    switch (op) {
    case 0:  // lookup: file f (a hard link when found under another name)
    case 1: {
      struct node *n = node_get(1, 2, (ino_t) f, dirs[d], name);
      if (files[f] && files[f] != n) abort();
      files[f] = n;
      counts[f]++;
      break;
    }
    case 2:  // forget some of its lookups
      if (counts[f]) {
        uint64_t k = 1 + (uint64_t) rand() % counts[f];
        node_forget(files[f], k);
        counts[f] -= k;
        if (!counts[f]) files[f] = NULL;
      }
      break;
    case 3:
      node_unlink(dirs[d], name);
      break;
    case 4:
      node_rename(dirs[d], name, dirs[d2], name2, rand() % 2);
      break;
    case 6: {  // a synthesised directory looked up and forgotten
      struct node *n = node_get(0, 0, 0, dirs[d], name);
      if (n->mount_id != 0 && n->dev != 2) abort();
      node_forget(n, 1);
      break;
    }
    case 7: {  // a directory moved (never below itself: d5..d7 among the root and d1..d3)
      int m = 5 + rand() % 3, to = rand() % 4;
      char *path = node_path(dirs[m]);
      if (path && dirs[m]->names) node_rename(dirs[m]->names->parent, dirs[m]->names->name, dirs[to], name2, false);
      free(path);
      break;
    }
    case 5:
      if (files[f]) free(node_path(files[f]));
      if (files[f]) {
        char **paths = node_paths(files[f]);
        for (size_t i = 0; paths && paths[i]; i++) free(paths[i]);
        free(paths);
      }
      break;
    }
  }
  for (int f = 0; f < 64; f++)
    if (counts[f]) node_forget(files[f], counts[f]);
  for (int d = DIRS - 1; d > 0; d--) node_forget(dirs[d], held[d]);
  puts("nodes: ok");
  return 0;
}
