// report.c: the sync socket: the plan in (one JSON line), reports out (JSON lines), one answer in.
#include "launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/*
 * NOTE: the socket's path is the only thing the environment carries. It is copied, then wiped in
 * place (/proc/<pid>/environ shows the original bytes, whatever unsetenv does) and unset.
 */
int report_open_from_env (const char *name) {
  char *value = getenv(name);
  if (value == NULL) return -1;
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  strncpy(addr.sun_path, value, sizeof addr.sun_path - 1);
  memset(value, 0, strlen(value));
  unsetenv(name);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && connect(fd, (struct sockaddr *) &addr, sizeof addr) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// The plan: everything up to the first newline. NOTE: read in chunks, as the supervisor sends
// nothing else until the launcher has reported its exit.
char *report_read_plan (int fd) {
  size_t size = 16384, len = 0;
  char *buf = malloc(size);
  for (;;) {
    if (len + 1 >= size) buf = realloc(buf, size *= 2);
    ssize_t n = read(fd, buf + len, size - len - 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      free(buf);
      return NULL;
    }
    char *nl = memchr(buf + len, '\n', (size_t) n);
    len += (size_t) n;
    if (nl != NULL) {
      *nl = '\0';
      return buf;
    }
  }
}

static void send_line (int fd, json_t *obj) {
  char *text = json_dumps(obj, JSON_COMPACT);
  json_decref(obj);
  if (fd >= 0 && text != NULL) {
    size_t len = strlen(text);
    text[len] = '\n';
    ssize_t ignored = write(fd, text, len + 1);
    (void) ignored;
  }
  free(text);
}

void report_started (int fd, pid_t host_pid, pid_t container_pid, const struct stamp *stamps, size_t n) {
  json_t *list = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(list, json_pack("[s,I]", stamps[i].name, (json_int_t) stamps[i].ns));
  send_line(fd, json_pack("{s:s,s:I,s:I,s:o}", "event", "started", "hostPid", (json_int_t) host_pid, "containerPid", (json_int_t) container_pid, "stages", list));
}

void report_failed (int fd, const struct failure *f) {
  send_line(fd, json_pack("{s:s,s:s,s:i,s:s}", "event", "failed", "stage", f->stage, "errno", f->err, "message", f->message));
}

void report_exited (int fd, int status) {
  send_line(fd, json_pack("{s:s,s:i}", "event", "exited", "status", status));
}

// Waits for the supervisor's answer (any byte, or the connection closing), at most `ms`.
void report_wait_ack (int fd, int ms) {
  if (fd < 0) return;
  struct pollfd p = { .fd = fd, .events = POLLIN };
  if (poll(&p, 1, ms) > 0) {
    char c;
    ssize_t ignored = read(fd, &c, 1);
    (void) ignored;
  }
}
