// Busy waiting on the calling thread's event loop (sys::BusyWait): a uv_prepare that spins on the loop's
// epoll set just before the loop would sleep, and a uv_check that times the wait that follows.
#include <uv.h>

#include <cerrno>
#include <cmath>

#include "../sys/busy_wait.h"
#include "addon.h"
#include "args.h"

namespace troupe::binding {

struct BusyWaitLoop {
  uv_prepare_t prepare;
  uv_check_t check;
  sys::BusyWait policy;
  int64_t wait_start = 0;
  AddonData* data = nullptr;
  int open = 2;  // handles not yet closed
};

namespace {

constexpr double kMaxLimitUs = 10'000;  // 10 ms: past that, sleeping is the better deal whatever the cost

void before_wait(uv_prepare_t* h) {
  auto* b = static_cast<BusyWaitLoop*>(h->data);
  uv_loop_t* loop = h->loop;
  b->wait_start = sys::monotonic_ns();
  int64_t budget = b->policy.budget();
  if (budget == 0) return;
  // NB: only when the loop is about to block (nothing pending, no immediate), and never past a timer.
  int timeout_ms = uv_backend_timeout(loop);
  if (timeout_ms == 0) return;
  if (timeout_ms > 0 && static_cast<int64_t>(timeout_ms) * 1'000'000 < budget) budget = static_cast<int64_t>(timeout_ms) * 1'000'000;
  if (sys::spin_until_ready(uv_backend_fd(loop), budget)) b->policy.spun_found();
  else b->policy.spun_empty();
}

void after_wait(uv_check_t* h) {
  auto* b = static_cast<BusyWaitLoop*>(h->data);
  // NB: the wait is timed from before the spin: a spin that ran out, and the sleep after it, make one long
  // wait, which disarms the next spin.
  b->policy.woke_after(sys::monotonic_ns() - b->wait_start);
}

void on_closed(uv_handle_t* h) {
  auto* b = static_cast<BusyWaitLoop*>(h->data);
  AddonData* data = b->data;
  if (--b->open == 0) delete b;
  handle_closed(data);
}

// busyWait(limitUs): spin up to limitUs before this thread's loop sleeps, when waits have been that short
// lately (0: never). Returns the limit it replaces (µs), or -errno if the loop's handles cannot be set up.
Napi::Value BusyWaitSet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Args args(info);
  double us = args.Double(0, "limitUs");
  if (!args.ok()) return env.Undefined();
  if (!std::isfinite(us) || us < 0 || us > kMaxLimitUs) {
    throw_arg_error(env, true, "The value of \"limitUs\" is out of range. It must be >= 0 and <= 10000. Received " + std::to_string(us));
    return env.Undefined();
  }
  AddonData* data = addon_data(env);
  if (data->tearing_down) return Napi::Number::New(env, -ESHUTDOWN);
  BusyWaitLoop* b = data->busy_wait;
  if (b == nullptr) {
    if (us == 0) return Napi::Number::New(env, 0);  // off, and it was
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) return Napi::Number::New(env, -EINVAL);
    b = new BusyWaitLoop();
    b->data = data;
    uv_prepare_init(loop, &b->prepare);
    uv_check_init(loop, &b->check);
    b->prepare.data = b;
    b->check.data = b;
    // NB: unreferenced: busy waiting never keeps a loop (a process, a worker) alive.
    uv_unref(reinterpret_cast<uv_handle_t*>(&b->prepare));
    uv_unref(reinterpret_cast<uv_handle_t*>(&b->check));
    data->busy_wait = b;
  }
  double before = static_cast<double>(b->policy.limit()) / 1000;
  b->policy.set_limit(static_cast<int64_t>(us * 1000));
  // NB: off, the handles stop (no clock reads per loop turn); starting a started one is a no-op.
  if (us == 0) {
    uv_prepare_stop(&b->prepare);
    uv_check_stop(&b->check);
  } else {
    uv_prepare_start(&b->prepare, before_wait);
    uv_check_start(&b->check, after_wait);
  }
  return Napi::Number::New(env, before);
}

}  // namespace

int busy_wait_teardown(AddonData* data) {
  BusyWaitLoop* b = data->busy_wait;
  if (b == nullptr) return 0;
  data->busy_wait = nullptr;
  b->policy.set_limit(0);
  uv_close(reinterpret_cast<uv_handle_t*>(&b->prepare), on_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&b->check), on_closed);
  return 2;
}

void init_busy_wait(Napi::Env env, Napi::Object exports) {
  exports.Set("busyWait", Napi::Function::New(env, BusyWaitSet, "busyWait"));
}

}  // namespace troupe::binding
