// The exec rule: what execve(2) may load in this context (src/resources/exec-policy.ts in C).
#include "context-server.h"

#include <stdlib.h>
#include <string.h>

static bool jailed;
static char **allow;      // NULL: any path (set-id still refused when jailed)
static size_t nallow;

void policy_set (bool is_jailed, json_t *list) {
  jailed = is_jailed;
  if (!json_is_array(list)) return;
  nallow = json_array_size(list);
  allow = calloc(nallow + 1, sizeof *allow);
  for (size_t i = 0; i < nallow && allow; i++) {
    const char *p = json_string_value(json_array_get(list, i));
    allow[i] = strdup(p ? p : "");
  }
}

// NULL when allowed, else the reason ("setuid" or "not-allowed"); *path: the name it was judged by.
// NOTE: FUSE tells which inode is executed, not by which name: a hard-linked file runs when any of
// its names is allowed (the same bytes either way).
const char *policy_decide (char *const *paths, mode_t mode, const char **path) {
  *path = paths[0] ? paths[0] : "";
  if (!jailed) return NULL;
  // NOTE: no_new_privs already stops the kernel from honouring set-id bits; refusing here too
  // makes the attempt visible in the events instead of silently running unprivileged.
  if (mode & (S_ISUID | S_ISGID)) return "setuid";
  if (!allow) return NULL;
  for (size_t p = 0; paths[p]; p++)
    for (size_t i = 0; i < nallow; i++)
      if (strcmp(allow[i], paths[p]) == 0) {
        *path = paths[p];
        return NULL;
      }
  return "not-allowed";
}
