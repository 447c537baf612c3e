// TlsContext and TlsSession: thin methods over sys/tls.h (numbers and caller-owned buffers in, numbers out).
#include <openssl/x509.h>

#include <algorithm>
#include <memory>
#include <string>

#include "../sys/tls.h"
#include "addon.h"
#include "args.h"

namespace troupe::binding {

namespace {

// NB: tags tell a TlsContext wrap from any other object handed to the TlsSession constructor.
constexpr napi_type_tag kContextTag = {0x7472'6f75'7065'746cULL, 0x7363'7478'0000'0001ULL};

// The whole of a Uint8Array argument.
Bytes Whole(Args& a, const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!a.ok()) return {nullptr, 0};
  if (!is_typed(info[i], napi_uint8_array)) {
    a.WrongType(name, "an instance of Uint8Array");
    return {nullptr, 0};
  }
  auto arr = info[i].As<Napi::Uint8Array>();
  return {arr.Data(), arr.ElementLength()};
}

std::string_view View(const Bytes& b) { return {reinterpret_cast<const char*>(b.data), b.len}; }

Napi::Value ErrorObject(Napi::Env env, const sys::TlsError& e) {
  if (e.message.empty()) return env.Undefined();
  Napi::Object o = Napi::Object::New(env);
  o.Set("lib", e.lib);
  o.Set("library", e.library);
  o.Set("reason", e.reason);
  o.Set("message", e.message);
  return o;
}

class TlsContextWrap : public Napi::ObjectWrap<TlsContextWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "TlsContext",
                       {
                           InstanceMethod<&TlsContextWrap::Ok>("ok"),
                           InstanceMethod<&TlsContextWrap::Cert>("cert"),
                           InstanceMethod<&TlsContextWrap::Key>("key"),
                           InstanceMethod<&TlsContextWrap::Ca>("ca"),
                           InstanceMethod<&TlsContextWrap::ShareCa>("shareCa"),
                           InstanceMethod<&TlsContextWrap::Ciphers>("ciphers"),
                           InstanceMethod<&TlsContextWrap::Versions>("versions"),
                           InstanceMethod<&TlsContextWrap::Alpn>("alpn"),
                           InstanceMethod<&TlsContextWrap::RequestCert>("requestCert"),
                           InstanceMethod<&TlsContextWrap::Error>("error"),
                       });
  }

  explicit TlsContextWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TlsContextWrap>(info) {
    Args a(info);
    bool server = a.Bool(0, "server");
    if (!a.ok()) return;
    ctx_ = std::make_unique<sys::TlsContext>(server);
    info.This().As<Napi::Object>().TypeTag(&kContextTag);
  }

  sys::TlsContext* ctx() { return ctx_.get(); }

  static bool IsContext(const Napi::Value& v) {
    return v.IsObject() && v.As<Napi::Object>().CheckTypeTag(&kContextTag);
  }

 private:
  Napi::Value Ok(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), ctx_ && ctx_->ok()); }

  Napi::Value Cert(const Napi::CallbackInfo& info) {
    Args a(info);
    Bytes pem = Whole(a, info, 0, "pem");
    ARGS_OR_RETURN(a);
    return Num(info.Env(), ctx_->use_certificate_chain(View(pem)));
  }

  Napi::Value Key(const Napi::CallbackInfo& info) {
    Args a(info);
    Bytes pem = Whole(a, info, 0, "pem");
    std::string pass = a.Str(1, "passphrase");
    ARGS_OR_RETURN(a);
    return Num(info.Env(), ctx_->use_private_key(View(pem), pass));
  }

  Napi::Value Ca(const Napi::CallbackInfo& info) {
    Args a(info);
    Bytes pem = Whole(a, info, 0, "pem");
    ARGS_OR_RETURN(a);
    return Num(info.Env(), ctx_->add_ca(View(pem)));
  }

  // shareCa(other): trust what `other` trusts, through its very store (see TlsContext::share_ca).
  Napi::Value ShareCa(const Napi::CallbackInfo& info) {
    Args a(info);
    if (a.ok() && !IsContext(info[0])) a.WrongType("other", "a TlsContext");
    ARGS_OR_RETURN(a);
    sys::TlsContext* other = Unwrap(info[0].As<Napi::Object>())->ctx();
    if (other == nullptr || !other->ok() || !ctx_ || !ctx_->ok()) {
      a.Fail(false, "The \"other\" argument must be a usable TlsContext");
      return info.Env().Undefined();
    }
    ctx_->share_ca(*other);
    return info.Env().Undefined();
  }

  Napi::Value Ciphers(const Napi::CallbackInfo& info) {
    Args a(info);
    std::string list = a.Str(0, "list");
    std::string suites = a.Str(1, "suites");
    ARGS_OR_RETURN(a);
    return Num(info.Env(), ctx_->set_ciphers(list, suites));
  }

  Napi::Value Versions(const Napi::CallbackInfo& info) {
    Args a(info);
    int min = a.Int(0, "min");
    int max = a.Int(1, "max");
    ARGS_OR_RETURN(a);
    return Num(info.Env(), ctx_->set_versions(min, max));
  }

  Napi::Value Alpn(const Napi::CallbackInfo& info) {
    Args a(info);
    Bytes wire = Whole(a, info, 0, "wire");
    ARGS_OR_RETURN(a);
    return Num(info.Env(), ctx_->set_alpn(View(wire)));
  }

  Napi::Value RequestCert(const Napi::CallbackInfo& info) {
    Args a(info);
    bool request = a.Bool(0, "request");
    bool require = a.Bool(1, "require");
    ARGS_OR_RETURN(a);
    ctx_->request_cert(request, require);
    return info.Env().Undefined();
  }

  Napi::Value Error(const Napi::CallbackInfo& info) { return ErrorObject(info.Env(), ctx_->error()); }

  std::unique_ptr<sys::TlsContext> ctx_;
};

