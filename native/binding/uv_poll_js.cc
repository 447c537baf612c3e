// UvPollJs: see uv_poll_js.h.
#include "uv_poll_js.h"

namespace troupe::binding {

UvPollJs* UvPollJs::Open(Napi::Env env, int fd, Napi::Function callback, Napi::Object receiver, int* rc) {
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    *rc = UV_EINVAL;
    return nullptr;
  }
  auto* h = new UvPollJs();
  h->env = env;
  *rc = uv_poll_init(loop, &h->poll, fd);
  if (*rc != 0) {
    delete h;
    return nullptr;
  }
  h->callback = Napi::Persistent(callback);
  h->receiver = Napi::Persistent(receiver);
  h->poll.data = h;
  return h;
}

void UvPollJs::Close(UvPollJs* h, AddonData* teardown) {
  h->teardown = teardown;
  uv_poll_stop(&h->poll);
  uv_close(reinterpret_cast<uv_handle_t*>(&h->poll), [](uv_handle_t* uh) {
    auto* h = static_cast<UvPollJs*>(uh->data);
    AddonData* teardown = h->teardown;
    delete h;
    if (teardown != nullptr) handle_closed(teardown);
  });
}

void UvPollJs::Call(const int32_t* args, size_t argc) {
  Napi::Env e(env);
  Napi::HandleScope scope(e);
  napi_value argv[2];
  if (argc > 2) argc = 2;
  for (size_t i = 0; i < argc; i++) napi_create_int32(env, args[i], &argv[i]);
  napi_value result;
  napi_status s = napi_make_callback(env, nullptr, receiver.Value(), callback.Value(), argc, argv, &result);
  if (s == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
  }
}

}  // namespace troupe::binding
