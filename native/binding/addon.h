// Per-thread addon state shared by the binding files.
#pragma once

#include <napi.h>

#include <unordered_map>
#include <unordered_set>

namespace troupe::binding {

class PollerWrap;
class WatchWrap;
struct SignalListener;
struct BusyWaitLoop;

// NB: one instance per Node environment (main thread or worker), held by env.SetInstanceData; no statics
// hold Napi values. The async cleanup hook (addon.cc) closes every embedded poller before the env dies.
struct AddonData {
  Napi::FunctionReference poller_ctor;
  std::unordered_set<PollerWrap*> pollers;
  Napi::FunctionReference watch_ctor;
  std::unordered_set<WatchWrap*> watches;
  napi_async_cleanup_hook_handle cleanup = nullptr;
  int closing_handles = 0;
  bool tearing_down = false;
  // NB: the descriptors this thread's sockets own. A worker that is terminated runs no more JS, so its
  // sockets cannot close themselves: the env cleanup hook closes what is left here (addon.cc).
  std::unordered_set<int> owned_fds;
  // Signal listeners by their eventfd (signal.cc); the cleanup hook closes those left open.
  std::unordered_map<int, SignalListener*> signal_listeners;
  // The loop's busy waiting (busy_wait.cc), once turned on.
  BusyWaitLoop* busy_wait = nullptr;
};

AddonData* addon_data(Napi::Env env);
void init_poller(Napi::Env env, Napi::Object exports, AddonData* data);
// Watch (watch.cc): a uv_poll on one fd.
void init_watch(Napi::Env env, Napi::Object exports, AddonData* data);
// The socket calls (socket.cc): stateless free functions and their constants.
void init_socket(Napi::Env env, Napi::Object exports);
// The signal calls (signal.cc), and their part of the env teardown: returns how many handles close later.
void init_signal(Napi::Env env, Napi::Object exports);
int signal_teardown(AddonData* data);
// Busy waiting before the loop sleeps (busy_wait.cc), and its part of the env teardown (handles closing).
void init_busy_wait(Napi::Env env, Napi::Object exports);
int busy_wait_teardown(AddonData* data);
// The inotify calls (notify.cc): stateless free functions and their constants.
void init_notify(Napi::Env env, Napi::Object exports);
// The TLS classes (tls.cc): TlsContext and TlsSession over OpenSSL.
void init_tls(Napi::Env env, Napi::Object exports);
// Called by a poller's, a watch's or a signal watcher's uv handle once it is closed during teardown.
void handle_closed(AddonData* data);

}  // namespace troupe::binding
