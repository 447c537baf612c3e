// Thin methods over sys::Poller (numbers in, numbers or -errno out) and the uv_poll embedding.
#include "poller.h"

#include "args.h"

#include <errno.h>

namespace troupe::binding {

Napi::Function PollerWrap::Define(Napi::Env env) {
  return DefineClass(env, "Poller",
                     {
                         InstanceMethod<&PollerWrap::Open>("open"),
                         InstanceMethod<&PollerWrap::Fd>("fd"),
                         InstanceMethod<&PollerWrap::Set>("set"),
                         InstanceMethod<&PollerWrap::Mask>("mask"),
                         InstanceMethod<&PollerWrap::Size>("size"),
                         InstanceMethod<&PollerWrap::Alert>("alert"),
                         InstanceMethod<&PollerWrap::Arm>("arm"),
                         InstanceMethod<&PollerWrap::Disarm>("disarm"),
                         InstanceMethod<&PollerWrap::Wait>("wait"),
                         InstanceMethod<&PollerWrap::EmbedIn>("embed"),
                         InstanceMethod<&PollerWrap::Ref>("ref"),
                         InstanceMethod<&PollerWrap::Close>("close"),
                     });
}

PollerWrap::PollerWrap(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<PollerWrap>(info), data_(addon_data(info.Env())) {
  data_->pollers.insert(this);
}

PollerWrap::~PollerWrap() {
  CloseEmbed(false);
  data_->pollers.erase(this);
}

int PollerWrap::Teardown() {
  bool pending = CloseEmbed(true);
  poller_.close();
  return pending ? 1 : 0;
}

bool PollerWrap::CloseEmbed(bool on_teardown) {
  if (embed_ == nullptr) return false;
  // SAFETY: uv_close invalidates the fd in libuv's epoll set at once, before the poller fd can be closed.
  UvPollJs::Close(std::exchange(embed_, nullptr), on_teardown ? data_ : nullptr);
  return true;
}

void PollerWrap::OnReadable(uv_poll_t* handle, int status, int) {
  (void)status;  // errors (EBADF after a close) also mean "step now": the step sees the closed state
  static_cast<UvPollJs*>(handle->data)->Call(nullptr, 0);
}

Napi::Value PollerWrap::Open(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), poller_.open());
}

Napi::Value PollerWrap::Fd(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), poller_.fd());
}

Napi::Value PollerWrap::Set(const Napi::CallbackInfo& info) {
  Args a(info);
  int fd = a.Int(0, "fd");
  int events = a.Int(1, "events");
  double token = a.Double(2, "token");
  ARGS_OR_RETURN(a);
  return Num(info.Env(), poller_.set(fd, static_cast<uint32_t>(events), static_cast<uint32_t>(token)));
}

Napi::Value PollerWrap::Mask(const Napi::CallbackInfo& info) {
  Args a(info);
  int fd = a.Int(0, "fd");
  ARGS_OR_RETURN(a);
  return Num(info.Env(), poller_.mask(fd));
}

Napi::Value PollerWrap::Size(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(poller_.size()));
}

Napi::Value PollerWrap::Alert(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), poller_.alert());
}

Napi::Value PollerWrap::Arm(const Napi::CallbackInfo& info) {
  Args a(info);
  double ms = a.Double(0, "delayMs");
  ARGS_OR_RETURN(a);
  return Num(info.Env(), poller_.arm(ms));
}

Napi::Value PollerWrap::Disarm(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), poller_.disarm());
}

Napi::Value PollerWrap::Wait(const Napi::CallbackInfo& info) {
  Args a(info);
  double ms = a.Double(0, "timeoutMs");
  // NB: checked as an Int32Array: any other typed array would be written past its end.
  Napi::Int32Array out = a.Int32s(1, "out", 2);
  ARGS_OR_RETURN(a);
  // As epoll_wait: negative (or Infinity, or past int range) waits forever; NaN polls.
  int timeout = std::isnan(ms) ? 0 : (ms < 0 || ms >= INT_MAX) ? -1 : static_cast<int>(std::ceil(ms));
  return Num(info.Env(), poller_.wait(timeout, out.Data(), out.ElementLength() / 2));
}

Napi::Value PollerWrap::EmbedIn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsFunction()) {
    throw_arg_error(env, false, "The \"onReadable\" argument must be of type function");
    return env.Undefined();
  }
  if (embed_ != nullptr) return Napi::Number::New(env, -EBUSY);
  if (!poller_.is_open() || data_->tearing_down) return Napi::Number::New(env, -EBADF);
  int rc = 0;
  UvPollJs* e = UvPollJs::Open(env, poller_.fd(), info[0].As<Napi::Function>(), info.This().As<Napi::Object>(), &rc);
  if (e == nullptr) return Napi::Number::New(env, rc);
  embed_ = e;
  rc = uv_poll_start(&e->poll, UV_READABLE, OnReadable);
  if (rc != 0) CloseEmbed(false);
  return Napi::Number::New(env, rc);
}

Napi::Value PollerWrap::Ref(const Napi::CallbackInfo& info) {
  if (embed_ != nullptr) {
    auto* h = reinterpret_cast<uv_handle_t*>(&embed_->poll);
    if (info[0].ToBoolean().Value()) uv_ref(h);
    else uv_unref(h);
  }
  return info.Env().Undefined();
}

Napi::Value PollerWrap::Close(const Napi::CallbackInfo& info) {
  CloseEmbed(false);
  poller_.close();
  return info.Env().Undefined();
}

void init_poller(Napi::Env env, Napi::Object exports, AddonData* data) {
  Napi::Function ctor = PollerWrap::Define(env);
  data->poller_ctor = Napi::Persistent(ctor);
  exports.Set("Poller", ctor);
}

}  // namespace troupe::binding
