// Small fd utilities shared by the binding and the native tests.
#pragma once

#include <errno.h>
#include <fcntl.h>

namespace troupe::sys {

constexpr int kFlagCloexec = 1;
constexpr int kFlagNonblock = 2;

// The CLOEXEC and NONBLOCK state of fd as kFlag* bits, or -errno.
inline int fd_flags(int fd) {
  int fdfl = fcntl(fd, F_GETFD);
  if (fdfl < 0) return -errno;
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0) return -errno;
  return ((fdfl & FD_CLOEXEC) ? kFlagCloexec : 0) | ((fl & O_NONBLOCK) ? kFlagNonblock : 0);
}

// Sets FD_CLOEXEC on fd and sets (blocking == false) or clears O_NONBLOCK: for an fd taken over from
// outside, which every fd the runtime owns must be CLOEXEC. Returns 0 or -errno.
// NB: O_NONBLOCK belongs to the open file description, which a dup or an fd passed over SCM_RIGHTS shares
// with the sender: the change shows there too (FD_CLOEXEC is this fd's alone).
inline int set_blocking(int fd, bool blocking) {
  int fdfl = fcntl(fd, F_GETFD);
  if (fdfl < 0) return -errno;
  if (!(fdfl & FD_CLOEXEC) && fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) != 0) return -errno;
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0) return -errno;
  int want = blocking ? (fl & ~O_NONBLOCK) : (fl | O_NONBLOCK);
  if (want != fl && fcntl(fd, F_SETFL, want) != 0) return -errno;
  return 0;
}

// A new descriptor for the same open file, born CLOEXEC (fcntl F_DUPFD_CLOEXEC), or -errno.
inline int dup_cloexec(int fd) {
  int r = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  return r < 0 ? -errno : r;
}

}  // namespace troupe::sys
