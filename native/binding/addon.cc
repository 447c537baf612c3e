// The addon's one export table and its per-thread state.
#include "addon.h"

#include "../sys/fd.h"
#include "../sys/socket.h"
#include "poller.h"
#include "watch.h"

namespace troupe::binding {

AddonData* addon_data(Napi::Env env) { return env.GetInstanceData<AddonData>(); }

void handle_closed(AddonData* data) {
  if (--data->closing_handles == 0 && data->cleanup != nullptr) {
    napi_remove_async_cleanup_hook(data->cleanup);
    data->cleanup = nullptr;
  }
}

namespace {

// Runs when the environment (thread) shuts down: closes every poller's uv handle asynchronously so that
// libuv sees no live handle when the worker's loop is closed, and every poller fd exactly once.
void on_env_cleanup(napi_async_cleanup_hook_handle handle, void* arg) {
  auto* data = static_cast<AddonData*>(arg);
  data->tearing_down = true;
  data->cleanup = handle;
  data->closing_handles = 1;  // held until the loop below is done
  for (PollerWrap* p : data->pollers) data->closing_handles += p->Teardown();
  for (WatchWrap* w : data->watches) data->closing_handles += w->Teardown();
  data->closing_handles += signal_teardown(data);
  data->closing_handles += busy_wait_teardown(data);
  for (int fd : data->owned_fds) sys::close(fd);
  data->owned_fds.clear();
  handle_closed(data);
}

Napi::Value FdFlags(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), sys::fd_flags(info[0].As<Napi::Number>().Int32Value()));
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData<AddonData>(data);
  napi_add_async_cleanup_hook(env, on_env_cleanup, data, nullptr);
  init_poller(env, exports, data);
  init_watch(env, exports, data);
  init_socket(env, exports);
  init_signal(env, exports);
  init_busy_wait(env, exports);
  init_notify(env, exports);
  init_tls(env, exports);
  exports.Set("fdFlags", Napi::Function::New(env, FdFlags, "fdFlags"));
  return exports;
}

}  // namespace troupe::binding

static Napi::Object InitTroupe(Napi::Env env, Napi::Object exports) {
  return troupe::binding::Init(env, exports);
}

NODE_API_MODULE(troupe, InitTroupe)
