// Signals: a latch of pending deliveries behind an eventfd, raise(3), and the dispositions to put back.
#pragma once

#include <signal.h>

#include <cstdint>
#include <mutex>
#include <utility>

#include "unique_fd.h"

namespace troupe::sys {

// Signal numbers a latch can hold: 1 .. kMaxSignal (Linux has 64, real-time ones included).
constexpr int kMaxSignal = 64;

// raise(3): sends sig to the calling thread. Returns 0 or -errno (EINVAL for an unknown signal).
int raise_signal(int sig);

// The deliveries one listener has not taken yet, and an eventfd that is readable exactly while there are
// any, so that any poller can wait for them. Repeats of a signal before take() coalesce into one.
// NB: not thread-safe: post() and take() run on one thread (the listener's loop, binding/signal.cc).
class SignalLatch {
 public:
  // Creates the eventfd (CLOEXEC|NONBLOCK). Returns 0 or -errno (EBUSY if already open).
  int open();
  // Closes the eventfd and forgets what was pending. Idempotent.
  void close();
  bool is_open() const { return fd_.valid(); }
  int fd() const { return fd_.get(); }

  // Records a delivery of sig. Returns 0 or -errno (EBADF when closed, EINVAL for sig out of range).
  int post(int sig);
  // The lowest-numbered pending signal, which stops being pending; 0 when none; -EBADF when closed.
  int take();
  bool pending() const { return bits_ != 0; }

 private:
  UniqueFd fd_;
  uint64_t bits_ = 0;  // bit (sig - 1) per pending signal
};

// NB: libuv installs its handler for a signal when the first watcher of it starts, in any loop of the
// process, and sets SIG_DFL when the last one stops: what was there before is lost (Node's SIG_IGN of
// SIGPIPE, its SIGINT/SIGTERM handlers that reset the terminal, the inspector's SIGUSR1). Node's own
// process.on/off has the same effect. The keeper saves the disposition before the first of *our* watchers
// of a signal starts and puts it back after our last one stops, when the watcher left SIG_DFL behind (so
// no other watcher, e.g. Node's process.on, remains). If another watcher was already installed when ours
// started, the earlier disposition is unknown and nothing is put back.
//
// One instance per process (dispositions are per process); start and stop of our watchers run under its
// lock. A watcher started outside it (Node's, on the main thread) racing with our last stop on another
// thread could find its handler replaced by the saved one: only a worker's close and a first
// process.on of the same signal at the same instant can do that.
class DispositionKeeper {
 public:
  // Runs start_watcher() (0 or -errno) for sig and counts it when it succeeds; returns its result.
  template <typename Start>
  int start(int sig, Start&& start_watcher) {
    if (sig < 1 || sig > kMaxSignal) return -EINVAL;
    std::lock_guard<std::mutex> lock(mu_);
    Entry& e = entries_[sig];
    struct sigaction before = {};
    if (e.count == 0) sigaction(sig, nullptr, &before);
    int rc = std::forward<Start>(start_watcher)();
    if (rc != 0) return rc;
    if (e.count++ == 0) {
      struct sigaction now = {};
      sigaction(sig, nullptr, &now);
      // Unchanged: a watcher's handler was installed already, and what preceded it is not known here.
      e.saved = now.sa_handler != before.sa_handler;
      e.prev = before;
    }
    return 0;
  }

  // Runs stop_watcher() for a watcher that start() counted; after the last one, puts the saved
  // disposition back if the watcher left SIG_DFL.
  template <typename Stop>
  void stop(int sig, Stop&& stop_watcher) {
    if (sig < 1 || sig > kMaxSignal) return;
    std::lock_guard<std::mutex> lock(mu_);
    std::forward<Stop>(stop_watcher)();
    Entry& e = entries_[sig];
    if (e.count == 0 || --e.count > 0 || !e.saved) return;
    e.saved = false;
    struct sigaction now = {};
    if (sigaction(sig, nullptr, &now) == 0 && now.sa_handler == SIG_DFL) sigaction(sig, &e.prev, nullptr);
  }

  // How many of our watchers of sig are started (tests).
  int count(int sig) {
    std::lock_guard<std::mutex> lock(mu_);
    return sig < 1 || sig > kMaxSignal ? 0 : entries_[sig].count;
  }

 private:
  struct Entry {
    int count = 0;
    bool saved = false;
    struct sigaction prev = {};
  };
  std::mutex mu_;
  Entry entries_[kMaxSignal + 1];
};

// The process's one keeper.
DispositionKeeper& dispositions();

}  // namespace troupe::sys
