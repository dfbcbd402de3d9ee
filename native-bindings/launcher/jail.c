// jail.c: the kernel layer of the jail. Capabilities go, no_new_privs is set, and a seccomp filter
// (libseccomp) refuses every way to create or join namespaces or mounts. It is applied last.
#include "launcher.h"

#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

// NOTE: SerenityOS's jail forbids creating or attaching to resources; on Linux those are these
// calls. The rest follows Docker's default profile (kernel keyrings, BPF, perf, module and kexec
// loading, userfaultfd, handle-based opens), answering EPERM.
static const char *const DENIED[] = {
  "unshare", "setns", "mount", "umount2", "pivot_root", "chroot",
  "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
  "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "kexec_load", "kexec_file_load",
  "init_module", "finit_module", "delete_module", "userfaultfd", "open_by_handle_at",
  "name_to_handle_at", "acct", "swapon", "swapoff", "reboot", "syslog", "quotactl", "vhangup",
  "lookup_dcookie", "iopl", "ioperm", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
  "ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
};

// NOTE: clone's first argument carries the namespace flags; clone3 passes them in memory seccomp
// cannot read, so it answers ENOSYS and libc falls back to clone (as runc and Docker do).
static const unsigned long CLONE_NEW_FLAGS[] = {
  CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
};

// NOTE: personality flags that weaken memory protection (no ASLR, executable data, a mapped page
// zero, the legacy layout) are refused, so is the 0xffffffff query that carries them all.
static const unsigned long PERSONALITY_DENIED[] = { 0x0040000, 0x0400000, 0x0100000, 0x0200000 };

// NOTE: needs CAP_SETPCAP, so it runs before the payload's uid is taken (which clears it).
int jail_drop_bounding (struct failure *f) {
  for (int cap = 0; cap <= CAP_LAST_CAP; cap++) {
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) {
      return fail_with(f, "drop-caps", errno, "cannot drop capability %d from the bounding set", cap);
    }
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
    return fail_with(f, "drop-caps", errno, "cannot clear ambient capabilities");
  }
  return 0;
}

static int clear_capabilities (struct failure *f) {
  struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct data[2] = { { 0, 0, 0 }, { 0, 0, 0 } };
  if (syscall(SYS_capset, &header, data) < 0) return fail_with(f, "drop-caps", errno, "cannot clear capabilities");
  return 0;
}

static int seccomp_filter (struct failure *f) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (ctx == NULL) return fail_with(f, "seccomp", ENOMEM, "cannot create a seccomp filter");
  int rc = 0;
  // NOTE: x86-64 processes can enter the kernel through the i386 and x32 tables too; the filter
  // covers all three, or `int 0x80` would walk around it.
  if (seccomp_arch_native() == SCMP_ARCH_X86_64) {
    if ((rc = seccomp_arch_add(ctx, SCMP_ARCH_X86)) < 0 && rc != -EEXIST) goto out;
    if ((rc = seccomp_arch_add(ctx, SCMP_ARCH_X32)) < 0 && rc != -EEXIST) goto out;
  }
  for (size_t i = 0; i < sizeof DENIED / sizeof *DENIED; i++) {
    int nr = seccomp_syscall_resolve_name(DENIED[i]);
    if (nr == __NR_SCMP_ERROR) continue;
    if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0)) < 0) goto out;
  }
  for (size_t i = 0; i < sizeof CLONE_NEW_FLAGS / sizeof *CLONE_NEW_FLAGS; i++) {
    unsigned long flag = CLONE_NEW_FLAGS[i];
    if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag))) < 0) goto out;
  }
  if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0)) < 0) goto out;
  // NOTE: TIOCSTI pushes bytes into a terminal's input and TIOCLINUX can too: a jailed process
  // must not type into the terminal it shares with its caller (CVE-2016-7545 and kin).
  static const unsigned long TTY_INJECT[] = { TIOCSTI, TIOCLINUX };
  for (size_t i = 0; i < 2; i++) {
    if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, TTY_INJECT[i]))) < 0) goto out;
  }
  for (size_t i = 0; i < sizeof PERSONALITY_DENIED / sizeof *PERSONALITY_DENIED; i++) {
    unsigned long flag = PERSONALITY_DENIED[i];
    if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(personality), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag))) < 0) goto out;
  }
  rc = seccomp_load(ctx);
out:
  seccomp_release(ctx);
  return rc < 0 ? fail_with(f, "seccomp", -rc, "cannot install the seccomp filter") : 0;
}

// NOTE: order matters: what capabilities remain (a root payload's) are cleared, then
// no_new_privs (required for an unprivileged seccomp filter, and what makes set-uid binaries
// inert), then the filter.
int jail_apply (struct failure *f) {
  if (clear_capabilities(f) < 0) return -1;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return fail_with(f, "no-new-privs", errno, "cannot set no_new_privs");
  return seccomp_filter(f);
}
