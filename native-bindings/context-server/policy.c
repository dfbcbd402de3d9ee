// The exec rule: what execve(2) may load in this context (src/resources/exec-policy.ts in C).
#include "context-server.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static bool jailed;
static char **allow;      // NULL: any path (set-id still refused when jailed)
static size_t nallow;

static bool interpreter_expected(pid_t pid);
static bool names_interpreter(int fd);
static void expect_interpreter(pid_t pid);

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
//
// NOTE: the program interpreter (an ELF's PT_INTERP, the dynamic loader, or a script's "#!") is
// opened for execve by the kernel right after the file naming it, by the same task. It runs
// without being listed then, and only then: listed, the loader would run any file it is given
// (`ld.so /usr/bin/python3`), so an allow list that had to name it could be bypassed.
const char *policy_decide (char *const *paths, int fd, mode_t mode, pid_t pid, const char **path) {
  *path = paths[0] ? paths[0] : "";
  if (!jailed) return NULL;
  // NOTE: no_new_privs already stops the kernel from honouring set-id bits; refusing here too
  // makes the attempt visible in the events instead of silently running unprivileged.
  if (mode & (S_ISUID | S_ISGID)) return "setuid";
  if (!allow) return NULL;
  bool interpreter = interpreter_expected(pid);
  for (size_t p = 0; paths[p]; p++)
    for (size_t i = 0; i < nallow; i++)
      if (strcmp(allow[i], paths[p]) == 0) {
        *path = paths[p];
        if (names_interpreter(fd)) expect_interpreter(pid);
        return NULL;
      }
  return interpreter ? NULL : "not-allowed";
}

// Whether the file just allowed names an interpreter the kernel loads next.
static bool names_interpreter (int fd) {
  unsigned char head[4096];
  ssize_t n = pread(fd, head, sizeof head, 0);
  if (n >= 2 && head[0] == '#' && head[1] == '!') return true;
  if (n < (ssize_t) sizeof(Elf64_Ehdr) || memcmp(head, ELFMAG, SELFMAG) != 0 || head[EI_CLASS] != ELFCLASS64) return false;
  const Elf64_Ehdr *eh = (const Elf64_Ehdr *) head;
  for (unsigned i = 0; i < eh->e_phnum; i++) {
    Elf64_Phdr ph;
    if (pread(fd, &ph, sizeof ph, (off_t) (eh->e_phoff + (uint64_t) i * eh->e_phentsize)) != (ssize_t) sizeof ph) return false;
    if (ph.p_type == PT_INTERP) return true;
  }
  return false;
}

// The tasks whose last allowed launch names an interpreter, each consumed by the next launch.
static struct { pid_t pid; struct timespec at; } expected[64];
static size_t next_expected;
static pthread_mutex_t expected_lock = PTHREAD_MUTEX_INITIALIZER;

static bool interpreter_expected (pid_t pid) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  bool found = false;
  pthread_mutex_lock(&expected_lock);
  for (size_t i = 0; i < sizeof expected / sizeof *expected; i++) {
    if (expected[i].pid != pid || pid <= 0) continue;
    // NOTE: within one execve the two opens are microseconds apart; a stale mark never counts.
    found = now.tv_sec - expected[i].at.tv_sec < 2;
    expected[i].pid = 0;
  }
  pthread_mutex_unlock(&expected_lock);
  return found;
}

static void expect_interpreter (pid_t pid) {
  pthread_mutex_lock(&expected_lock);
  expected[next_expected].pid = pid;
  clock_gettime(CLOCK_MONOTONIC, &expected[next_expected].at);
  next_expected = (next_expected + 1) % (sizeof expected / sizeof *expected);
  pthread_mutex_unlock(&expected_lock);
}
