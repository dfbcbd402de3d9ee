// names.c: capability, rlimit and signal names as config.json and runc's command line spell them.
#include "names.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

// NOTE: indexed by capability number (linux/capability.h); a name the running kernel does not
// have (above /proc/sys/kernel/cap_last_cap) is accepted and skipped at setup, as runc does.
static const char *const CAPABILITIES[] = {
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
  "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
  "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
  "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};

int oci_capability_number (const char *name) {
  for (size_t i = 0; i < sizeof CAPABILITIES / sizeof *CAPABILITIES; i++) {
    if (strcmp(CAPABILITIES[i], name) == 0) return (int) i;
  }
  return -1;
}

const char *oci_capability_name (int number) {
  return number >= 0 && (size_t) number < sizeof CAPABILITIES / sizeof *CAPABILITIES ? CAPABILITIES[number] : NULL;
}

static const struct { const char *name; int resource; } RLIMITS[] = {
  { "RLIMIT_AS", RLIMIT_AS }, { "RLIMIT_CORE", RLIMIT_CORE }, { "RLIMIT_CPU", RLIMIT_CPU },
  { "RLIMIT_DATA", RLIMIT_DATA }, { "RLIMIT_FSIZE", RLIMIT_FSIZE }, { "RLIMIT_LOCKS", RLIMIT_LOCKS },
  { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK }, { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
  { "RLIMIT_NICE", RLIMIT_NICE }, { "RLIMIT_NOFILE", RLIMIT_NOFILE }, { "RLIMIT_NPROC", RLIMIT_NPROC },
  { "RLIMIT_RSS", RLIMIT_RSS }, { "RLIMIT_RTPRIO", RLIMIT_RTPRIO }, { "RLIMIT_RTTIME", RLIMIT_RTTIME },
  { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING }, { "RLIMIT_STACK", RLIMIT_STACK },
};

int oci_rlimit_number (const char *name) {
  for (size_t i = 0; i < sizeof RLIMITS / sizeof *RLIMITS; i++) {
    if (strcmp(RLIMITS[i].name, name) == 0) return RLIMITS[i].resource;
  }
  return -1;
}

const char *oci_rlimit_name (int resource) {
  for (size_t i = 0; i < sizeof RLIMITS / sizeof *RLIMITS; i++) {
    if (RLIMITS[i].resource == resource) return RLIMITS[i].name;
  }
  return NULL;
}

static const struct { const char *name; int signal; } SIGNALS[] = {
  { "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "ILL", SIGILL }, { "TRAP", SIGTRAP },
  { "ABRT", SIGABRT }, { "IOT", SIGIOT }, { "BUS", SIGBUS }, { "FPE", SIGFPE }, { "KILL", SIGKILL },
  { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 }, { "PIPE", SIGPIPE },
  { "ALRM", SIGALRM }, { "TERM", SIGTERM }, { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD },
  { "CLD", SIGCHLD }, { "CONT", SIGCONT }, { "STOP", SIGSTOP }, { "TSTP", SIGTSTP },
  { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU }, { "URG", SIGURG }, { "XCPU", SIGXCPU },
  { "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH },
  { "IO", SIGIO }, { "POLL", SIGPOLL }, { "PWR", SIGPWR }, { "SYS", SIGSYS },
};

// A whole decimal number in [0, max], or -1.
static int small_number (const char *s, int max) {
  if (*s < '0' || *s > '9') return -1;
  char *end;
  long n = strtol(s, &end, 10);
  return *end || n > max ? -1 : (int) n;
}

int oci_signal_number (const char *name) {
  int n = small_number(name, SIGRTMAX);
  if (n >= 0) return n > 0 ? n : -1;
  if (strncasecmp(name, "SIG", 3) == 0) name += 3;
  for (size_t i = 0; i < sizeof SIGNALS / sizeof *SIGNALS; i++) {
    if (strcasecmp(SIGNALS[i].name, name) == 0) return SIGNALS[i].signal;
  }
  // NOTE: real-time signals are named relative to the ends of their range, as kill(1) spells them.
  if (strncasecmp(name, "RTMIN", 5) == 0) {
    if (!name[5]) return SIGRTMIN;
    int k = name[5] == '+' ? small_number(name + 6, SIGRTMAX - SIGRTMIN) : -1;
    return k < 0 ? -1 : SIGRTMIN + k;
  }
  if (strncasecmp(name, "RTMAX", 5) == 0) {
    if (!name[5]) return SIGRTMAX;
    int k = name[5] == '-' ? small_number(name + 6, SIGRTMAX - SIGRTMIN) : -1;
    return k < 0 ? -1 : SIGRTMAX - k;
  }
  return -1;
}