class TlsSessionWrap : public Napi::ObjectWrap<TlsSessionWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "TlsSession",
                       {
                           InstanceMethod<&TlsSessionWrap::Servername>("servername"),
                           InstanceMethod<&TlsSessionWrap::Pushback>("pushback"),
                           InstanceMethod<&TlsSessionWrap::Handshake>("handshake"),
                           InstanceMethod<&TlsSessionWrap::Read>("read"),
                           InstanceMethod<&TlsSessionWrap::Held>("held"),
                           InstanceMethod<&TlsSessionWrap::Writev>("writev"),
                           InstanceMethod<&TlsSessionWrap::Flush>("flush"),
                           InstanceMethod<&TlsSessionWrap::Shutdown>("shutdown"),
                           InstanceMethod<&TlsSessionWrap::Queued>("queued"),
                           InstanceMethod<&TlsSessionWrap::Want>("want"),
                           InstanceMethod<&TlsSessionWrap::Error>("error"),
                           InstanceMethod<&TlsSessionWrap::Info>("info"),
                           InstanceMethod<&TlsSessionWrap::PeerCertificate>("peerCertificate"),
                           InstanceMethod<&TlsSessionWrap::Free>("free"),
                       });
  }

  explicit TlsSessionWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TlsSessionWrap>(info) {
    Args a(info);
    if (a.ok() && !TlsContextWrap::IsContext(info[0])) a.WrongType("ctx", "a TlsContext");
    int fd = a.Int(1, "fd");
    if (!a.ok()) return;
    Napi::Object ctx = info[0].As<Napi::Object>();
    sys::TlsContext* c = TlsContextWrap::Unwrap(ctx)->ctx();
    if (c == nullptr || !c->ok()) {
      a.Fail(false, "The \"ctx\" argument must be a usable TlsContext");
      return;
    }
    // NB: the context stays alive while the session does (its ALPN list serves the session's handshake).
    ctx_ = Napi::Persistent(ctx);
    session_ = std::make_unique<sys::TlsSession>(*c, fd);
  }

 private:
  // Every method on a freed (or failed) session answers -EBADF.
  bool Usable() const { return session_ != nullptr && session_->ok(); }

  Napi::Value Servername(const Napi::CallbackInfo& info) {
    Args a(info);
    std::string name = a.Str(0, "name");
    ARGS_OR_RETURN(a);
    return Num(info.Env(), Usable() ? session_->set_servername(name) : -EBADF);
  }

  Napi::Value Pushback(const Napi::CallbackInfo& info) {
    Args a(info);
    Bytes b = a.Range(0, "buf");
    ARGS_OR_RETURN(a);
    if (Usable()) session_->push_back(b.data, b.len);
    return info.Env().Undefined();
  }

  Napi::Value Handshake(const Napi::CallbackInfo& info) {
    return Num(info.Env(), Usable() ? session_->handshake() : -EBADF);
  }

  Napi::Value Read(const Napi::CallbackInfo& info) {
    Args a(info);
    Bytes b = a.Range(0, "buf");
    ARGS_OR_RETURN(a);
    return Num(info.Env(), Usable() ? static_cast<double>(session_->read(b.data, b.len)) : -EBADF);
  }

  // After a short read: the end of the stream or an error waits for the next read (not the fd).
  Napi::Value Held(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), Usable() && session_->held());
  }

  // writev(bufs, count): the first `count` buffers (at most 64), encrypted and sent.
  Napi::Value Writev(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Args a(info);
    if (a.ok() && !info[0].IsArray()) a.WrongType("bufs", "an instance of Array");
    int count = a.Int(1, "count");
    ARGS_OR_RETURN(a);
    auto arr = info[0].As<Napi::Array>();
    if (count < 0 || static_cast<uint32_t>(count) > arr.Length()) {
      a.Fail(true, "The value of \"count\" is out of range. It must be >= 0 and <= bufs.length");
      return env.Undefined();
    }
    constexpr int kMaxIov = 64;
    int take = std::min(count, kMaxIov);
    // SAFETY: first every element, then every pointer: Get() may run JS (a getter) that detaches a buffer
    // taken earlier; nothing runs JS once the pointers are taken.
    Napi::Value items[kMaxIov];
    for (int i = 0; i < take; i++) {
      items[i] = arr.Get(static_cast<uint32_t>(i));
      if (items[i].IsEmpty()) return env.Undefined();  // the getter threw
      if (!is_typed(items[i], napi_uint8_array)) {
        a.WrongType(("bufs[" + std::to_string(i) + "]").c_str(), "an instance of Uint8Array");
        return env.Undefined();
      }
    }
    iovec iov[kMaxIov];
    for (int i = 0; i < take; i++) {
      auto buf = items[i].As<Napi::Uint8Array>();
      iov[i] = {buf.Data(), buf.ElementLength()};
    }
    return Num(env, Usable() ? static_cast<double>(session_->write(iov, take)) : -EBADF);
  }

  Napi::Value Flush(const Napi::CallbackInfo& info) {
    return Num(info.Env(), Usable() ? static_cast<double>(session_->flush()) : -EBADF);
  }

  Napi::Value Shutdown(const Napi::CallbackInfo& info) {
    return Num(info.Env(), Usable() ? static_cast<double>(session_->shutdown()) : -EBADF);
  }

  Napi::Value Queued(const Napi::CallbackInfo& info) {
    return Num(info.Env(), Usable() ? static_cast<double>(session_->queued()) : 0);
  }

  Napi::Value Want(const Napi::CallbackInfo& info) {
    return Num(info.Env(), Usable() ? session_->want() : sys::kWantRead);
  }

  Napi::Value Error(const Napi::CallbackInfo& info) {
    if (session_ == nullptr) return info.Env().Undefined();
    return ErrorObject(info.Env(), session_->error());
  }

  // { protocol, cipher, standardName, cipherVersion, alpn, servername, verifyError, verifyReason, reused } after the handshake.
  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Usable()) return env.Undefined();
    const sys::TlsSession& s = *session_;
    Napi::Object o = Napi::Object::New(env);
    o.Set("protocol", s.version());
    o.Set("cipher", s.cipher());
    o.Set("standardName", s.cipher_standard());
    o.Set("cipherVersion", s.cipher_version());
    std::string_view alpn = s.alpn();
    o.Set("alpn", Napi::String::New(env, alpn.data(), alpn.size()));
    o.Set("servername", s.servername());
    long verify = s.verify_result();
    o.Set("verifyError", Napi::Number::New(env, static_cast<double>(verify)));
    o.Set("verifyReason", X509_verify_cert_error_string(verify));
    o.Set("reused", s.session_reused());
    return o;
  }

  Napi::Value PeerCertificate(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Usable()) return env.Undefined();
    std::vector<uint8_t> der = session_->peer_certificate();
    if (der.empty()) return env.Undefined();
    return Napi::Buffer<uint8_t>::Copy(env, der.data(), der.size());
  }

  // Frees the SSL at once (the finalizer would, later); later calls answer -EBADF. Idempotent.
  Napi::Value Free(const Napi::CallbackInfo& info) {
    session_.reset();
    ctx_.Reset();
    return info.Env().Undefined();
  }

  std::unique_ptr<sys::TlsSession> session_;
  Napi::ObjectReference ctx_;
};

}  // namespace

void init_tls(Napi::Env env, Napi::Object exports) {
  exports.Set("TlsContext", TlsContextWrap::Define(env));
  exports.Set("TlsSession", TlsSessionWrap::Define(env));
}

}  // namespace troupe::binding
