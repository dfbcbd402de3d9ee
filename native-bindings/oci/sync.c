// sync.c: fixed-size messages between a verb and the processes it forks (SOCK_SEQPACKET), an fd
// passed alongside when one travels (the pty master).
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "oci.h"

int send_fd (int sock, int fd, const void *data, size_t len) {
  char control[CMSG_SPACE (sizeof (int))] = { 0 };
  struct iovec iov = { .iov_base = (void *) data, .iov_len = len };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    struct cmsghdr *c = CMSG_FIRSTHDR (&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN (sizeof (int));
    memcpy (CMSG_DATA (c), &fd, sizeof (int));
  }
  ssize_t n;
  do n = sendmsg (sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n < 0 ? -1 : 0;
}

int recv_fd (int sock, int *fd, void *data, size_t len) {
  char control[CMSG_SPACE (sizeof (int))] = { 0 };
  struct iovec iov = { .iov_base = data, .iov_len = len };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
  ssize_t n;
  do n = recvmsg (sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (fd) *fd = -1;
  if (n <= 0) return (int) n;
  for (struct cmsghdr *c = CMSG_FIRSTHDR (&msg); c; c = CMSG_NXTHDR (&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && fd) memcpy (fd, CMSG_DATA (c), sizeof (int));
  return (int) n;
}

int sync_send (int fd, int type, int value, const char *message) {
  struct sync_msg m = { .type = type, .value = value };
  if (message) snprintf (m.message, sizeof m.message, "%s", message);
  return send_fd (fd, -1, &m, sizeof m);
}

int sync_send_fd (int fd, int type, int passed, const char *message) {
  struct sync_msg m = { .type = type };
  if (message) snprintf (m.message, sizeof m.message, "%s", message);
  return send_fd (fd, passed, &m, sizeof m);
}

int sync_recv (int fd, struct sync_msg *m, int *passed) {
  memset (m, 0, sizeof *m);
  int n = recv_fd (fd, passed, m, sizeof *m);
  if (n < 0) return -1;
  return n == 0 ? 0 : 1;
}
