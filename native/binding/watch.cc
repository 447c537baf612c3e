// A uv_poll per descriptor, for the few fds whose readiness is worth one epoll hop less (see watch.h).
#include "watch.h"

#include "args.h"

#include <errno.h>

namespace troupe::binding {

// NB: the uv handle lives on the heap apart from the wrap, as the poller's embed does: uv_close completes
// on a later loop turn, after which the close callback frees it, whether the wrap is still alive or not.
struct WatchWrap::Handle {
  uv_poll_t poll;
  napi_env env;
  Napi::FunctionReference callback;
  Napi::ObjectReference receiver;
  AddonData* teardown = nullptr;  // set when closing at env teardown
};

Napi::Function WatchWrap::Define(Napi::Env env) {
  return DefineClass(env, "Watch",
                     {
                         InstanceMethod<&WatchWrap::Start>("start"),
                         InstanceMethod<&WatchWrap::Close>("close"),
                     });
}

WatchWrap::WatchWrap(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<WatchWrap>(info), data_(addon_data(info.Env())) {
  Napi::Env env = info.Env();
  Args a(info);
  int fd = a.Int(0, "fd");
  if (!a.ok()) return;
  if (!info[1].IsFunction()) {
    throw_arg_error(env, false, "The \"onReady\" argument must be of type function");
    return;
  }
  if (fd < 0) {
    throw_arg_error(env, true, "The value of \"fd\" is out of range. It must be >= 0");
    return;
  }
  uv_loop_t* loop = nullptr;
  if (data_->tearing_down || napi_get_uv_event_loop(env, &loop) != napi_ok) {
    Napi::Error::New(env, "the thread is shutting down").ThrowAsJavaScriptException();
    return;
  }
  auto* h = new Handle();
  h->env = env;
  int rc = uv_poll_init(loop, &h->poll, fd);
  if (rc != 0) {
    delete h;
    Napi::Error err = Napi::Error::New(env, std::string("uv_poll_init: ") + uv_strerror(rc));
    err.Set("errno", Napi::Number::New(env, rc));
    err.ThrowAsJavaScriptException();
    return;
  }
  h->callback = Napi::Persistent(info[1].As<Napi::Function>());
  h->receiver = Napi::Persistent(info.This().As<Napi::Object>());
  // NB: as the poller's embed, the handle holds its JS object until close(): the owner must close() the
  // watch before it closes the fd.
  h->poll.data = h;
  handle_ = h;
  data_->watches.insert(this);
}

WatchWrap::~WatchWrap() {
  CloseHandle(false);
  data_->watches.erase(this);
}

int WatchWrap::Teardown() { return CloseHandle(true) ? 1 : 0; }

bool WatchWrap::CloseHandle(bool on_teardown) {
  if (handle_ == nullptr) return false;
  Handle* h = std::exchange(handle_, nullptr);
  if (on_teardown) h->teardown = data_;
  // SAFETY: uv_close takes the fd out of libuv's epoll set at once, before its owner can close it.
  uv_poll_stop(&h->poll);
  uv_close(reinterpret_cast<uv_handle_t*>(&h->poll), [](uv_handle_t* uh) {
    auto* h = static_cast<Handle*>(uh->data);
    AddonData* teardown = h->teardown;
    delete h;
    if (teardown != nullptr) handle_closed(teardown);
  });
  return true;
}

void WatchWrap::OnReady(uv_poll_t* poll, int status, int events) {
  auto* h = static_cast<Handle*>(poll->data);
  Napi::Env env(h->env);
  Napi::HandleScope scope(env);
  napi_value arg;
  napi_create_int32(env, status < 0 ? status : events, &arg);
  // MakeCallback runs microtasks and process.nextTick when it returns, as for any libuv callback: what the
  // callback queued to send (a reply, say) leaves in this same loop turn.
  napi_value result;
  napi_status s = napi_make_callback(env, nullptr, h->receiver.Value(), h->callback.Value(), 1, &arg, &result);
  if (s == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
  }
}

// start(events): 0 stops, else a mask of 1 (readable) and 2 (writable). 0 or -errno.
Napi::Value WatchWrap::Start(const Napi::CallbackInfo& info) {
  Args a(info);
  int events = a.Int(0, "events");
  ARGS_OR_RETURN(a);
  if (handle_ == nullptr) return Napi::Number::New(info.Env(), -EBADF);
  int uv_events = ((events & 1) ? UV_READABLE : 0) | ((events & 2) ? UV_WRITABLE : 0);
  int rc = uv_events == 0 ? uv_poll_stop(&handle_->poll) : uv_poll_start(&handle_->poll, uv_events, OnReady);
  return Napi::Number::New(info.Env(), rc);
}

Napi::Value WatchWrap::Close(const Napi::CallbackInfo& info) {
  CloseHandle(false);
  return info.Env().Undefined();
}

void init_watch(Napi::Env env, Napi::Object exports, AddonData* data) {
  Napi::Function ctor = WatchWrap::Define(env);
  data->watch_ctor = Napi::Persistent(ctor);
  exports.Set("Watch", ctor);
}

}  // namespace troupe::binding
