// cmd_spec.c: `spec [--bundle DIR]`: a starter config.json for a root container, like runc's (sh
// on a terminal, rootfs/ read-only, the usual mounts, masks and namespaces); never overwrites one.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "oci.h"

static const char CAPS[] = "[\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"]";

int cmd_spec (int argc, char **argv) {
  const char *bundle = ".";
  bool rootless = false;
  const struct opt opts[] = { { "bundle", 'b', true, &bundle, NULL }, { "rootless", 0, false, NULL, &rootless }, { 0 } };
  if (wants_help (argc, argv)) return printf ("usage: fusejail spec [--bundle DIR]\nWrites a starter DIR/config.json (refused when one exists).\n"), 0;
  char **pos;
  int npos;
  if (parse_opts (argc, argv, opts, &pos, &npos) < 0) return 1;
  if (npos) return fail ("spec takes no arguments");
  if (rootless) return fail ("--rootless specs are not supported by fusejail");
  char path[PATH_MAX];
  snprintf (path, sizeof path, "%s/config.json", bundle);
  int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return errno == EEXIST ? fail ("File %s exists. Remove it first", path) : fail ("%s: %s", path, strerror (errno));
  FILE *f = fdopen (fd, "w");
  fprintf (f,
           "{\n"
           "  \"ociVersion\": \"%s\",\n"
           "  \"process\": {\n"
           "    \"terminal\": true,\n"
           "    \"user\": { \"uid\": 0, \"gid\": 0 },\n"
           "    \"args\": [\"sh\"],\n"
           "    \"env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\", \"TERM=xterm\"],\n"
           "    \"cwd\": \"/\",\n"
           "    \"capabilities\": { \"bounding\": %s, \"effective\": %s, \"permitted\": %s, \"ambient\": %s },\n"
           "    \"rlimits\": [{ \"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024 }],\n"
           "    \"noNewPrivileges\": true\n"
           "  },\n"
           "  \"root\": { \"path\": \"rootfs\", \"readonly\": true },\n"
           "  \"hostname\": \"fusejail\",\n"
           "  \"mounts\": [\n"
           "    { \"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\" },\n"
           "    { \"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"] },\n"
           "    { \"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\", \"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\", \"gid=5\"] },\n"
           "    { \"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\", \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\"] },\n"
           "    { \"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\", \"options\": [\"nosuid\", \"noexec\", \"nodev\"] },\n"
           "    { \"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\", \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"] },\n"
           "    { \"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\", \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"relatime\", \"ro\"] }\n"
           "  ],\n"
           "  \"linux\": {\n"
           "    \"resources\": { \"devices\": [{ \"allow\": false, \"access\": \"rwm\" }] },\n"
           "    \"namespaces\": [{ \"type\": \"pid\" }, { \"type\": \"network\" }, { \"type\": \"ipc\" }, { \"type\": \"uts\" }, { \"type\": \"mount\" }, { \"type\": \"cgroup\" }],\n"
           "    \"maskedPaths\": [\"/proc/acpi\", \"/proc/asound\", \"/proc/kcore\", \"/proc/keys\", \"/proc/latency_stats\", \"/proc/timer_list\",\n"
           "      \"/proc/timer_stats\", \"/proc/sched_debug\", \"/sys/firmware\", \"/proc/scsi\"],\n"
           "    \"readonlyPaths\": [\"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\", \"/proc/sysrq-trigger\"]\n"
           "  }\n"
           "}\n",
           OCI_SPEC_VERSION, CAPS, CAPS, CAPS, CAPS);
  if (fclose (f) != 0) return fail ("%s: %s", path, strerror (errno));
  return 0;
}
