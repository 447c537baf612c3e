// A uv_poll per descriptor, for the few fds whose readiness is worth one epoll hop less (see watch.h).
#include "watch.h"

#include "args.h"

#include <errno.h>

namespace troupe::binding {

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
  if (data_->tearing_down) {
    Napi::Error::New(env, "the thread is shutting down").ThrowAsJavaScriptException();
    return;
  }
  int rc = 0;
  // NB: as the poller's embed, the handle holds its JS object until close(): the owner must close() the
  // watch before it closes the fd.
  UvPollJs* h = UvPollJs::Open(env, fd, info[1].As<Napi::Function>(), info.This().As<Napi::Object>(), &rc);
  if (h == nullptr) {
    Napi::Error err = Napi::Error::New(env, std::string("uv_poll_init: ") + uv_strerror(rc));
    err.Set("errno", Napi::Number::New(env, rc));
    err.ThrowAsJavaScriptException();
    return;
  }
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
  // SAFETY: uv_close takes the fd out of libuv's epoll set at once, before its owner can close it.
  UvPollJs::Close(std::exchange(handle_, nullptr), on_teardown ? data_ : nullptr);
  return true;
}

void WatchWrap::OnReady(uv_poll_t* poll, int status, int events) {
  int32_t arg = status < 0 ? status : events;
  static_cast<UvPollJs*>(poll->data)->Call(&arg);
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
