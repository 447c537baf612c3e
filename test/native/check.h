// The native tests' tiny harness: CHECK counts passes and prints each failure; report() prints the
// closing "N passed, M failed" line and gives the exit status. Plus fixtures both test programs use.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "../../native/sys/unique_fd.h"

namespace troupe::test {

inline int g_passed = 0;
inline int g_failed = 0;

inline void check(bool ok, const char* expr, const char* file, int line) {
  if (ok) {
    g_passed++;
    return;
  }
  g_failed++;
  std::printf("FAIL %s:%d: %s\n", file, line, expr);
}

inline int report() {
  std::printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}

/** A non-blocking, close-on-exec pipe: a descriptor to make readable at will. */
struct Pipe {
  troupe::sys::UniqueFd r, w;
  Pipe() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0) {
      r.reset(fds[0]);
      w.reset(fds[1]);
    }
  }
  void put() const { (void)!write(w.get(), "x", 1); }
  void drain() const {
    char buf[64];
    while (read(r.get(), buf, sizeof buf) > 0) {
    }
  }
};

}  // namespace troupe::test

#define CHECK(cond) ::troupe::test::check((cond), #cond, __FILE__, __LINE__)
