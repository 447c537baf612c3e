#include "busy_wait.h"

#include <sched.h>
#include <sys/epoll.h>
#include <time.h>

namespace troupe::sys {

int64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void BusyWait::set_limit(int64_t limit_ns) {
  limit_ns_ = limit_ns > 0 ? limit_ns : 0;
  if (limit_ns_ == 0) {
    short_waits_ = 0;
    arm_after_ = 1;
  }
}

void BusyWait::woke_after(int64_t waited_ns) {
  if (limit_ns_ > 0 && waited_ns <= limit_ns_) {
    if (short_waits_ < 2) short_waits_++;
  } else {
    short_waits_ = 0;
  }
}

bool spin_until_ready(int epfd, int64_t budget_ns) {
  const int64_t end = monotonic_ns() + budget_ns;
  epoll_event ev{};
  for (;;) {
    int n = epoll_wait(epfd, &ev, 1, 0);
    if (n > 0) return true;
    if (n < 0 || monotonic_ns() >= end) return false;
    sched_yield();
  }
}

}  // namespace troupe::sys
