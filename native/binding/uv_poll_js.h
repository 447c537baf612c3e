// A uv_poll whose callback calls a JS function on a JS object: the poller's embedding in Node's loop and the
// Watch class both are one. It lives on the heap apart from its wrap: uv_close completes on a later loop
// turn, after which the close callback frees it, whether the wrap is still alive or not.
#pragma once

#include <napi.h>
#include <uv.h>

#include "addon.h"

namespace troupe::binding {

struct UvPollJs {
  uv_poll_t poll;
  napi_env env;
  Napi::FunctionReference callback;
  Napi::ObjectReference receiver;
  AddonData* teardown = nullptr;  // set when closing at env teardown
  // A Watch's read-ahead (Watch.setReader): where its callback reads what arrived before calling JS.
  Napi::Reference<Napi::Uint8Array> rbuf_ref;
  Napi::Reference<Napi::Int32Array> rfds_ref;
  uint8_t* rbuf = nullptr;
  size_t rlen = 0;
  int32_t* rfds = nullptr;  // [count, fd...]
  size_t rfds_room = 0;

  // Initialises a poll of fd on env's loop that will call `callback` with `receiver` as this; nullptr and
  // *rc (a libuv error) on failure. NB: the handle holds its JS object until closed.
  static UvPollJs* Open(Napi::Env env, int fd, Napi::Function callback, Napi::Object receiver, int* rc);

  // Stops the poll at once (libuv drops the fd from its epoll set, before its owner can close it) and
  // frees the handle once libuv is done; with `teardown`, counts it down there (handle_closed).
  static void Close(UvPollJs* h, AddonData* teardown);

  // Calls the JS callback with argc int arguments (at most 2), as libuv callbacks into Node do:
  // MakeCallback runs microtasks and process.nextTick when it returns; what it throws becomes an uncaught
  // exception. NB: called from libuv, outside any handle scope: it opens its own.
  void Call(const int32_t* args, size_t argc);
};

}  // namespace troupe::binding
