// Thin napi functions over sys/inotify.h: numbers, a path and caller-owned typed arrays in, a number (or
// -errno) out.
#include <string>
#include <vector>

#include "../sys/inotify.h"
#include "addon.h"
#include "args.h"

namespace troupe::binding {

namespace {

// The ints per record in inotifyRead's output: wd, mask, cookie, name offset, name length.
constexpr size_t kRecordInts = 5;

Napi::Value InotifyInit(const Napi::CallbackInfo& info) {
  return Num(info.Env(), sys::inotify_init1());
}

Napi::Value InotifyAddWatch(const Napi::CallbackInfo& info) {
  Args a(info);
  int fd = a.Int(0, "fd");
  std::string path = a.Str(1, "path");
  int mask = a.Int(2, "mask");
  ARGS_OR_RETURN(a);
  // A NUL inside the path would silently cut it short: refuse it as the kernel refuses bad paths.
  if (path.find('\0') != std::string::npos) return Num(info.Env(), -EINVAL);
  return Num(info.Env(), sys::inotify_add_watch(fd, path.c_str(), static_cast<uint32_t>(mask)));
}

Napi::Value InotifyRmWatch(const Napi::CallbackInfo& info) {
  Args a(info);
  int fd = a.Int(0, "fd");
  int wd = a.Int(1, "wd");
  ARGS_OR_RETURN(a);
  return Num(info.Env(), sys::inotify_rm_watch(fd, wd));
}

// inotifyRead(fd, buf, out): one read(2) into all of buf, its records into out as kRecordInts ints each.
Napi::Value InotifyRead(const Napi::CallbackInfo& info) {
  Args a(info);
  int fd = a.Int(0, "fd");
  if (a.ok() && !is_typed(info[1], napi_uint8_array)) a.WrongType("buf", "an instance of Uint8Array");
  ARGS_OR_RETURN(a);
  auto buf = info[1].As<Napi::Uint8Array>();
  size_t len = buf.ElementLength();
  if (len < sys::kInotifyReadMin) {
    a.Fail(true, "The length of \"buf\" is out of range. It must be >= " + std::to_string(sys::kInotifyReadMin));
    return info.Env().Undefined();
  }
  size_t max = len / sys::kInotifyRecordMin;
  Napi::Int32Array out = a.Int32s(2, "out", max * kRecordInts);
  ARGS_OR_RETURN(a);
  std::vector<sys::InotifyRecord> records(max);
  int n = sys::read_inotify(fd, buf.Data(), len, records.data(), max);
  for (int i = 0; i < n; i++) {
    const sys::InotifyRecord& r = records[static_cast<size_t>(i)];
    size_t k = static_cast<size_t>(i) * kRecordInts;
    out[k] = r.wd;
    out[k + 1] = static_cast<int32_t>(r.mask);
    out[k + 2] = static_cast<int32_t>(r.cookie);
    out[k + 3] = static_cast<int32_t>(r.name_off);
    out[k + 4] = static_cast<int32_t>(r.name_len);
  }
  return Num(info.Env(), n);
}

}  // namespace

void init_notify(Napi::Env env, Napi::Object exports) {
  const std::pair<const char*, Napi::Function::Callback> fns[] = {
      {"inotifyInit", InotifyInit},
      {"inotifyAddWatch", InotifyAddWatch},
      {"inotifyRmWatch", InotifyRmWatch},
      {"inotifyRead", InotifyRead},
  };
  for (const auto& [name, fn] : fns) exports.Set(name, Napi::Function::New(env, fn, name));

  Napi::Object constants = Napi::Object::New(env);
  for (const sys::Constant& c : sys::kInotifyConstants) constants.Set(c.name, Napi::Number::New(env, c.value));
  constants.Freeze();
  exports.Set("inotifyConstants", constants);
}

}  // namespace troupe::binding
