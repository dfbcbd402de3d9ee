// net.c: a new network namespace's loopback interface, brought up (it starts down).
#include "launcher.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

// NOTE: a network namespace starts with only "lo", and down: programs that talk to themselves
// over 127.0.0.1 (test servers, build daemons) need it up. An ioctl on any socket does it; no
// netlink library is needed for one flag.
int net_loopback_up (struct failure *f) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail_with(f, "loopback", errno, "cannot open a socket to bring lo up");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) goto fail;
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) goto fail;
  close(fd);
  return 0;
fail:;
  int err = errno;
  close(fd);
  return fail_with(f, "loopback", err, "cannot bring lo up");
}
