// The native tests' tiny harness: CHECK counts passes and prints each failure; report() prints the
// closing "N passed, M failed" line and gives the exit status.
#pragma once

#include <cstdio>

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

}  // namespace troupe::test

#define CHECK(cond) ::troupe::test::check((cond), #cond, __FILE__, __LINE__)
