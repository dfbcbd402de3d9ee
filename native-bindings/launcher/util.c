// util.c: dying with a message, recording a stage failure, closing inherited descriptors.
#include "launcher.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

void die (const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("fusejail-launcher: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(EXIT_SETUP);
}

void die_with_errno (int err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("fusejail-launcher: ", stderr);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, ": %s\n", strerror(err));
  va_end(ap);
  exit(EXIT_SETUP);
}

int fail_with (struct failure *f, const char *stage, int err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  snprintf(f->stage, sizeof f->stage, "%s", stage);
  f->err = err;
  vsnprintf(f->message, sizeof f->message, fmt, ap);
  va_end(ap);
  return -1;
}

// NOTE: node-pty 1.1 leaks the fds of other ptys into its children; nothing but 0, 1 and 2 may
// reach a container.
void close_inherited_fds (void) {
  if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0) return;
  long max = sysconf(_SC_OPEN_MAX);
  for (int fd = 3; fd < max; fd++) close(fd);
}

long long monotonic_ns (void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
