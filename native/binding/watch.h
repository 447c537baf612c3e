// Watch: a uv_poll on one descriptor in this thread's libuv loop, calling JS when it is ready. The actors'
// channels read through it: one epoll hop (libuv's own) instead of two (libuv's, then the root controller's).
#pragma once

#include <napi.h>
#include <uv.h>

#include "addon.h"
#include "uv_poll_js.h"

namespace troupe::binding {

class WatchWrap : public Napi::ObjectWrap<WatchWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  // new Watch(fd, onReady(events, read?)): events is a mask of 1 (readable) and 2 (writable), or -errno;
  // with a reader set (setReader), `read` is what the callback's own recvmsg returned when readable.
  explicit WatchWrap(const Napi::CallbackInfo& info);
  ~WatchWrap() override;

  // Starts closing the uv handle at env teardown; returns how many handles close later (0 or 1).
  int Teardown();

 private:
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value SetReader(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  // Stops and closes the uv handle (if any). `on_teardown` routes the close callback to handle_closed.
  bool CloseHandle(bool on_teardown);
  static void OnReady(uv_poll_t* handle, int status, int events);

  UvPollJs* handle_ = nullptr;
  AddonData* data_;
};

}  // namespace troupe::binding
