// sys::BusyWait (the policy) and sys::spin_until_ready (the spin) tested directly, without Node or libuv:
// built and run by run-asan.sh.
#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <thread>

#include "../../native/sys/busy_wait.h"
#include "../../native/sys/unique_fd.h"
#include "check.h"

using troupe::sys::BusyWait;
using troupe::sys::monotonic_ns;
using troupe::sys::spin_until_ready;
using troupe::sys::UniqueFd;
using troupe::test::Pipe;

namespace {

constexpr int64_t kUs = 1000;
constexpr int64_t kMs = 1000 * kUs;

void policy_off_by_default() {
  BusyWait b;
  CHECK(b.limit() == 0);
  CHECK(b.budget() == 0);
  b.woke_after(0);  // a short wait arms nothing while there is no limit
  CHECK(b.budget() == 0);
}

void policy_arms_after_short_waits() {
  BusyWait b;
  b.set_limit(50 * kUs);
  CHECK(b.limit() == 50 * kUs);
  CHECK(b.budget() == 0);  // no wait seen yet: sleep at once
  b.woke_after(50 * kUs);  // the limit itself still counts as short
  CHECK(b.budget() == 50 * kUs);
  b.spun_found();
  b.woke_after(1 * kUs);
  CHECK(b.budget() == 50 * kUs);
  b.woke_after(50 * kUs + 1);  // a long wait disarms at once
  CHECK(b.budget() == 0);
  b.woke_after(1 * kUs);
  CHECK(b.budget() == 50 * kUs);  // one short wait arms again: no spin has come up empty
  b.set_limit(0);  // off disarms at once
  CHECK(b.budget() == 0);
  b.woke_after(1 * kUs);
  b.woke_after(1 * kUs);
  CHECK(b.budget() == 0);  // and stays so
  b.set_limit(-5);
  CHECK(b.limit() == 0);
}

void policy_after_an_empty_spin_needs_a_run() {
  BusyWait b;
  b.set_limit(50 * kUs);
  // A quick reply, then a pause, by turns: the first pause's spin comes up empty, and no other one spins.
  b.woke_after(1 * kUs);
  CHECK(b.budget() == 50 * kUs);
  b.spun_empty();
  b.woke_after(10 * kMs);
  int spins = 0;
  for (int i = 0; i < 4; i++) {
    b.woke_after(1 * kUs);
    if (b.budget() > 0) spins++;
    b.woke_after(10 * kMs);
    if (b.budget() > 0) spins++;
  }
  CHECK(spins == 0);
  // Two short waits in a row arm it; a spin that finds something makes one enough again.
  b.woke_after(1 * kUs);
  CHECK(b.budget() == 0);
  b.woke_after(1 * kUs);
  CHECK(b.budget() == 50 * kUs);
  b.spun_found();
  b.woke_after(10 * kMs);
  CHECK(b.budget() == 0);
  b.woke_after(1 * kUs);
  CHECK(b.budget() == 50 * kUs);
}

struct Epoll {
  UniqueFd ep{epoll_create1(EPOLL_CLOEXEC)};
  void add(int fd) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    CHECK(epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd, &ev) == 0);
  }
};

void spin_runs_out_when_nothing_comes() {
  Pipe p;
  Epoll e;
  e.add(p.r.get());
  int64_t t0 = monotonic_ns();
  CHECK(!spin_until_ready(e.ep.get(), 2 * kMs));
  int64_t took = monotonic_ns() - t0;
  CHECK(took >= 2 * kMs);
  CHECK(took < 500 * kMs);  // generous: a loaded machine may deschedule the spin
  t0 = monotonic_ns();
  CHECK(!spin_until_ready(e.ep.get(), 0));  // no budget: one look
  CHECK(monotonic_ns() - t0 < 500 * kMs);
}

void spin_sees_ready_at_once_and_consumes_nothing() {
  Pipe p;
  Epoll e;
  e.add(p.r.get());
  p.put();
  CHECK(spin_until_ready(e.ep.get(), 10 * kMs));
  // Level-triggered and nothing read: the loop that polls next still sees it.
  CHECK(spin_until_ready(e.ep.get(), 0));
  epoll_event ev{};
  CHECK(epoll_wait(e.ep.get(), &ev, 1, 0) == 1 && ev.data.fd == p.r.get());
  p.drain();
  CHECK(!spin_until_ready(e.ep.get(), 0));
}

void spin_catches_an_event_from_another_thread() {
  Pipe p;
  Epoll e;
  e.add(p.r.get());
  std::thread writer([&p] {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    p.put();
  });
  int64_t t0 = monotonic_ns();
  bool ready = spin_until_ready(e.ep.get(), 5000 * kMs);
  int64_t took = monotonic_ns() - t0;
  writer.join();
  CHECK(ready);
  CHECK(took < 4000 * kMs);  // it ended on the event, not at the budget
}

void spin_gives_up_on_a_bad_fd() {
  int fds[2];
  CHECK(pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0);  // an fd that is no epoll set
  int64_t t0 = monotonic_ns();
  CHECK(!spin_until_ready(fds[0], 5000 * kMs));
  CHECK(monotonic_ns() - t0 < 1000 * kMs);
  close(fds[0]);
  close(fds[1]);
}

}  // namespace

int main() {
  policy_off_by_default();
  policy_arms_after_short_waits();
  policy_after_an_empty_spin_needs_a_run();
  spin_runs_out_when_nothing_comes();
  spin_sees_ready_at_once_and_consumes_nothing();
  spin_catches_an_event_from_another_thread();
  spin_gives_up_on_a_bad_fd();
  return troupe::test::report();
}
