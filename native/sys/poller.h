// The controller's kernel half: one epoll fd holding the waited-on fds, an eventfd alert and a timerfd.
#pragma once

#include <sys/epoll.h>

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "unique_fd.h"

namespace troupe::sys {

// NB: the poller's own fd is readable exactly when there is work: a registered fd is ready, the alert was
// raised, or the timer expired. Outer pollers (libuv, another controller) watch only that fd.
//
// Registrations are level-triggered. A shadow mask per fd mirrors what the kernel holds, so set() turns
// into EPOLL_CTL_ADD/MOD/DEL only when the mask really changes. Errors are -errno; nothing retries.
class Poller {
 public:
  // Events reported by wait() and accepted by set(): the epoll bits themselves.
  static constexpr uint32_t kIn = EPOLLIN;
  static constexpr uint32_t kPri = EPOLLPRI;
  static constexpr uint32_t kOut = EPOLLOUT;
  static constexpr uint32_t kInterest = kIn | kPri | kOut;

  // Creates the epoll fd, the alert and the timer, all CLOEXEC|NONBLOCK. Returns 0 or -errno.
  int open();
  // Closes all three; registrations are forgotten. Idempotent.
  void close();
  bool is_open() const { return epoll_.valid(); }
  int fd() const { return epoll_.get(); }

  // Sets the kernel interest of `fd` to `events` (kIn|kPri|kOut bits; 0 removes it) and its token, which
  // wait() reports with each of its events. Returns 0 or -errno (EBADF, EPERM, ELOOP when nesting pollers
  // deeper than the kernel allows).
  int set(int fd, uint32_t events, uint32_t token);
  // The mask the kernel holds for fd (0 if not registered).
  uint32_t mask(int fd) const;
  size_t size() const { return regs_.size(); }

  // Makes fd() readable until the next wait(). Safe from any thread. Returns 0 or -errno.
  int alert();
  // Arms the timer to expire `delay_ms` from now (rounded up to whole ms; <= 0 and -Infinity expire at
  // once; +Infinity and NaN disarm it). Returns 0 or -errno.
  int arm(double delay_ms);
  int disarm();

  // Waits up to timeout_ms (-1 = forever, 0 = poll) and writes (token, events) pairs of ready registered
  // fds into out[0 .. 2*max_pairs). The alert and the timer are consumed here and not reported. When it
  // returns max_pairs, more fds may be ready: call again. Returns the number of pairs or -errno (EINTR
  // included: the caller treats it as no events).
  int wait(int timeout_ms, int32_t* out, size_t max_pairs);

 private:
  struct Reg {
    uint32_t events;
    uint32_t token;
  };
  UniqueFd epoll_;
  UniqueFd alert_;
  UniqueFd timer_;
  std::unordered_map<int, Reg> regs_;
  std::vector<epoll_event> ready_;
};

}  // namespace troupe::sys
