// Signal listeners: one uv_signal_t per (listener, signal) on the calling thread's loop, each waking the
// listener's latch (an eventfd). Thin functions keyed by that eventfd; numbers in, a number or -errno out.
#include <uv.h>

#include <memory>
#include <vector>

#include "../sys/signal.h"
#include "addon.h"
#include "args.h"

namespace troupe::binding {

// NB: libuv's signal handling is process-wide. Its handler, installed with the first watcher of a signal
// in any loop of the process, writes every delivery to the loop of each started watcher of that signal;
// each loop then runs its watchers' callbacks on its own thread. So every listener, on any thread, sees
// every delivery, and the signal needs no blocking anywhere (signalfd would need it blocked in every
// thread, Node's own included, which breaks Node's handlers).
//
// NB: a watch lives on the heap apart from its listener: uv_close completes on a later loop turn (after the
// deliveries libuv caught for it are dispatched, which it drops), and its close callback frees it.
struct SignalWatch {
  uv_signal_t handle;
  int signum = 0;
  bool started = false;
  sys::SignalLatch* latch = nullptr;  // null once the listener closes it
  AddonData* teardown = nullptr;      // set when closing at env teardown
};

struct SignalListener {
  sys::SignalLatch latch;
  std::vector<SignalWatch*> watches;
};

namespace {

void on_signal(uv_signal_t* handle, int signum) {
  auto* w = static_cast<SignalWatch*>(handle->data);
  if (w->latch != nullptr) w->latch->post(signum);
}

void on_watch_closed(uv_handle_t* handle) {
  auto* w = static_cast<SignalWatch*>(handle->data);
  AddonData* teardown = w->teardown;
  delete w;
  if (teardown != nullptr) handle_closed(teardown);
}

// Stops and closes every watch of l (putting dispositions back as the keeper decides), closes its latch
// and frees it. Returns how many uv handles close later.
int close_listener(SignalListener* l, AddonData* teardown) {
  int pending = 0;
  for (SignalWatch* w : l->watches) {
    w->latch = nullptr;
    w->teardown = teardown;
    auto* h = reinterpret_cast<uv_handle_t*>(&w->handle);
    // uv_close stops the watcher at once; libuv sets SIG_DFL if it was the process's last one.
    if (w->started) sys::dispositions().stop(w->signum, [h] { uv_close(h, on_watch_closed); });
    else uv_close(h, on_watch_closed);
    pending++;
  }
  l->watches.clear();
  l->latch.close();
  delete l;
  return pending;
}

// Starts one watch of sig for l on loop; on failure the watch is in l->watches (if it was initialised)
// for close_listener to close. Returns 0 or -errno.
int add_watch(SignalListener* l, uv_loop_t* loop, int sig) {
  auto* w = new SignalWatch();
  w->signum = sig;
  w->latch = &l->latch;
  int rc = uv_signal_init(loop, &w->handle);
  if (rc != 0) {
    delete w;
    return rc;
  }
  w->handle.data = w;
  l->watches.push_back(w);
  // An idle listener does not keep the thread alive (as Node's process.on); a wait() does, through the
  // controller that watches the latch's fd.
  uv_unref(reinterpret_cast<uv_handle_t*>(&w->handle));
  rc = sys::dispositions().start(sig, [w, sig] { return uv_signal_start(&w->handle, on_signal, sig); });
  if (rc == 0) w->started = true;
  return rc;
}

// signalListen(sigs: Int32Array) → the listener's eventfd, or -errno (EINVAL for a signal that cannot be
// caught, EMFILE…). Nothing is left behind on failure.
Napi::Value SignalListen(const Napi::CallbackInfo& info) {
  Args a(info);
  Napi::Int32Array sigs = a.Int32s(0, "sigs", 1);
  ARGS_OR_RETURN(a);
  Napi::Env env = info.Env();
  AddonData* data = addon_data(env);
  if (data->tearing_down) return Num(env, -EBADF);
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return Num(env, -EINVAL);
  auto* l = new SignalListener();
  int rc = l->latch.open();
  for (size_t i = 0; rc == 0 && i < sigs.ElementLength(); i++) rc = add_watch(l, loop, sigs[i]);
  if (rc != 0) {
    close_listener(l, nullptr);
    return Num(env, rc);
  }
  int fd = l->latch.fd();
  data->signal_listeners[fd] = l;
  return Num(env, fd);
}

SignalListener* find(const Napi::CallbackInfo& info, int fd) {
  auto& m = addon_data(info.Env())->signal_listeners;
  auto it = m.find(fd);
  return it == m.end() ? nullptr : it->second;
}

// signalTake(fd) → the lowest-numbered pending signal (no longer pending), 0 when none, -EBADF.
Napi::Value SignalTake(const Napi::CallbackInfo& info) {
  Args a(info);
  int fd = a.Int(0, "fd");
  ARGS_OR_RETURN(a);
  SignalListener* l = find(info, fd);
  return Num(info.Env(), l == nullptr ? -EBADF : l->latch.take());
}

// signalClose(fd) → 0, or -EBADF if fd is no listener of this thread. Stops the watches, closes the fd.
Napi::Value SignalClose(const Napi::CallbackInfo& info) {
  Args a(info);
  int fd = a.Int(0, "fd");
  ARGS_OR_RETURN(a);
  auto& m = addon_data(info.Env())->signal_listeners;
  auto it = m.find(fd);
  if (it == m.end()) return Num(info.Env(), -EBADF);
  SignalListener* l = it->second;
  m.erase(it);
  close_listener(l, nullptr);
  return Num(info.Env(), 0);
}

// raise(sig) → 0 or -errno.
Napi::Value Raise(const Napi::CallbackInfo& info) {
  Args a(info);
  int sig = a.Int(0, "sig");
  ARGS_OR_RETURN(a);
  return Num(info.Env(), sys::raise_signal(sig));
}

// signalWatchers(sig) → how many listener watches of sig are started in the process (tests).
Napi::Value SignalWatchers(const Napi::CallbackInfo& info) {
  Args a(info);
  int sig = a.Int(0, "sig");
  ARGS_OR_RETURN(a);
  return Num(info.Env(), sys::dispositions().count(sig));
}

}  // namespace

int signal_teardown(AddonData* data) {
  int pending = 0;
  for (auto& entry : data->signal_listeners) pending += close_listener(entry.second, data);
  data->signal_listeners.clear();
  return pending;
}

void init_signal(Napi::Env env, Napi::Object exports) {
  exports.Set("signalListen", Napi::Function::New(env, SignalListen, "signalListen"));
  exports.Set("signalTake", Napi::Function::New(env, SignalTake, "signalTake"));
  exports.Set("signalClose", Napi::Function::New(env, SignalClose, "signalClose"));
  exports.Set("signalWatchers", Napi::Function::New(env, SignalWatchers, "signalWatchers"));
  exports.Set("raise", Napi::Function::New(env, Raise, "raise"));
}

}  // namespace troupe::binding
