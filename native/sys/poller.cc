// epoll + eventfd + timerfd: the smallest poller that makes its own fd a complete readiness signal.
#include "poller.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cmath>
#include <cstring>

namespace troupe::sys {

namespace {

// NB: the alert and the timer are registered with these data values; user fds carry (token << 32 | fd),
// and fd numbers are never negative, so neither can collide with a user registration.
constexpr uint64_t kAlertData = ~uint64_t{0};
constexpr uint64_t kTimerData = ~uint64_t{0} - 1;

int add_internal(int epfd, int fd, uint64_t data) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = data;
  return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : -errno;
}

}  // namespace

int Poller::open() {
  if (is_open()) return -EBUSY;
  UniqueFd ep(epoll_create1(EPOLL_CLOEXEC));
  if (!ep.valid()) return -errno;
  // epoll_wait ignores O_NONBLOCK, but every fd of ours is born non-blocking (STYLE.md), this one too.
  if (fcntl(ep.get(), F_SETFL, fcntl(ep.get(), F_GETFL) | O_NONBLOCK) != 0) return -errno;
  UniqueFd alert(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!alert.valid()) return -errno;
  UniqueFd timer(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
  if (!timer.valid()) return -errno;
  if (int rc = add_internal(ep.get(), alert.get(), kAlertData)) return rc;
  if (int rc = add_internal(ep.get(), timer.get(), kTimerData)) return rc;
  epoll_ = std::move(ep);
  alert_ = std::move(alert);
  timer_ = std::move(timer);
  ready_.resize(64);
  return 0;
}

void Poller::close() {
  // Closing the epoll fd drops every registration with it; user fds stay open (they are not ours).
  regs_.clear();
  timer_.reset();
  alert_.reset();
  epoll_.reset();
}

int Poller::set(int fd, uint32_t events, uint32_t token) {
  if (!is_open()) return -EBADF;
  if (fd < 0) return -EBADF;
  events &= kInterest;
  auto it = regs_.find(fd);
  if (events == 0) {
    if (it == regs_.end()) return 0;
    regs_.erase(it);
    // A DEL of an fd that was closed behind our back fails with EBADF/ENOENT; the kernel already forgot it.
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr) != 0 && errno != EBADF && errno != ENOENT)
      return -errno;
    return 0;
  }
  if (it != regs_.end() && it->second.events == events && it->second.token == token) return 0;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = (uint64_t{token} << 32) | static_cast<uint32_t>(fd);
  int op = it == regs_.end() ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
  if (epoll_ctl(epoll_.get(), op, fd, &ev) != 0) {
    int err = errno;
    // The shadow said MOD but the kernel lost the fd (closed and reused): re-add it.
    if (op == EPOLL_CTL_MOD && err == ENOENT && epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) == 0) {
      it->second = {events, token};
      return 0;
    }
    if (it != regs_.end()) regs_.erase(it);
    return -err;
  }
  regs_[fd] = {events, token};
  return 0;
}

uint32_t Poller::mask(int fd) const {
  auto it = regs_.find(fd);
  return it == regs_.end() ? 0 : it->second.events;
}

int Poller::alert() {
  if (!is_open()) return -EBADF;
  uint64_t one = 1;
  // EAGAIN means the counter is saturated: it is readable either way.
  if (write(alert_.get(), &one, sizeof one) < 0 && errno != EAGAIN) return -errno;
  return 0;
}

int Poller::arm(double delay_ms) {
  if (!is_open()) return -EBADF;
  // +Infinity and NaN mean "never": disarm. -Infinity means "already due".
  if (std::isnan(delay_ms) || delay_ms == HUGE_VAL) return disarm();
  // NB: never early. Round up to whole milliseconds, and a zero it_value would disarm, so use 1 ns.
  double ms = std::isfinite(delay_ms) ? std::ceil(delay_ms) : 0;
  if (ms > 1e12) ms = 1e12;
  itimerspec spec{};
  if (ms <= 0) {
    spec.it_value.tv_nsec = 1;
  } else {
    auto whole = static_cast<long long>(ms);
    spec.it_value.tv_sec = static_cast<time_t>(whole / 1000);
    spec.it_value.tv_nsec = static_cast<long>((whole % 1000) * 1000000);
  }
  return timerfd_settime(timer_.get(), 0, &spec, nullptr) == 0 ? 0 : -errno;
}

int Poller::disarm() {
  if (!is_open()) return -EBADF;
  itimerspec spec{};
  return timerfd_settime(timer_.get(), 0, &spec, nullptr) == 0 ? 0 : -errno;
}

int Poller::wait(int timeout_ms, int32_t* out, size_t max_pairs) {
  if (!is_open()) return -EBADF;
  if (max_pairs == 0) return 0;
  if (ready_.size() < max_pairs) ready_.resize(max_pairs);
  // NB: never take more events from the kernel than can be reported. epoll hands out ready fds round-robin
  // (those returned go to the back of its ready list); dropping some would starve the others.
  size_t pairs = 0;
  size_t want = max_pairs;
  // At most two internal fds exist, so three rounds always fill the batch if enough users are ready.
  for (int round = 0; round < 3 && want > 0; round++) {
    int n = epoll_wait(epoll_.get(), ready_.data(), static_cast<int>(want), round == 0 ? timeout_ms : 0);
    if (n < 0) return pairs > 0 ? static_cast<int>(pairs) : -errno;
    size_t internal = 0;
    for (int i = 0; i < n; i++) {
      const epoll_event& ev = ready_[i];
      if (ev.data.u64 == kAlertData || ev.data.u64 == kTimerData) {
        // Drain it so the poller fd stops being readable for this cause; EAGAIN is a lost race, harmless.
        uint64_t count;
        int fd = ev.data.u64 == kAlertData ? alert_.get() : timer_.get();
        ssize_t rc = read(fd, &count, sizeof count);
        (void)rc;
        internal++;
        continue;
      }
      out[2 * pairs] = static_cast<int32_t>(ev.data.u64 >> 32);
      out[2 * pairs + 1] = static_cast<int32_t>(ev.events);
      pairs++;
    }
    // The alert or the timer took slots of a full batch: look once more for the user events they displaced.
    if (static_cast<size_t>(n) < want || internal == 0) break;
    want = internal;
  }
  return static_cast<int>(pairs);
}

}  // namespace troupe::sys
