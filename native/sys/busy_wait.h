// Busy waiting before a thread sleeps: poll an epoll set for a short while, and only when waits have
// lately been short enough for it to pay.
#pragma once

#include <cstdint>

namespace troupe::sys {

/** CLOCK_MONOTONIC in nanoseconds. */
int64_t monotonic_ns();

/**
 * Whether to spin before the next sleep, and for how long: the policy of one thread's event loop.
 *
 * Waking a sleeping thread costs the waker a system call and the sleeper a trip through the scheduler
 * (on a VM, waking an idle vCPU costs tens of microseconds). When events come in quick succession, as in a
 * request/reply exchange between threads, a thread that polls for a few microseconds before it sleeps
 * gets the next one without sleeping. When they do not, polling only burns CPU. So: spin only after a wait
 * that ended within the limit (the next one may well too), and stop as soon as a spin runs out empty. The
 * CPU spent on spins that find nothing is then bounded by one limit's worth per short wait.
 */
class BusyWait {
 public:
  /** limit_ns: the longest spin; 0 turns busy waiting off. */
  void set_limit(int64_t limit_ns);
  int64_t limit() const { return limit_ns_; }

  /** How long to spin before this wait: 0 (sleep at once) or the limit. */
  int64_t budget() const { return armed_ ? limit_ns_ : 0; }

  /** A spin found an event (or a wait of waited_ns ended in one): the next wait spins if it was short. */
  void woke_after(int64_t waited_ns);

  /** A spin ran out with nothing: sleep at once until a short wait shows spinning may pay again. */
  void spun_empty() { armed_ = false; }

 private:
  int64_t limit_ns_ = 0;
  bool armed_ = false;
};

/**
 * Polls epfd (level-triggered; nothing is consumed) until one of its descriptors is ready or budget_ns
 * pass. Returns whether one is ready; false at once on an error (EINTR included: the loop will see).
 *
 * NB: it yields the CPU between polls (sched_yield) rather than spin on a pause: a spinning thread holds
 * its CPU for a whole time slice from any other runnable thread (V8's helper threads, another worker),
 * which measured as a doubled p99 round trip on two vCPUs; yielding costs nothing when none is waiting.
 */
bool spin_until_ready(int epfd, int64_t budget_ns);

}  // namespace troupe::sys
