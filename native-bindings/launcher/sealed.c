// sealed.c: the launcher runs from a sealed in-memory copy of itself, never from its host file.
#include "launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#define SEALED_NAME "fusejail-launcher"

extern char **environ;

/*
 * NOTE: CVE-2019-5736. A container that executes a file starting with "#!/proc/self/exe" makes the
 * kernel run the launcher's own binary as a container process, which could then write that host
 * file through /proc/self/exe (container root owns nothing but is uid 0, and the file is
 * root-owned). So before anything else the launcher copies itself into a memfd, seals it against
 * every change, and re-executes from it: every /proc/<pid>/exe that leads to it is read-only.
 */
void run_sealed (char **argv) {
  char self[64];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    self[n] = '\0';
    if (strncmp(self, "/memfd:" SEALED_NAME, sizeof "/memfd:" SEALED_NAME - 1) == 0) return;
  }
  int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (src < 0) die_with_errno(errno, "cannot read the launcher's own binary");
  struct stat st;
  if (fstat(src, &st) < 0) die_with_errno(errno, "cannot stat the launcher's own binary");
  int mem = memfd_create(SEALED_NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mem < 0) die_with_errno(errno, "memfd_create");
  for (off_t done = 0; done < st.st_size;) {
    ssize_t w = sendfile(mem, src, NULL, (size_t) (st.st_size - done));
    if (w <= 0) die_with_errno(w < 0 ? errno : EIO, "cannot copy the launcher into memory");
    done += w;
  }
  close(src);
  if (fcntl(mem, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
    die_with_errno(errno, "cannot seal the launcher's copy");
  }
  fexecve(mem, argv, environ);
  die_with_errno(errno, "cannot execute the launcher's sealed copy");
}
