// cmd_features.c: `features`: runtime-spec features.md JSON: what this runtime accepts.
#include <stdio.h>
#include "oci.h"

// NOTE: kept in step with what spec.c accepts and setup.c does; `features --help` says so too.
static const char FEATURES[] =
  "{\n"
  "  \"ociVersionMin\": \"1.0.0\",\n"
  "  \"ociVersionMax\": \"" OCI_SPEC_VERSION "\",\n"
  "  \"hooks\": [\"prestart\", \"createRuntime\", \"createContainer\", \"startContainer\", \"poststart\", \"poststop\"],\n"
  "  \"mountOptions\": [\"async\", \"atime\", \"bind\", \"defaults\", \"dev\", \"diratime\", \"dirsync\", \"exec\", \"lazytime\",\n"
  "    \"loud\", \"mand\", \"noatime\", \"nodev\", \"nodiratime\", \"noexec\", \"nolazytime\", \"nomand\", \"norelatime\",\n"
  "    \"nostrictatime\", \"nosuid\", \"nosymfollow\", \"notmpcopyup\", \"private\", \"rbind\", \"relatime\", \"remount\", \"ro\",\n"
  "    \"rprivate\", \"rshared\", \"rslave\", \"runbindable\", \"rw\", \"shared\", \"silent\", \"slave\", \"strictatime\", \"suid\",\n"
  "    \"symfollow\", \"sync\", \"unbindable\"],\n"
  "  \"linux\": {\n"
  "    \"namespaces\": [\"cgroup\", \"ipc\", \"mount\", \"network\", \"pid\", \"user\", \"uts\"],\n"
  "    \"capabilities\": [\"CAP_CHOWN\", \"CAP_DAC_OVERRIDE\", \"CAP_DAC_READ_SEARCH\", \"CAP_FOWNER\", \"CAP_FSETID\", \"CAP_KILL\",\n"
  "      \"CAP_SETGID\", \"CAP_SETUID\", \"CAP_SETPCAP\", \"CAP_LINUX_IMMUTABLE\", \"CAP_NET_BIND_SERVICE\", \"CAP_NET_BROADCAST\",\n"
  "      \"CAP_NET_ADMIN\", \"CAP_NET_RAW\", \"CAP_IPC_LOCK\", \"CAP_IPC_OWNER\", \"CAP_SYS_MODULE\", \"CAP_SYS_RAWIO\",\n"
  "      \"CAP_SYS_CHROOT\", \"CAP_SYS_PTRACE\", \"CAP_SYS_PACCT\", \"CAP_SYS_ADMIN\", \"CAP_SYS_BOOT\", \"CAP_SYS_NICE\",\n"
  "      \"CAP_SYS_RESOURCE\", \"CAP_SYS_TIME\", \"CAP_SYS_TTY_CONFIG\", \"CAP_MKNOD\", \"CAP_LEASE\", \"CAP_AUDIT_WRITE\",\n"
  "      \"CAP_AUDIT_CONTROL\", \"CAP_SETFCAP\", \"CAP_MAC_OVERRIDE\", \"CAP_MAC_ADMIN\", \"CAP_SYSLOG\", \"CAP_WAKE_ALARM\",\n"
  "      \"CAP_BLOCK_SUSPEND\", \"CAP_AUDIT_READ\", \"CAP_PERFMON\", \"CAP_BPF\", \"CAP_CHECKPOINT_RESTORE\"],\n"
  "    \"cgroup\": { \"v1\": true, \"v2\": true, \"systemd\": false, \"systemdUser\": false, \"rdma\": false },\n"
  "    \"seccomp\": {\n"
  "      \"enabled\": true,\n"
  "      \"actions\": [\"SCMP_ACT_ALLOW\", \"SCMP_ACT_ERRNO\", \"SCMP_ACT_KILL\", \"SCMP_ACT_KILL_PROCESS\", \"SCMP_ACT_KILL_THREAD\",\n"
  "        \"SCMP_ACT_LOG\", \"SCMP_ACT_TRACE\", \"SCMP_ACT_TRAP\"],\n"
  "      \"operators\": [\"SCMP_CMP_EQ\", \"SCMP_CMP_GE\", \"SCMP_CMP_GT\", \"SCMP_CMP_LE\", \"SCMP_CMP_LT\", \"SCMP_CMP_MASKED_EQ\", \"SCMP_CMP_NE\"],\n"
  "      \"archs\": [\"SCMP_ARCH_AARCH64\", \"SCMP_ARCH_ARM\", \"SCMP_ARCH_MIPS\", \"SCMP_ARCH_MIPS64\", \"SCMP_ARCH_MIPS64N32\",\n"
  "        \"SCMP_ARCH_MIPSEL\", \"SCMP_ARCH_MIPSEL64\", \"SCMP_ARCH_MIPSEL64N32\", \"SCMP_ARCH_PARISC\", \"SCMP_ARCH_PARISC64\",\n"
  "        \"SCMP_ARCH_PPC\", \"SCMP_ARCH_PPC64\", \"SCMP_ARCH_PPC64LE\", \"SCMP_ARCH_RISCV64\", \"SCMP_ARCH_S390\", \"SCMP_ARCH_S390X\",\n"
  "        \"SCMP_ARCH_X32\", \"SCMP_ARCH_X86\", \"SCMP_ARCH_X86_64\"],\n"
  "      \"knownFlags\": [\"SECCOMP_FILTER_FLAG_LOG\", \"SECCOMP_FILTER_FLAG_SPEC_ALLOW\", \"SECCOMP_FILTER_FLAG_TSYNC\"],\n"
  "      \"supportedFlags\": [\"SECCOMP_FILTER_FLAG_LOG\", \"SECCOMP_FILTER_FLAG_SPEC_ALLOW\", \"SECCOMP_FILTER_FLAG_TSYNC\"]\n"
  "    },\n"
  "    \"apparmor\": { \"enabled\": false },\n"
  "    \"selinux\": { \"enabled\": false },\n"
  "    \"intelRdt\": { \"enabled\": false }\n"
  "  },\n"
  "  \"annotations\": {\n"
  "    \"run.fusejail.jail\": \"\\\"true\\\" turns fusejail's jail on (no capabilities, no_new_privs, its seccomp filter, jailed exec rule)\",\n"
  "    \"run.fusejail.root\": \"served over FUSE by the fusejail supervisor (write-through bind of root.path)\"\n"
  "  }\n"
  "}\n";

int cmd_features (int argc, char **argv) {
  if (argc > 0 && !wants_help (argc, argv)) return fail ("features takes no arguments");
  if (argc > 0) return printf ("usage: fusejail [global options] features\nPrints what this runtime supports (runtime-spec features.md).\n"), 0;
  fputs (FEATURES, stdout);
  return 0;
}
