// inotify as free functions (each returns a result >= 0 or -errno; none blocks, none retries), and a parser
// of the event records read(2) from an inotify descriptor.
#pragma once

#include <errno.h>
#include <limits.h>
#include <sys/inotify.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>

#include "socket.h"  // Constant

namespace troupe::sys {

// inotify_init1(IN_CLOEXEC | IN_NONBLOCK): the new fd or -errno.
int inotify_init1();
// inotify_add_watch(fd, path, mask): the watch descriptor or -errno. Watching an inode this instance
// already watches returns that inode's wd again (with `mask` replacing its mask).
int inotify_add_watch(int fd, const char* path, uint32_t mask);
// inotify_rm_watch(fd, wd): 0 or -errno (-EINVAL once the kernel has dropped the watch itself: the
// file was deleted, or its file system unmounted; an IN_IGNORED record says so).
int inotify_rm_watch(int fd, int wd);

// One record of an inotify read: the name, when there is one, lies in the read buffer at
// [name_off, name_off + name_len), without its NUL padding. name_len == 0: the event is about the watched
// object itself (or, for IN_Q_OVERFLOW, about no watch: wd == -1).
struct InotifyRecord {
  int32_t wd;
  uint32_t mask;
  uint32_t cookie;
  uint32_t name_off;
  uint32_t name_len;
};

// The smallest record (a header without a name): a buffer of n bytes holds at most n / this many.
constexpr size_t kInotifyRecordMin = sizeof(inotify_event);
// A buffer for one read must hold at least one record with the longest name.
constexpr size_t kInotifyReadMin = sizeof(inotify_event) + NAME_MAX + 1;

// Parses the `len` bytes of records at buf into out[0 .. max): returns how many, or -EBADMSG when a
// record's header or name runs past `len` (the kernel never does that) and -ENOBUFS when more than `max`
// records are there. Never reads outside [buf, buf + len); buf needs no particular alignment.
int parse_inotify(const uint8_t* buf, size_t len, InotifyRecord* out, size_t max);

// read(2) of whole records into buf (len >= kInotifyReadMin, else -EINVAL before reading), parsed into
// out[0 .. max), max >= len / kInotifyRecordMin (else -EINVAL before reading, since read records cannot be
// put back). Returns the count of records, -EAGAIN when none is queued, or -errno.
int read_inotify(int fd, uint8_t* buf, size_t len, InotifyRecord* out, size_t max);

// The constants the binding exports, under their C names (Linux values, all positive int32).
inline constexpr Constant kInotifyConstants[] = {
    {"IN_MODIFY", IN_MODIFY},         {"IN_ATTRIB", IN_ATTRIB},
    {"IN_MOVED_FROM", IN_MOVED_FROM}, {"IN_MOVED_TO", IN_MOVED_TO},
    {"IN_CREATE", IN_CREATE},         {"IN_DELETE", IN_DELETE},
    {"IN_DELETE_SELF", IN_DELETE_SELF}, {"IN_MOVE_SELF", IN_MOVE_SELF},
    {"IN_UNMOUNT", IN_UNMOUNT},       {"IN_Q_OVERFLOW", IN_Q_OVERFLOW},
    {"IN_IGNORED", IN_IGNORED},       {"IN_ONLYDIR", IN_ONLYDIR},
    {"IN_DONT_FOLLOW", IN_DONT_FOLLOW}, {"IN_EXCL_UNLINK", IN_EXCL_UNLINK},
    {"IN_ISDIR", IN_ISDIR},
};

}  // namespace troupe::sys
