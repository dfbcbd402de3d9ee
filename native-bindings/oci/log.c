// log.c: failures on stderr and, with --log, appended to the log file (runc's JSON line with
// --log-format json: callers read the last "error" message from it).
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "oci.h"

static void log_line (const char *level, const char *msg) {
  if (!g.log) return;
  int fd = open (g.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  char now[64];
  rfc3339_now (now, sizeof now);
  char *line;
  if (g.log_json) {
    json_t *o = json_pack ("{s:s, s:s, s:s}", "level", level, "msg", msg, "time", now);
    char *text = o ? json_dumps (o, JSON_COMPACT) : NULL;
    json_decref (o);
    if (!text || asprintf (&line, "%s\n", text) < 0) line = NULL;
    free (text);
  } else if (asprintf (&line, "time=\"%s\" level=%s msg=\"%s\"\n", now, level, msg) < 0)
    line = NULL;
  if (line && write (fd, line, strlen (line)) < 0) { /* nowhere left to say it */ }
  free (line);
  close (fd);
}

static void report (const char *level, const char *fmt, va_list ap) {
  char msg[2048];
  vsnprintf (msg, sizeof msg, fmt, ap);
  dprintf (STDERR_FILENO, "fusejail: %s%s\n", strcmp (level, "warning") == 0 ? "warning: " : "", msg);
  log_line (level, msg);
}

void oci_error (const char *fmt, ...) {
  va_list ap;
  va_start (ap, fmt);
  report ("error", fmt, ap);
  va_end (ap);
}

void oci_warn (const char *fmt, ...) {
  va_list ap;
  va_start (ap, fmt);
  report ("warning", fmt, ap);
  va_end (ap);
}

int fail (const char *fmt, ...) {
  va_list ap;
  va_start (ap, fmt);
  report ("error", fmt, ap);
  va_end (ap);
  return 1;
}
