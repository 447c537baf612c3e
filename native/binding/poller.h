// Poller: the one stateful native class, plus the uv_poll that embeds a root controller in Node's loop.
#pragma once

#include <napi.h>
#include <uv.h>

#include "../sys/poller.h"
#include "addon.h"
#include "uv_poll_js.h"

namespace troupe::binding {

class PollerWrap : public Napi::ObjectWrap<PollerWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit PollerWrap(const Napi::CallbackInfo& info);
  ~PollerWrap() override;

  // Starts closing the uv handle and the poller at env teardown; returns how many handles close later.
  int Teardown();

 private:

  Napi::Value Open(const Napi::CallbackInfo& info);
  Napi::Value Fd(const Napi::CallbackInfo& info);
  Napi::Value Set(const Napi::CallbackInfo& info);
  Napi::Value Mask(const Napi::CallbackInfo& info);
  Napi::Value Size(const Napi::CallbackInfo& info);
  Napi::Value Alert(const Napi::CallbackInfo& info);
  Napi::Value Arm(const Napi::CallbackInfo& info);
  Napi::Value Disarm(const Napi::CallbackInfo& info);
  Napi::Value Wait(const Napi::CallbackInfo& info);
  Napi::Value EmbedIn(const Napi::CallbackInfo& info);
  Napi::Value Ref(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  // Stops and closes the uv handle (if any). `on_teardown` routes the close callback to handle_closed.
  bool CloseEmbed(bool on_teardown);
  static void OnReadable(uv_poll_t* handle, int status, int events);

  sys::Poller poller_;
  UvPollJs* embed_ = nullptr;
  AddonData* data_;
};

}  // namespace troupe::binding
