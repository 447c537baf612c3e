// inotify syscalls and the record parser (see inotify.h).
#include "inotify.h"

#include <unistd.h>

#include <cstring>

namespace troupe::sys {

int inotify_init1() {
  int fd = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  return fd < 0 ? -errno : fd;
}

int inotify_add_watch(int fd, const char* path, uint32_t mask) {
  int wd = ::inotify_add_watch(fd, path, mask);
  return wd < 0 ? -errno : wd;
}

int inotify_rm_watch(int fd, int wd) {
  return ::inotify_rm_watch(fd, wd) != 0 ? -errno : 0;
}

int parse_inotify(const uint8_t* buf, size_t len, InotifyRecord* out, size_t max) {
  constexpr size_t kHeader = offsetof(inotify_event, name);
  size_t off = 0;
  size_t n = 0;
  while (off < len) {
    if (len - off < kHeader) return -EBADMSG;
    // NB: memcpy, not a cast: a caller's buffer (a JS Uint8Array) need not be aligned for inotify_event.
    inotify_event ev;
    std::memcpy(&ev, buf + off, kHeader);
    if (ev.len > len - off - kHeader) return -EBADMSG;
    if (n == max) return -ENOBUFS;
    const uint8_t* name = buf + off + kHeader;
    const void* nul = ev.len == 0 ? name : std::memchr(name, 0, ev.len);
    size_t name_len = nul == nullptr ? ev.len : static_cast<size_t>(static_cast<const uint8_t*>(nul) - name);
    out[n++] = {ev.wd, ev.mask, ev.cookie, static_cast<uint32_t>(off + kHeader), static_cast<uint32_t>(name_len)};
    off += kHeader + ev.len;
  }
  return static_cast<int>(n);
}

int read_inotify(int fd, uint8_t* buf, size_t len, InotifyRecord* out, size_t max) {
  if (len < kInotifyReadMin || max < len / kInotifyRecordMin) return -EINVAL;
  ssize_t got = ::read(fd, buf, len);
  if (got < 0) return -errno;
  return parse_inotify(buf, static_cast<size_t>(got), out, max);
}

}  // namespace troupe::sys
