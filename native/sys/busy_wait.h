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
 * that ended within the limit, and stop as soon as a spin runs out empty; after such a spin, only two
 * short waits in a row arm it again, until a spin finds something. A thread that trades one quick
 * exchange between long pauses wastes one spin, not one per pause; one in a run of quick exchanges keeps
 * spinning.
 */
class BusyWait {
 public:
  /** limit_ns: the longest spin; 0 turns busy waiting off. */
  void set_limit(int64_t limit_ns);
  int64_t limit() const { return limit_ns_; }

  /** How long to spin before this wait: 0 (sleep at once) or the limit. */
  int64_t budget() const { return armed() ? limit_ns_ : 0; }

  /** A wait (spin included) ended after waited_ns. */
  void woke_after(int64_t waited_ns);

  /** A spin ran out with nothing: sleep until two short waits in a row show spinning may pay again. */
  void spun_empty() {
    short_waits_ = 0;
    arm_after_ = 2;
  }

  /** A spin found an event: one short wait arms the next spin again. */
  void spun_found() { arm_after_ = 1; }

 private:
  bool armed() const { return short_waits_ >= arm_after_; }

  int64_t limit_ns_ = 0;
  int short_waits_ = 0;  // in a row, counted up to 2
  int arm_after_ = 1;    // short waits in a row that arm a spin
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
