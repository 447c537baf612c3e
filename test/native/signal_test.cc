// sys::SignalLatch, sys::raise_signal and sys::DispositionKeeper tested directly, without Node or libuv:
// built and run by run-asan.sh.
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "../../native/sys/fd.h"
#include "../../native/sys/signal.h"
#include "check.h"

using troupe::sys::DispositionKeeper;
using troupe::sys::fd_flags;
using troupe::sys::kFlagCloexec;
using troupe::sys::kFlagNonblock;
using troupe::sys::kMaxSignal;
using troupe::sys::raise_signal;
using troupe::sys::SignalLatch;

namespace {

size_t fd_count() {
  size_t n = 0;
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return 0;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n - 1;  // the directory's own fd
}

std::string fd_target(int fd) {
  char buf[256];
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  ssize_t n = readlink(path.c_str(), buf, sizeof buf - 1);
  return n < 0 ? std::string() : std::string(buf, static_cast<size_t>(n));
}

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

sighandler_t handler_of(int sig) {
  struct sigaction sa = {};
  sigaction(sig, nullptr, &sa);
  return sa.sa_handler;
}

// ---- SignalLatch --------------------------------------------------------------------------------------------

void test_latch_open_close() {
  size_t base = fd_count();
  SignalLatch l;
  CHECK(!l.is_open());
  CHECK(l.fd() < 0);
  CHECK(l.post(SIGUSR1) == -EBADF);
  CHECK(l.take() == -EBADF);
  CHECK(l.open() == 0);
  CHECK(l.open() == -EBUSY);
  CHECK(fd_count() == base + 1);
  CHECK(fd_target(l.fd()) == "anon_inode:[eventfd]");
  CHECK(fd_flags(l.fd()) == (kFlagCloexec | kFlagNonblock));
  CHECK(!readable(l.fd()));
  l.close();
  l.close();
  CHECK(!l.is_open());
  CHECK(fd_count() == base);
  {
    SignalLatch dropped;
    CHECK(dropped.open() == 0);
    CHECK(dropped.post(SIGUSR2) == 0);
  }
  CHECK(fd_count() == base);  // the destructor closed it
}

void test_latch_readable_exactly_while_pending() {
  SignalLatch l;
  CHECK(l.open() == 0);
  CHECK(l.take() == 0);
  CHECK(l.post(SIGUSR2) == 0);
  CHECK(readable(l.fd()));
  CHECK(l.pending());
  // Repeats coalesce.
  CHECK(l.post(SIGUSR2) == 0);
  CHECK(l.post(SIGUSR2) == 0);
  CHECK(l.take() == SIGUSR2);
  CHECK(!l.pending());
  CHECK(!readable(l.fd()));
  CHECK(l.take() == 0);
  l.close();
}

void test_latch_lowest_first() {
  SignalLatch l;
  CHECK(l.open() == 0);
  for (int sig : {SIGWINCH, kMaxSignal, SIGHUP, SIGUSR2, 1}) CHECK(l.post(sig) == 0);
  std::vector<int> got;
  for (int s = l.take(); s > 0; s = l.take()) {
    got.push_back(s);
    CHECK(readable(l.fd()) == (s != kMaxSignal));  // readable until the last one is taken
  }
  CHECK((got == std::vector<int>{SIGHUP, SIGUSR2, SIGWINCH, kMaxSignal}));
  CHECK(!readable(l.fd()));
  // Taken and posted again: readable again.
  CHECK(l.post(SIGINT) == 0);
  CHECK(readable(l.fd()));
  CHECK(l.post(0) == -EINVAL);
  CHECK(l.post(kMaxSignal + 1) == -EINVAL);
  CHECK(l.post(-3) == -EINVAL);
  CHECK(l.take() == SIGINT);
  l.close();
}

// ---- raise ---------------------------------------------------------------------------------------------------

std::atomic<int> g_caught{0};

void test_raise() {
  struct sigaction sa = {}, old = {};
  sa.sa_handler = [](int) { g_caught++; };
  sigemptyset(&sa.sa_mask);
  CHECK(sigaction(SIGUSR2, &sa, &old) == 0);
  CHECK(raise_signal(SIGUSR2) == 0);
  CHECK(g_caught == 1);  // raise(3) runs the handler before it returns
  CHECK(raise_signal(-1) == -EINVAL);
  CHECK(raise_signal(1000) == -EINVAL);
  sigaction(SIGUSR2, &old, nullptr);
}

// ---- DispositionKeeper -------------------------------------------------------------------------------------

// A stand-in for libuv: one handler installed by the first of its watchers of a signal, SIG_DFL after
// the last, counted over "foreign" watchers (Node's process.on) and ours alike.
struct FakeUv {
  static void handler(int) {}
  int watchers[kMaxSignal + 1] = {};
  int start(int sig) {
    if (sig == SIGKILL || sig == SIGSTOP) return -EINVAL;
    if (watchers[sig]++ == 0) {
      struct sigaction sa = {};
      sa.sa_handler = handler;
      sigaction(sig, &sa, nullptr);
    }
    return 0;
  }
  void stop(int sig) {
    if (--watchers[sig] == 0) {
      struct sigaction sa = {};
      sa.sa_handler = SIG_DFL;
      sigaction(sig, &sa, nullptr);
    }
  }
};

void test_keeper_restores_after_our_last_watcher() {
  DispositionKeeper k;
  FakeUv uv;
  signal(SIGPIPE, SIG_IGN);
  CHECK(k.start(SIGPIPE, [&] { return uv.start(SIGPIPE); }) == 0);
  CHECK(k.start(SIGPIPE, [&] { return uv.start(SIGPIPE); }) == 0);
  CHECK(k.count(SIGPIPE) == 2);
  CHECK(handler_of(SIGPIPE) == FakeUv::handler);
  k.stop(SIGPIPE, [&] { uv.stop(SIGPIPE); });
  CHECK(handler_of(SIGPIPE) == FakeUv::handler);
  k.stop(SIGPIPE, [&] { uv.stop(SIGPIPE); });
  CHECK(k.count(SIGPIPE) == 0);
  CHECK(handler_of(SIGPIPE) == SIG_IGN);
  // A stop more than the starts changes nothing.
  k.stop(SIGPIPE, [] {});
  CHECK(k.count(SIGPIPE) == 0);
  signal(SIGPIPE, SIG_DFL);
}

void test_keeper_leaves_a_foreign_watcher_alone() {
  DispositionKeeper k;
  FakeUv uv;
  signal(SIGUSR1, SIG_IGN);
  // A foreign watcher outlives ours: its handler stays, and the foreign stop leaves SIG_DFL (libuv's way).
  CHECK(k.start(SIGUSR1, [&] { return uv.start(SIGUSR1); }) == 0);
  uv.start(SIGUSR1);
  k.stop(SIGUSR1, [&] { uv.stop(SIGUSR1); });
  CHECK(handler_of(SIGUSR1) == FakeUv::handler);
  uv.stop(SIGUSR1);
  CHECK(handler_of(SIGUSR1) == SIG_DFL);
  // Ours starts while a foreign one is there: what preceded both is unknown, so nothing is put back.
  signal(SIGUSR1, SIG_IGN);
  uv.start(SIGUSR1);
  CHECK(k.start(SIGUSR1, [&] { return uv.start(SIGUSR1); }) == 0);
  uv.stop(SIGUSR1);
  k.stop(SIGUSR1, [&] { uv.stop(SIGUSR1); });
  CHECK(handler_of(SIGUSR1) == SIG_DFL);
  signal(SIGUSR1, SIG_DFL);
}

void test_keeper_failed_start_is_not_counted() {
  DispositionKeeper k;
  FakeUv uv;
  CHECK(k.start(SIGKILL, [&] { return uv.start(SIGKILL); }) == -EINVAL);
  CHECK(k.count(SIGKILL) == 0);
  CHECK(k.start(0, [] { return 0; }) == -EINVAL);
  CHECK(k.start(kMaxSignal + 1, [] { return 0; }) == -EINVAL);
  CHECK(k.count(0) == 0);
}

void test_keeper_from_many_threads() {
  DispositionKeeper k;
  std::atomic<int> uv_watchers{0};
  signal(SIGUSR2, SIG_IGN);
  auto start = [&] {
    uv_watchers++;
    return 0;
  };
  std::vector<std::thread> ts;
  for (int t = 0; t < 8; t++)
    ts.emplace_back([&] {
      for (int i = 0; i < 1000; i++) {
        k.start(SIGUSR2, start);
        k.stop(SIGUSR2, [&] { uv_watchers--; });
      }
    });
  for (auto& t : ts) t.join();
  CHECK(k.count(SIGUSR2) == 0);
  CHECK(uv_watchers == 0);
  CHECK(handler_of(SIGUSR2) == SIG_IGN);
  signal(SIGUSR2, SIG_DFL);
}

}  // namespace

int main() {
  size_t baseline = fd_count();
  test_latch_open_close();
  test_latch_readable_exactly_while_pending();
  test_latch_lowest_first();
  test_raise();
  test_keeper_restores_after_our_last_watcher();
  test_keeper_leaves_a_foreign_watcher_alone();
  test_keeper_failed_start_is_not_counted();
  test_keeper_from_many_threads();
  CHECK(troupe::sys::dispositions().count(SIGUSR1) == 0);
  CHECK(fd_count() == baseline);
  return troupe::test::report();
}
