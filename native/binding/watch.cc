// A uv_poll per descriptor, for the few fds whose readiness is worth one epoll hop less (see watch.h).
#include "watch.h"

#include "args.h"
#include "../sys/socket.h"

#include <algorithm>

#include <errno.h>

namespace troupe::binding {

Napi::Function WatchWrap::Define(Napi::Env env) {
  return DefineClass(env, "Watch",
                     {
                         InstanceMethod<&WatchWrap::Start>("start"),
                         InstanceMethod<&WatchWrap::SetReader>("setReader"),
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
  auto* h = static_cast<UvPollJs*>(poll->data);
  int32_t args[2] = {status < 0 ? status : events, 0};
  size_t argc = 1;
  // NB: with a reader set, one recvmsg here, before JS runs: the callback gets the bytes (or -errno)
  // without a call back into the binding for them.
  uv_os_fd_t fd = -1;
  if (status >= 0 && (events & UV_READABLE) != 0 && h->rbuf != nullptr && uv_fileno(reinterpret_cast<uv_handle_t*>(poll), &fd) == 0) {
    int nfds = 0;
    // SAFETY: the received fds go straight into rfds[1 ..]; the JS side owns them from here.
    ssize_t n = sys::recv_fds(fd, h->rbuf, h->rlen, h->rfds + 1, static_cast<int>(h->rfds_room), &nfds);
    h->rfds[0] = nfds;
    args[1] = static_cast<int32_t>(n);
    argc = 2;
  }
  h->Call(args, argc);
}

// setReader(buf, fdsOut): from now on the callback reads into buf (and fdsOut: [count, fd...]) when the fd
// is readable, and is called with (events, bytes or -errno). The watch keeps both alive.
Napi::Value WatchWrap::SetReader(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!is_typed(info[0], napi_uint8_array)) {
    throw_arg_error(env, false, "The \"buf\" argument must be an instance of Uint8Array");
    return env.Undefined();
  }
  auto buf = info[0].As<Napi::Uint8Array>();
  if (buf.ByteLength() == 0 || buf.ByteLength() > INT32_MAX) {
    throw_arg_error(env, true, "The length of \"buf\" is out of range. It must be > 0 and < 2 GiB");
    return env.Undefined();
  }
  Args a(info);
  Napi::Int32Array out = a.Int32s(1, "fdsOut", 2);
  ARGS_OR_RETURN(a);
  if (handle_ == nullptr) return Napi::Number::New(env, -EBADF);
  handle_->rbuf_ref = Napi::Persistent(buf);
  handle_->rfds_ref = Napi::Persistent(out);
  handle_->rbuf = buf.Data();
  handle_->rlen = buf.ByteLength();
  handle_->rfds = out.Data();
  handle_->rfds_room = std::min(out.ElementLength() - 1, static_cast<size_t>(sys::kMaxSendFds));
  return Napi::Number::New(env, 0);
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
