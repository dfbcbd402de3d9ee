// jail.c: the kernel layer of the jail. Capabilities go, no_new_privs is set, and a seccomp filter
// (libseccomp) refuses every way to create or join namespaces or mounts. It is applied last.
#include "launcher.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

// NOTE: SerenityOS's jail forbids creating or attaching to resources; on Linux those are these
// calls. The rest follows Docker's default profile (kernel keyrings, BPF, perf, module and kexec
// loading, userfaultfd, handle-based opens, and since Docker 25 the io_uring calls: a second
// syscall surface, with its own share of kernel bugs, that seccomp cannot see into), answering EPERM.
static const char *const DENIED[] = {
  "unshare", "setns", "mount", "umount2", "pivot_root", "chroot",
  "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
  "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "kexec_load", "kexec_file_load",
  "init_module", "finit_module", "delete_module", "userfaultfd", "open_by_handle_at",
  "name_to_handle_at", "acct", "swapon", "swapoff", "reboot", "syslog", "quotactl", "vhangup",
  "lookup_dcookie", "iopl", "ioperm", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
  "ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
  "io_uring_setup", "io_uring_enter", "io_uring_register",
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

// The highest syscall number this libseccomp knows for an arch, at or above `base` and below
// `base + limit`; -1 when it knows none.
static long highest_known (uint32_t arch, long base, long limit) {
  long highest = -1;
  for (long nr = base; nr < base + limit; nr++) {
    char *name = seccomp_syscall_resolve_num_arch(arch, (int) nr);
    if (name != NULL) highest = nr;
    free(name);
  }
  return highest;
}

#define X32_BIT 0x40000000u
// NOTE: x32's own calls (the 64-bit ABI's with x32 structures) are numbered from 512.
#define X32_OWN 512u

/*
 * NOTE: syscalls unknown to the filter are denied (ENOSYS, what an older kernel answers, so libc
 * falls back): the filter above allows by default, so without this every call a future kernel
 * adds would be allowed unexamined. libseccomp has no comparison on the syscall number, and a
 * rule per unknown number (about 1700 over three tables) would come close to the kernel's 4096
 * instruction limit, so this is a second, tiny classic BPF filter stacked on the first: per
 * table, every number above the highest one this libseccomp knows. The bounds come from
 * libseccomp, so an upgrade that knows more calls (and can filter them) lets them through.
 * The kernel runs every filter and the most restrictive answer wins.
 */
static int deny_unknown (struct failure *f) {
  if (seccomp_arch_native() != SCMP_ARCH_X86_64) return 0;
  long x86_64 = highest_known(SCMP_ARCH_X86_64, 0, X32_OWN);
  long i386 = highest_known(SCMP_ARCH_X86, 0, 1024);
  long x32_common = highest_known(SCMP_ARCH_X32, X32_BIT, X32_OWN) - X32_BIT;
  long x32_own = highest_known(SCMP_ARCH_X32, X32_BIT + X32_OWN, 1024 - X32_OWN) - X32_BIT;
  if (x86_64 < 0 || i386 < 0 || x32_common < 0 || x32_own < 0) return fail_with(f, "seccomp", EINVAL, "libseccomp knows no x86 syscalls");
  struct sock_filter code[] = {
    /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
    /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 2, 0),
    /* 2 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 9, 0),
    /* 3 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    /* 4 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    /* 5 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_BIT, 2, 0),
    /* 6 */ BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, (uint32_t) x86_64, 8, 0),
    /* 7 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    // x32: numbers above its common calls and below its own, or above its own, are unknown.
    /* 8 */ BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, X32_BIT + (uint32_t) x32_own, 6, 0),
    /* 9 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_BIT + X32_OWN, 1, 0),
    /* 10 */ BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, X32_BIT + (uint32_t) x32_common, 4, 0),
    /* 11 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    /* 12 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    /* 13 */ BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, (uint32_t) i386, 1, 0),
    /* 14 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    /* 15 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
  };
  struct sock_fprog prog = { .len = sizeof code / sizeof *code, .filter = code };
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0) return fail_with(f, "seccomp", errno, "cannot install the filter of unknown syscalls");
  return 0;
}

// NOTE: order matters: what capabilities remain (a root payload's) are cleared, then
// no_new_privs (required for an unprivileged seccomp filter, and what makes set-uid binaries
// inert), then the filter.
int jail_apply (struct failure *f) {
  if (clear_capabilities(f) < 0) return -1;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return fail_with(f, "no-new-privs", errno, "cannot set no_new_privs");
  if (seccomp_filter(f) < 0) return -1;
  return deny_unknown(f);
}
