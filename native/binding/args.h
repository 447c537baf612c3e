// Argument checking for the binding's functions: Node's codes, and no call goes ahead after a bad argument.
#pragma once

#include <napi.h>

#include <climits>
#include <cmath>
#include <string>

namespace troupe::binding {

// NB: only argument errors throw (TypeError ERR_INVALID_ARG_TYPE, RangeError ERR_OUT_OF_RANGE, as Node's
// own validators); system errors are returned as -errno and become SystemErrors in runtime/errors.ts.
inline void throw_arg_error(Napi::Env env, bool range, const std::string& message) {
  Napi::Object err = range ? Napi::RangeError::New(env, message).Value() : Napi::TypeError::New(env, message).Value();
  err.Set("code", range ? "ERR_OUT_OF_RANGE" : "ERR_INVALID_ARG_TYPE");
  napi_throw(env, err);
}

inline bool is_typed(const Napi::Value& v, napi_typedarray_type type) {
  return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == type;
}

struct Bytes {
  uint8_t* data;
  size_t len;
};

// Reads and checks arguments in order. After the first bad one it has thrown, every later accessor returns
// a dummy, and ok() is false: the caller returns at once.
class Args {
 public:
  explicit Args(const Napi::CallbackInfo& info) : info_(info) {}
  bool ok() const { return ok_; }

  // An integer in int32 range.
  int Int(size_t i, const char* name) {
    if (!ok_) return 0;
    Napi::Value v = info_[i];
    if (!v.IsNumber()) {
      WrongType(name, "of type number");
      return 0;
    }
    double d = v.As<Napi::Number>().DoubleValue();
    if (!(std::trunc(d) == d && d >= INT32_MIN && d <= INT32_MAX)) {
      Fail(true, std::string("The value of \"") + name + "\" is out of range. It must be an int32");
      return 0;
    }
    return static_cast<int>(d);
  }

  // Any number (timeouts: Infinity and NaN are the caller's to interpret).
  double Double(size_t i, const char* name) {
    if (!ok_) return 0;
    Napi::Value v = info_[i];
    if (!v.IsNumber()) {
      WrongType(name, "of type number");
      return 0;
    }
    return v.As<Napi::Number>().DoubleValue();
  }

  bool Bool(size_t i, const char* name) {
    if (!ok_) return false;
    Napi::Value v = info_[i];
    if (!v.IsBoolean()) {
      WrongType(name, "of type boolean");
      return false;
    }
    return v.As<Napi::Boolean>().Value();
  }

  std::string Str(size_t i, const char* name) {
    if (!ok_) return {};
    Napi::Value v = info_[i];
    if (!v.IsString()) {
      WrongType(name, "of type string");
      return {};
    }
    return v.As<Napi::String>().Utf8Value();  // NB: keeps embedded NULs (abstract unix names)
  }

  // The Uint8Array at i and the range [off, off + len) of it given by the arguments i + 1 and i + 2.
  Bytes Range(size_t i, const char* name) {
    if (!ok_) return {nullptr, 0};
    Napi::Value v = info_[i];
    if (!is_typed(v, napi_uint8_array)) {
      WrongType(name, "an instance of Uint8Array");
      return {nullptr, 0};
    }
    auto arr = v.As<Napi::Uint8Array>();
    int off = Int(i + 1, "off");
    int len = Int(i + 2, "len");
    if (!ok_) return {nullptr, 0};
    if (off < 0 || len < 0 || static_cast<size_t>(off) + static_cast<size_t>(len) > arr.ElementLength()) {
      Fail(true, "The range [off, off + len) is out of range of the buffer");
      return {nullptr, 0};
    }
    // Data() already points at the array's first element (its byteOffset applied).
    return {arr.Data() + off, static_cast<size_t>(len)};
  }

  // The Int32Array at i, holding at least min_len elements.
  Napi::Int32Array Int32s(size_t i, const char* name, size_t min_len) {
    if (!ok_) return {};
    Napi::Value v = info_[i];
    if (!is_typed(v, napi_int32_array)) {
      WrongType(name, "an instance of Int32Array");
      return {};
    }
    auto arr = v.As<Napi::Int32Array>();
    if (arr.ElementLength() < min_len) {
      Fail(true, std::string("The length of \"") + name + "\" is out of range. It must be >= " +
                     std::to_string(min_len));
      return {};
    }
    return arr;
  }

  void WrongType(const char* name, const char* what) {
    Fail(false, std::string("The \"") + name + "\" argument must be " + what);
  }

  void Fail(bool range, const std::string& message) {
    if (!ok_) return;
    ok_ = false;
    throw_arg_error(info_.Env(), range, message);
  }

 private:
  const Napi::CallbackInfo& info_;
  bool ok_ = true;
};

inline Napi::Value Num(Napi::Env env, double v) { return Napi::Number::New(env, v); }

#define ARGS_OR_RETURN(a) \
  if (!(a).ok()) return info.Env().Undefined()

}  // namespace troupe::binding
