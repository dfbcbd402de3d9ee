// console.c: a container's terminal: a pty from the container's own devpts (opened after
// pivot_root), made the controlling terminal and /dev/console, its master sent over
// --console-socket as runc does (SCM_RIGHTS, the data is the slave's name).
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>
#include "oci.h"

int pty_open (int *master, int *slave, char *name, size_t name_size, unsigned short rows, unsigned short cols, struct oci_error *e) {
  *master = open ("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (*master < 0) return oci_fail (e, errno, "terminal: cannot open /dev/ptmx in the container: %s", strerror (errno));
  int unlock = 0, n;
  if (ioctl (*master, TIOCSPTLCK, &unlock) < 0 || ioctl (*master, TIOCGPTN, &n) < 0) {
    int err = errno;
    close (*master);
    return oci_fail (e, err, "terminal: cannot unlock the pty: %s", strerror (err));
  }
  snprintf (name, name_size, "/dev/pts/%d", n);
  // NOTE: TIOCGPTPEER opens the slave through the master, never through a path someone could swap.
  *slave = ioctl (*master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (*slave < 0) {
    int err = errno;
    close (*master);
    return oci_fail (e, err, "terminal: cannot open the pty's slave %s: %s", name, strerror (err));
  }
  if (rows && cols) {
    struct winsize ws = { .ws_row = rows, .ws_col = cols };
    ioctl (*slave, TIOCSWINSZ, &ws);
  }
  return 0;
}

int pty_become_console (int slave, const char *name, struct oci_error *e) {
  if (setsid () < 0 && errno != EPERM) return oci_fail (e, errno, "terminal: setsid: %s", strerror (errno));
  if (ioctl (slave, TIOCSCTTY, 0) < 0) return oci_fail (e, errno, "terminal: cannot make %s the controlling terminal: %s", name, strerror (errno));
  for (int fd = 0; fd < 3; fd++)
    if (dup2 (slave, fd) < 0) return oci_fail (e, errno, "terminal: dup2: %s", strerror (errno));
  // NOTE: runtime-spec's default devices: /dev/console is the terminal when process.terminal is set.
  int f = open ("/dev/console", O_CREAT | O_RDWR | O_NOCTTY | O_CLOEXEC, 0600);
  if (f >= 0) close (f);
  if (mount (name, "/dev/console", NULL, MS_BIND, NULL) < 0)
    return oci_fail (e, errno, "terminal: cannot bind %s on /dev/console: %s", name, strerror (errno));
  return 0;
}

int console_send (const char *socket_path, int master, const char *name, struct oci_error *e) {
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  if (strlen (socket_path) >= sizeof addr.sun_path) return oci_fail (e, ENAMETOOLONG, "--console-socket %s: path too long", socket_path);
  strcpy (addr.sun_path, socket_path);
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect (fd, (struct sockaddr *) &addr, sizeof addr) < 0) {
    int err = errno;
    if (fd >= 0) close (fd);
    return oci_fail (e, err, "--console-socket %s: cannot connect: %s", socket_path, strerror (err));
  }
  int r = send_fd (fd, master, name, strlen (name));
  int err = errno;
  close (fd);
  if (r < 0) return oci_fail (e, err, "--console-socket %s: cannot send the terminal: %s", socket_path, strerror (err));
  return 0;
}
