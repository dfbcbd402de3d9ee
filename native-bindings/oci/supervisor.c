// supervisor.c: the supervisor's newline-JSON protocol over $FUSEJAIL_STATE_DIR/supervisor.sock,
// the supervisor started on demand as src/client/connection.ts does (node dist/supervisor/main.js).
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "oci.h"

enum { START_TIMEOUT_MS = 10000, REPLY_TIMEOUT_MS = 30000, MAX_REPLY = 1 << 20 };

int checkout_dir (char *out, size_t size) {
  char exe[PATH_MAX];
  if (!realpath ("/proc/self/exe", exe)) return -1;
  // <checkout>/bin/fusejail → <checkout>
  for (int up = 0; up < 2; up++) {
    char *slash = strrchr (exe, '/');
    if (!slash || slash == exe) return errno = ENOENT, -1;
    *slash = '\0';
  }
  if ((size_t) snprintf (out, size, "%s", exe) >= size) return errno = ENAMETOOLONG, -1;
  return 0;
}

const char *supervisor_dir (void) {
  const char *dir = getenv ("FUSEJAIL_STATE_DIR");
  return dir && *dir ? dir : "/run/fusejail";
}

static int try_connect (const char *path) {
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  if (strlen (path) >= sizeof addr.sun_path) return errno = ENAMETOOLONG, -1;
  strcpy (addr.sun_path, path);
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect (fd, (struct sockaddr *) &addr, sizeof addr) < 0) {
    int err = errno;
    close (fd);
    return errno = err, -1;
  }
  return fd;
}

/**
 * Starts the supervisor detached (its own session, stdio on supervisor.log), never on our stdio:
 * that is the container's. A double fork, so it is nobody's child here.
 */
static int start_supervisor (const char *dir) {
  char checkout[PATH_MAX], program[PATH_MAX + 32], log[PATH_MAX];
  if (checkout_dir (checkout, sizeof checkout) < 0) return -1;
  snprintf (program, sizeof program, "%s/dist/supervisor/main.js", checkout);
  snprintf (log, sizeof log, "%s/supervisor.log", dir);
  if (mkdir (dir, 0700) < 0 && errno != EEXIST) return -1;
  pid_t child = fork ();
  if (child < 0) return -1;
  if (child == 0) {
    if (fork () != 0) _exit (0);
    setsid ();
    int null = open ("/dev/null", O_RDONLY), out = open (log, O_WRONLY | O_APPEND | O_CREAT, 0600);
    if (null < 0 || out < 0) _exit (1);
    dup2 (null, 0);
    dup2 (out, 1);
    dup2 (out, 2);
    close_range (3, ~0U, 0);
    setenv ("FUSEJAIL_STATE_DIR", dir, 1);
    execlp ("node", "node", program, (char *) NULL);
    _exit (127);
  }
  waitpid (child, NULL, 0);
  return 0;
}

static int connect_or_start (const char *dir, bool start, char *msg, size_t msg_size) {
  char path[PATH_MAX];
  snprintf (path, sizeof path, "%s/supervisor.sock", dir);
  int fd = try_connect (path);
  if (fd >= 0) return fd;
  if (!start) {
    snprintf (msg, msg_size, "no supervisor is running for %s", dir);
    return -1;
  }
  if (start_supervisor (dir) < 0) {
    snprintf (msg, msg_size, "cannot start the supervisor for %s: %s", dir, strerror (errno));
    return -1;
  }
  for (int waited = 0; waited < START_TIMEOUT_MS; waited += 20) {
    struct timespec ts = { 0, 20 * 1000000L };
    nanosleep (&ts, NULL);
    if ((fd = try_connect (path)) >= 0) return fd;
  }
  snprintf (msg, msg_size, "the supervisor did not start; see %s/supervisor.log", dir);
  return -1;
}

static int write_all (int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = send (fd, buf, len, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    buf += n;
    len -= (size_t) n;
  }
  return 0;
}

/** One line from fd (the reply), allocated; NULL on EOF, error or timeout. */
static char *read_line (int fd) {
  size_t cap = 4096, len = 0;
  char *buf = malloc (cap);
  while (buf) {
    struct pollfd p = { .fd = fd, .events = POLLIN };
    if (poll (&p, 1, REPLY_TIMEOUT_MS) <= 0) break;
    if (len + 1 >= cap) {
      if (cap >= MAX_REPLY) break;
      char *bigger = realloc (buf, cap *= 2);
      if (!bigger) break;
      buf = bigger;
    }
    ssize_t n = read (fd, buf + len, cap - len - 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    len += (size_t) n;
    buf[len] = '\0';
    char *nl = memchr (buf, '\n', len);
    if (nl) {
      *nl = '\0';
      return buf;
    }
  }
  free (buf);
  return NULL;
}

json_t *supervisor_request (const char *dir, const char *op, json_t *fields, bool start, char *code, size_t code_size, char *msg,
                            size_t msg_size) {
  snprintf (code, code_size, "UNAVAILABLE");
  int fd = connect_or_start (dir, start, msg, msg_size);
  if (fd < 0) {
    json_decref (fields);
    return NULL;
  }
  json_t *request = json_pack ("{s:i, s:i, s:s}", "v", 1, "id", 1, "op", op);
  json_object_update (request, fields);
  json_decref (fields);
  char *text = json_dumps (request, JSON_COMPACT);
  json_decref (request);
  json_t *result = NULL;
  char *line = NULL;
  if (!text || write_all (fd, text, strlen (text)) < 0 || write_all (fd, "\n", 1) < 0) {
    snprintf (msg, msg_size, "cannot talk to the supervisor: %s", strerror (errno));
  } else if (!(line = read_line (fd))) {
    snprintf (msg, msg_size, "the supervisor did not answer %s", op);
  } else {
    json_error_t err;
    json_t *reply = json_loads (line, 0, &err);
    if (!reply) snprintf (msg, msg_size, "the supervisor's answer to %s is not JSON", op);
    else if (json_is_true (json_object_get (reply, "ok"))) {
      result = json_incref (json_object_get (reply, "result"));
      if (!result) result = json_null ();
    } else {
      json_t *e = json_object_get (reply, "error");
      const char *c = json_string_value (json_object_get (e, "code")), *m = json_string_value (json_object_get (e, "message"));
      snprintf (code, code_size, "%s", c ? c : "EIO");
      snprintf (msg, msg_size, "%s", m ? m : "the supervisor refused");
    }
    json_decref (reply);
  }
  free (line);
  free (text);
  close (fd);
  return result;
}
