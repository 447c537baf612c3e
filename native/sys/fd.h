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

}  // namespace troupe::sys
