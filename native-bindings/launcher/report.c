// report.c: the one-line JSON report on the plan's sync socket, read by the supervisor.
#include "launcher.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void send_line (const char *path, json_t *obj) {
  char *text = json_dumps(obj, JSON_COMPACT);
  json_decref(obj);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
  if (fd >= 0 && connect(fd, (struct sockaddr *) &addr, sizeof addr) == 0) {
    size_t len = strlen(text);
    text[len] = '\n';
    ssize_t ignored = write(fd, text, len + 1);
    (void) ignored;
  }
  if (fd >= 0) close(fd);
  free(text);
}

void report_started (const char *sync, pid_t host_pid, pid_t container_pid) {
  send_line(sync, json_pack("{s:s,s:I,s:I}", "event", "started", "hostPid", (json_int_t) host_pid, "containerPid", (json_int_t) container_pid));
}

void report_failed (const char *sync, const struct failure *f) {
  send_line(sync, json_pack("{s:s,s:s,s:i,s:s}", "event", "failed", "stage", f->stage, "errno", f->err, "message", f->message));
}
