// Thin napi functions over sys/socket.h: numbers and caller-owned typed arrays in, a number (or -errno) out.
#include <limits.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "../sys/fd.h"
#include "../sys/socket.h"
#include "addon.h"
#include "args.h"

namespace troupe::binding {

namespace {

Napi::Value Socket(const Napi::CallbackInfo& info) {
  Args a(info);
  int family = a.Int(0, "family");
  int type = a.Int(1, "type");
  ARGS_OR_RETURN(a);
  return Num(info.Env(), sys::socket(family, type));
}

Napi::Value Socketpair(const Napi::CallbackInfo& info) {
  Args a(info);
  int type = a.Int(0, "type");
  Napi::Int32Array out = a.Int32s(1, "out", 2);
  ARGS_OR_RETURN(a);
  int fds[2];
  int rc = sys::socketpair(type, fds);
  if (rc == 0) {
    // SAFETY: from here the two fds belong to the caller, through `out`.
    out[0] = fds[0];
    out[1] = fds[1];
  }
  return Num(info.Env(), rc);
}

// bind(fd, family, host, port) and connect(...): the same arguments.
template <int (*Call)(int, int, std::string_view, int)>
Napi::Value Address(const Napi::CallbackInfo& info) {
  Args a(info);
  int fd = a.Int(0, "fd");
  int family = a.Int(1, "family");
  std::string host = a.Str(2, "host");
  int port = a.Int(3, "port");
  ARGS_OR_RETURN(a);
  return Num(info.Env(), Call(fd, family, host, port));
}

Napi::Value Listen(const Napi::CallbackInfo& info) {
  Args a(info);
  int fd = a.Int(0, "fd");
  int backlog = a.Int(1, "backlog");
  ARGS_OR_RETURN(a);
  return Num(info.Env(), sys::listen(fd, backlog));
}

// accept, sockError, close: one fd in, a number out.
template <int (*Call)(int)>
Napi::Value OnFd(const Napi::CallbackInfo& info) {
  Args a(info);
  int fd = a.Int(0, "fd");
  ARGS_OR_RETURN(a);
  return Num(info.Env(), Call(fd));
}

Napi::Value Read(const Napi::CallbackInfo& info) {
  Args a(info);
  int fd = a.Int(0, "fd");
  Bytes b = a.Range(1, "buf");
  ARGS_OR_RETURN(a);
  return Num(info.Env(), static_cast<double>(sys::read(fd, b.data, b.len)));
}

Napi::Value Write(const Napi::CallbackInfo& info) {
  Args a(info);
  int fd = a.Int(0, "fd");
  Bytes b = a.Range(1, "buf");
  ARGS_OR_RETURN(a);
  return Num(info.Env(), static_cast<double>(sys::write(fd, b.data, b.len)));
}

Napi::Value Writev(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Args a(info);
  int fd = a.Int(0, "fd");
  if (a.ok() && !info[1].IsArray()) a.WrongType("bufs", "an instance of Array");
  int count = a.Int(2, "count");
  ARGS_OR_RETURN(a);
  auto arr = info[1].As<Napi::Array>();
  if (count < 0 || static_cast<uint32_t>(count) > arr.Length()) {
    a.Fail(true, "The value of \"count\" is out of range. It must be >= 0 and <= bufs.length");
    return env.Undefined();
  }
  size_t take = std::min(static_cast<size_t>(count), static_cast<size_t>(IOV_MAX));
  // SAFETY: first every element, then every pointer. Get() may run JS (a getter) that detaches a buffer
  // taken earlier; nothing runs JS once the pointers are taken.
  std::vector<Napi::Value> items(take);
  for (size_t i = 0; i < take; i++) {
    items[i] = arr.Get(static_cast<uint32_t>(i));
    if (items[i].IsEmpty()) return env.Undefined();  // the getter threw
    if (!is_typed(items[i], napi_uint8_array)) {
      a.WrongType(("bufs[" + std::to_string(i) + "]").c_str(), "an instance of Uint8Array");
      return env.Undefined();
    }
  }
  std::vector<iovec> iov(take);
  for (size_t i = 0; i < take; i++) {
    auto buf = items[i].As<Napi::Uint8Array>();
    iov[i] = {buf.Data(), buf.ElementLength()};
  }
  return Num(env, static_cast<double>(sys::writev(fd, iov.data(), static_cast<int>(take))));
}

Napi::Value Recv(const Napi::CallbackInfo& info) {
  Args a(info);
  int fd = a.Int(0, "fd");
  Bytes b = a.Range(1, "buf");
  int flags = a.Int(4, "flags");
  ARGS_OR_RETURN(a);
  return Num(info.Env(), static_cast<double>(sys::recv(fd, b.data, b.len, flags)));
}

Napi::Value Shutdown(const Napi::CallbackInfo& info) {
  Args a(info);
  int fd = a.Int(0, "fd");
  int how = a.Int(1, "how");
  ARGS_OR_RETURN(a);
  return Num(info.Env(), sys::shutdown(fd, how));
}

Napi::Value SendFds(const Napi::CallbackInfo& info) {
  Args a(info);
  int fd = a.Int(0, "fd");
  Bytes b = a.Range(1, "buf");
  Napi::Int32Array fds = a.Int32s(4, "fds", 0);
  ARGS_OR_RETURN(a);
  size_t n = fds.ElementLength();
  if (n > static_cast<size_t>(sys::kMaxSendFds)) return Num(info.Env(), -EINVAL);
  return Num(info.Env(), static_cast<double>(sys::send_fds(fd, b.data, b.len, fds.Data(), static_cast<int>(n))));
}

Napi::Value RecvFds(const Napi::CallbackInfo& info) {
  Args a(info);
  int fd = a.Int(0, "fd");
  Bytes b = a.Range(1, "buf");
  Napi::Int32Array out = a.Int32s(4, "fdsOut", 1);
  ARGS_OR_RETURN(a);
  size_t room = std::min(out.ElementLength() - 1, static_cast<size_t>(sys::kMaxSendFds));
  int nfds = 0;
  // SAFETY: the received fds go straight into out[1 ..]; the caller owns them from here.
  ssize_t n = sys::recv_fds(fd, b.data, b.len, out.Data() + 1, static_cast<int>(room), &nfds);
  out[0] = nfds;
  return Num(info.Env(), static_cast<double>(n));
}

Napi::Value SockName(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Args a(info);
  int fd = a.Int(0, "fd");
  bool peer = a.Bool(1, "peer");
  ARGS_OR_RETURN(a);
  sys::SockName name;
  if (int rc = sys::sock_name(fd, peer, &name)) return Num(env, rc);
  Napi::Object out = Napi::Object::New(env);
  if (name.family == AF_UNIX) {
    out.Set("family", "unix");
    out.Set("path", Napi::String::New(env, name.path));
  } else {
    out.Set("family", name.family == AF_INET ? "inet" : "inet6");
    out.Set("address", Napi::String::New(env, name.address));
    out.Set("port", Num(env, name.port));
  }
  return out;
}

Napi::Value PeerCred(const Napi::CallbackInfo& info) {
  Args a(info);
  int fd = a.Int(0, "fd");
  Napi::Int32Array out = a.Int32s(1, "out", 3);
  ARGS_OR_RETURN(a);
  sys::PeerCred cred{};
  int rc = sys::peer_cred(fd, &cred);
  if (rc == 0) {
    out[0] = cred.pid;
    out[1] = cred.uid;
    out[2] = cred.gid;
  }
  return Num(info.Env(), rc);
}

Napi::Value SetSockOpt(const Napi::CallbackInfo& info) {
  Args a(info);
  int fd = a.Int(0, "fd");
  int level = a.Int(1, "level");
  int name = a.Int(2, "name");
  int value = a.Int(3, "value");
  ARGS_OR_RETURN(a);
  return Num(info.Env(), sys::setsockopt_int(fd, level, name, value));
}

Napi::Value GetSockOpt(const Napi::CallbackInfo& info) {
  Args a(info);
  int fd = a.Int(0, "fd");
  int level = a.Int(1, "level");
  int name = a.Int(2, "name");
  ARGS_OR_RETURN(a);
  int value = 0;
  int rc = sys::getsockopt_int(fd, level, name, &value);
  return Num(info.Env(), rc < 0 ? rc : value);
}

Napi::Value SetBlocking(const Napi::CallbackInfo& info) {
  Args a(info);
  int fd = a.Int(0, "fd");
  bool blocking = a.Bool(1, "blocking");
  ARGS_OR_RETURN(a);
  return Num(info.Env(), sys::set_blocking(fd, blocking));
}

// close(fd): the fd stops being owned by this thread, then close(2) (never retried).
Napi::Value Close(const Napi::CallbackInfo& info) {
  Args a(info);
  int fd = a.Int(0, "fd");
  ARGS_OR_RETURN(a);
  addon_data(info.Env())->owned_fds.erase(fd);
  return Num(info.Env(), sys::close(fd));
}

// own(fd) / disown(fd): this thread's sockets hold fd (closed at thread exit if still held) / no longer.
template <bool kOwn>
Napi::Value Ownership(const Napi::CallbackInfo& info) {
  Args a(info);
  int fd = a.Int(0, "fd");
  ARGS_OR_RETURN(a);
  auto& owned = addon_data(info.Env())->owned_fds;
  if (kOwn) owned.insert(fd);
  else owned.erase(fd);
  return info.Env().Undefined();
}

#undef ARGS_OR_RETURN

}  // namespace

void init_socket(Napi::Env env, Napi::Object exports) {
  const std::pair<const char*, Napi::Function::Callback> fns[] = {
      {"socket", Socket},
      {"socketpair", Socketpair},
      {"bind", Address<sys::bind>},
      {"listen", Listen},
      {"accept", OnFd<sys::accept>},
      {"connect", Address<sys::connect>},
      {"sockError", OnFd<sys::sock_error>},
      {"read", Read},
      {"write", Write},
      {"writev", Writev},
      {"recv", Recv},
      {"shutdown", Shutdown},
      {"close", Close},
      {"own", Ownership<true>},
      {"disown", Ownership<false>},
      {"sendFds", SendFds},
      {"recvFds", RecvFds},
      {"sockName", SockName},
      {"peerCred", PeerCred},
      {"setSockOpt", SetSockOpt},
      {"getSockOpt", GetSockOpt},
      {"setBlocking", SetBlocking},
      {"dup", OnFd<sys::dup_cloexec>},
  };
  for (const auto& [name, fn] : fns) exports.Set(name, Napi::Function::New(env, fn, name));

  Napi::Object constants = Napi::Object::New(env);
  for (const sys::Constant& c : sys::kSocketConstants) constants.Set(c.name, Napi::Number::New(env, c.value));
  constants.Freeze();
  exports.Set("constants", constants);
}

}  // namespace troupe::binding
