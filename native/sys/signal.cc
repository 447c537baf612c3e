// The latch of pending signals over an eventfd, and raise(3).
#include "signal.h"

#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace troupe::sys {

int raise_signal(int sig) {
  // raise(3) returns nonzero and sets errno on failure.
  return ::raise(sig) == 0 ? 0 : -errno;
}

int SignalLatch::open() {
  if (is_open()) return -EBUSY;
  UniqueFd fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!fd.valid()) return -errno;
  fd_ = std::move(fd);
  bits_ = 0;
  return 0;
}

void SignalLatch::close() {
  fd_.reset();
  bits_ = 0;
}

int SignalLatch::post(int sig) {
  if (!is_open()) return -EBADF;
  if (sig < 1 || sig > kMaxSignal) return -EINVAL;
  uint64_t was = bits_;
  bits_ |= uint64_t{1} << (sig - 1);
  if (was != 0) return 0;
  // NB: the eventfd's counter is nonzero exactly while bits_ is: written on the first pending signal,
  // drained by the take() that empties bits_. EAGAIN (a saturated counter) is readable anyway.
  uint64_t one = 1;
  if (write(fd_.get(), &one, sizeof one) < 0 && errno != EAGAIN) return -errno;
  return 0;
}

int SignalLatch::take() {
  if (!is_open()) return -EBADF;
  if (bits_ == 0) return 0;
  int sig = __builtin_ctzll(bits_) + 1;
  bits_ &= bits_ - 1;
  if (bits_ == 0) {
    uint64_t count;
    ssize_t rc = read(fd_.get(), &count, sizeof count);
    (void)rc;  // EAGAIN: nothing to drain, which is the state wanted
  }
  return sig;
}

DispositionKeeper& dispositions() {
  // NB: one per process: every thread's instance of the addon shares this library's statics. Never
  // destroyed: a worker may still close a listener while the process runs its exit handlers.
  static DispositionKeeper* keeper = new DispositionKeeper();
  return *keeper;
}

}  // namespace troupe::sys
