// TLS over a non-blocking stream socket with OpenSSL: contexts, and sessions that read and write the fd.
#include "tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <utility>

namespace troupe::sys {

namespace {

// Ciphertext read from the fd per recv: several records at once, so a record costs no syscall of its own.
constexpr size_t kStaging = 64 * 1024;
// The most plaintext in one record: smaller writes are gathered up to this.
constexpr size_t kRecord = 16 * 1024;
// What a record adds to its plaintext at most: header, content type, tag (and padding, for old ciphers).
constexpr size_t kRecordOverhead = 512;

// A BIO over a PEM text (read-only, no copy).
struct PemBio {
  explicit PemBio(std::string_view pem) : bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))) {}
  ~PemBio() { BIO_free(bio); }
  PemBio(const PemBio&) = delete;
  PemBio& operator=(const PemBio&) = delete;
  BIO* bio;
};

// PEM_read_bio_* ends a bundle with "no start line": that is the end of the input, not an error.
bool only_end_of_pem() {
  unsigned long e = ERR_peek_last_error();
  if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
    ERR_clear_error();
    return true;
  }
  return false;
}

int passphrase_cb(char* buf, int size, int /*rwflag*/, void* u) {
  auto* pass = static_cast<std::string_view*>(u);
  int n = static_cast<int>(std::min(pass->size(), static_cast<size_t>(size)));
  memcpy(buf, pass->data(), n);
  return n;
}

// Certificates are checked after the handshake (the runtime decides what a failure means), as Node
// does: the handshake itself accepts any chain.
int accept_any(int /*preverify_ok*/, X509_STORE_CTX* /*ctx*/) { return 1; }

}  // namespace

void TlsError::capture() {
  clear();
  unsigned long e = ERR_peek_error();  // the first (root) error
  if (e != 0) {
    lib = ERR_GET_LIB(e);
    const char* l = ERR_lib_error_string(e);
    library = l != nullptr ? l : "";
    const char* r = ERR_reason_error_string(e);
    reason = r != nullptr ? r : "";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    message = buf;
  }
  ERR_clear_error();
}

// ---- TlsContext ----------------------------------------------------------------------------------------

TlsContext::TlsContext(bool server) : server_(server) {
  ERR_clear_error();
  ctx_ = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  if (ctx_ == nullptr) {
    error_.capture();
    return;
  }
  SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);  // Node's default minimum
  // NB: a peer that closes without close_notify after the handshake ends the stream (EOF), as most
  // servers do; before the handshake's end it is a reset (TlsSession::fail).
  // NB: no session resumption: no tickets (TLS 1.2 and 1.3: a server sends no NewSessionTicket), no cache.
  SSL_CTX_set_options(ctx_, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_TICKET);
  SSL_CTX_set_num_tickets(ctx_, 0);
  SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_mode(ctx_, SSL_MODE_RELEASE_BUFFERS);
  // NB: a client checks the verification result after the handshake. The callback lets verification run
  // to its end, so the result is the last problem found, as Node reports it (an untrusted leaf alone is
  // UNABLE_TO_VERIFY_LEAF_SIGNATURE, not the UNABLE_TO_GET_ISSUER_CERT_LOCALLY a stop at the first gives).
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, accept_any);
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

int TlsContext::fail() {
  error_.capture();
  if (error_.message.empty()) error_.message = "OpenSSL call failed";
  return kTlsFailed;
}

int TlsContext::use_certificate_chain(std::string_view pem) {
  ERR_clear_error();
  PemBio in(pem);
  X509* leaf = PEM_read_bio_X509_AUX(in.bio, nullptr, nullptr, nullptr);
  if (leaf == nullptr) return fail();
  int ok = SSL_CTX_use_certificate(ctx_, leaf);
  X509_free(leaf);
  if (ok != 1) return fail();
  SSL_CTX_clear_chain_certs(ctx_);
  while (X509* ca = PEM_read_bio_X509(in.bio, nullptr, nullptr, nullptr)) {
    // SAFETY: add0 takes ownership of ca on success only.
    if (SSL_CTX_add0_chain_cert(ctx_, ca) != 1) {
      X509_free(ca);
      return fail();
    }
  }
  return only_end_of_pem() ? 0 : fail();
}

int TlsContext::use_private_key(std::string_view pem, std::string_view passphrase) {
  ERR_clear_error();
  PemBio in(pem);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(in.bio, nullptr, passphrase_cb, &passphrase);
  if (key == nullptr) return fail();
  int ok = SSL_CTX_use_PrivateKey(ctx_, key);
  EVP_PKEY_free(key);
  return ok == 1 ? 0 : fail();
}

int TlsContext::add_ca(std::string_view pem) {
  ERR_clear_error();
  PemBio in(pem);
  X509_STORE* store = SSL_CTX_get_cert_store(ctx_);
  int added = 0;
  while (X509* ca = PEM_read_bio_X509(in.bio, nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(store, ca);  // NB: a duplicate is not an error worth failing on
    if (server_) SSL_CTX_add_client_CA(ctx_, ca);
    X509_free(ca);
    added++;
  }
  // NB: no certificate at all keeps PEM's "no start line" as the error.
  if (added == 0 || !only_end_of_pem()) return fail();
  return 0;
}

void TlsContext::share_ca(const TlsContext& other) {
  // SAFETY: set1 takes a reference of its own: the store lives as long as its last context.
  SSL_CTX_set1_cert_store(ctx_, SSL_CTX_get_cert_store(other.ctx_));
}

int TlsContext::set_ciphers(std::string_view list, std::string_view suites) {
  ERR_clear_error();
  if (!list.empty() && SSL_CTX_set_cipher_list(ctx_, std::string(list).c_str()) != 1) return fail();
  if (!suites.empty() && SSL_CTX_set_ciphersuites(ctx_, std::string(suites).c_str()) != 1) return fail();
  return 0;
}

int TlsContext::set_versions(int min, int max) {
  ERR_clear_error();
  if (min != 0 && SSL_CTX_set_min_proto_version(ctx_, min) != 1) return fail();
  if (max != 0 && SSL_CTX_set_max_proto_version(ctx_, max) != 1) return fail();
  return 0;
}

int TlsContext::set_alpn(std::string_view wire) {
  ERR_clear_error();
  if (!server_) {
    // NB: SSL_CTX_set_alpn_protos returns 0 on success.
    if (SSL_CTX_set_alpn_protos(ctx_, reinterpret_cast<const unsigned char*>(wire.data()),
                                static_cast<unsigned>(wire.size())) != 0) {
      return fail();
    }
    return 0;
  }
  alpn_.assign(wire);
  SSL_CTX_set_alpn_select_cb(ctx_, select_alpn, this);
  return 0;
}

int TlsContext::select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                            unsigned int inlen, void* arg) {
  auto* self = static_cast<TlsContext*>(arg);
  const auto* ours = reinterpret_cast<const unsigned char*>(self->alpn_.data());
  // The server's order decides; no protocol in common refuses the handshake (no_application_protocol).
  int rc = SSL_select_next_proto(const_cast<unsigned char**>(out), outlen, ours,
                                 static_cast<unsigned>(self->alpn_.size()), in, inlen);
  return rc == OPENSSL_NPN_NEGOTIATED ? SSL_TLSEXT_ERR_OK : SSL_TLSEXT_ERR_ALERT_FATAL;
}

void TlsContext::request_cert(bool request, bool require) {
  int mode = request ? SSL_VERIFY_PEER | (require ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0) : SSL_VERIFY_NONE;
  SSL_CTX_set_verify(ctx_, mode, request ? accept_any : nullptr);
}

// ---- TlsSession ----------------------------------------------------------------------------------------

BIO_METHOD* TlsSession::bio_method() {
  // NB: made once per process (thread-safe static init) and kept: every session's BIO uses it.
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "troupe socket");
    BIO_meth_set_read(m, bio_read);
    BIO_meth_set_write(m, bio_write);
    BIO_meth_set_ctrl(m, bio_ctrl);
    return m;
  }();
  return method;
}

TlsSession::TlsSession(TlsContext& ctx, int fd) : fd_(fd) {
  ERR_clear_error();
  ssl_ = SSL_new(ctx.get());
  BIO* bio = ssl_ != nullptr ? BIO_new(bio_method()) : nullptr;
  if (bio == nullptr) {
    error_.capture();
    SSL_free(ssl_);
    ssl_ = nullptr;
    return;
  }
  BIO_set_data(bio, this);
  BIO_set_init(bio, 1);
  // SAFETY: the same BIO both ways consumes one reference: the SSL frees it.
  SSL_set_bio(ssl_, bio, bio);
  if (ctx.server()) {
    SSL_set_accept_state(ssl_);
  } else {
    SSL_set_connect_state(ssl_);
  }
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

int TlsSession::set_servername(const std::string& name) {
  ERR_clear_error();
  if (SSL_set_tlsext_host_name(ssl_, name.c_str()) != 1) {
    error_.capture();
    return kTlsFailed;
  }
  return 0;
}

void TlsSession::push_back(const uint8_t* data, size_t len) {
  if (len == 0) return;
  // What is staged (nothing, before the first handshake step), then the new bytes.
  size_t kept = in_tail_ - in_head_;
  size_t cap = std::max(kept + len, kStaging);
  std::unique_ptr<uint8_t[]> next(new uint8_t[cap]);
  if (kept > 0) memcpy(next.get(), in_.get() + in_head_, kept);
  memcpy(next.get() + kept, data, len);
  in_ = std::move(next);
  in_cap_ = cap;
  in_head_ = 0;
  in_tail_ = kept + len;
}

int TlsSession::bio_read(BIO* b, char* buf, int len) {
  auto* s = static_cast<TlsSession*>(BIO_get_data(b));
  BIO_clear_retry_flags(b);
  if (len <= 0) return 0;
  if (s->in_head_ == s->in_tail_) {
    if (s->eof_) return 0;
    if (!s->in_) {
      s->in_.reset(new uint8_t[kStaging]);  // NB: uninitialized: recv fills what is used
      s->in_cap_ = kStaging;
    }
    ssize_t n;
    do {
      n = ::recv(s->fd_, s->in_.get(), s->in_cap_, MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n == 0) {
      s->eof_ = true;
      return 0;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        BIO_set_retry_read(b);
        s->in_.reset();  // the fd ran dry: an idle session keeps no staging buffer
        s->in_cap_ = 0;
      } else {
        s->io_errno_ = errno;
      }
      return -1;
    }
    s->in_head_ = 0;
    s->in_tail_ = static_cast<size_t>(n);
  }
  size_t take = std::min(static_cast<size_t>(len), s->in_tail_ - s->in_head_);
  memcpy(buf, s->in_.get() + s->in_head_, take);
  s->in_head_ += take;
  return static_cast<int>(take);
}

int TlsSession::bio_write(BIO* b, const char* buf, int len) {
  auto* s = static_cast<TlsSession*>(BIO_get_data(b));
  BIO_clear_retry_flags(b);
  if (len <= 0) return 0;
  // NB: never refuses: ciphertext waits in the queue for flush(). write() bounds the queue instead, by
  // taking no new plaintext while any is queued.
  if (s->out_head_ == s->out_.size()) {
    s->out_.clear();
    s->out_head_ = 0;
  }
  s->out_.insert(s->out_.end(), buf, buf + len);
  return len;
}

long TlsSession::bio_ctrl(BIO* b, int cmd, long, void*) {
  auto* s = static_cast<TlsSession*>(BIO_get_data(b));
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;
    case BIO_CTRL_EOF:
      return s->eof_ && s->in_head_ == s->in_tail_ ? 1 : 0;
    default:
      return 0;
  }
}

ssize_t TlsSession::flush() {
  while (out_head_ < out_.size()) {
    ssize_t n = ::send(fd_, out_.data() + out_head_, out_.size() - out_head_, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      out_head_ += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      break;
    } else {
      broken_ = true;
      return n < 0 ? -errno : -EIO;
    }
  }
  if (out_head_ == out_.size() && out_.capacity() > 0) {
    std::vector<uint8_t>().swap(out_);  // all sent: an idle session keeps no queue
    out_head_ = 0;
  }
  return static_cast<ssize_t>(queued());
}

int TlsSession::again() {
  want_ = queued() > 0 ? kWantWrite : kWantRead;
  return -EAGAIN;
}

int TlsSession::fail(int rc) {
  int e = SSL_get_error(ssl_, rc);
  switch (e) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      ERR_clear_error();
      return -EAGAIN;
    case SSL_ERROR_ZERO_RETURN:
      // close_notify: the end of the stream, or the peer giving up before the handshake's end.
      ERR_clear_error();
      return done_ ? 0 : -ECONNRESET;
    default:
      break;
  }
  broken_ = true;
  if (io_errno_ != 0 || (eof_ && !done_)) {
    // The transport failed under OpenSSL (whatever it made of that): report the transport's error. An
    // EOF before the handshake ends is the peer closing on us.
    ERR_clear_error();
    return io_errno_ != 0 ? -io_errno_ : -ECONNRESET;
  }
  if (e == SSL_ERROR_SYSCALL) {
    ERR_clear_error();
    return eof_ ? 0 : -EIO;
  }
  error_.capture();
  if (error_.message.empty()) error_.message = "TLS failure";
  fatal_ = error_;
  return kTlsFailed;
}

bool TlsSession::failed() {
  if (fatal_.message.empty()) return false;
  error_ = fatal_;
  return true;
}

int TlsSession::handshake() {
  if (ssl_ == nullptr) return -EBADF;
  if (done_) {
    ssize_t f = flush();
    return f < 0 ? static_cast<int>(f) : 1;
  }
  ERR_clear_error();
  int rc = SSL_do_handshake(ssl_);
  int r = rc == 1 ? 1 : fail(rc);
  ssize_t f = flush();
  if (f < 0) return static_cast<int>(f);
  if (r == 1) {
    done_ = true;
    return 1;
  }
  return r == -EAGAIN ? again() : r;
}

ssize_t TlsSession::read(uint8_t* buf, size_t len) {
  if (ssl_ == nullptr) return -EBADF;
  if (held_) {
    held_ = false;
    if (pending_ == kTlsFailed) error_ = std::move(pending_error_);
    pending_error_.clear();
    return std::exchange(pending_, 0);
  }
  if (failed()) return kTlsFailed;
  ERR_clear_error();
  size_t total = 0;
  int r = -EAGAIN;  // how the last SSL_read_ex failed; -EAGAIN too when buf filled up first
  while (total < len) {
    size_t n = 0;
    int rc = SSL_read_ex(ssl_, buf + total, len - total, &n);
    if (rc != 1) {
      r = fail(rc);
      break;
    }
    total += n;
  }
  // Whatever reading produced (a KeyUpdate answer, an alert) goes out now, as far as the fd takes it.
  ssize_t f = flush();
  if (total > 0) {
    // The end of the stream or an error after some plaintext: the plaintext first, the rest on the next
    // read, with its error (a write meanwhile may capture another).
    if (r != -EAGAIN) {
      held_ = true;
      pending_ = r;
      if (r == kTlsFailed) pending_error_ = error_;
    }
    return static_cast<ssize_t>(total);
  }
  if (f < 0) return f;
  return r == -EAGAIN ? again() : r;
}

int TlsSession::encrypt(const uint8_t* data, size_t len) {
  size_t n = 0;
  int rc = SSL_write_ex(ssl_, data, len, &n);
  return rc == 1 ? 0 : fail(rc);
}

ssize_t TlsSession::write(const iovec* iov, int count) {
  if (ssl_ == nullptr) return -EBADF;
  if (failed()) return kTlsFailed;
  ssize_t f = flush();
  if (f < 0) return f;
  if (f > 0) return again();
  size_t want = 0;
  for (int i = 0; i < count && want < kMaxWrite; i++) want += iov[i].iov_len;
  // After our close_notify the stream is over, as a socket after shutdown(SHUT_WR).
  if (want > 0 && (SSL_get_shutdown(ssl_) & SSL_SENT_SHUTDOWN) != 0) return -EPIPE;
  ERR_clear_error();
  uint8_t stage[kRecord];  // small writes gathered into one record
  // The ciphertext in one allocation: the plaintext and each record's header and tag.
  want = std::min(want, kMaxWrite);
  out_.reserve(want + (want / kRecord + 1) * kRecordOverhead);
  size_t total = 0;        // plaintext encrypted
  size_t staged = 0;       // plaintext gathered in stage, not yet encrypted
  int rc = 0;
  for (int i = 0; i < count && rc == 0 && total + staged < kMaxWrite; i++) {
    const auto* p = static_cast<const uint8_t*>(iov[i].iov_base);
    size_t n = std::min(iov[i].iov_len, kMaxWrite - total - staged);
    while (n > 0 && rc == 0) {
      if (staged == 0 && n >= kRecord) {
        // Whole records straight from the caller's buffer; a short tail is gathered with what follows.
        size_t whole = n - n % kRecord;
        rc = encrypt(p, whole);
        if (rc != 0) break;
        total += whole;
        p += whole;
        n -= whole;
      } else {
        size_t c = std::min(n, kRecord - staged);
        memcpy(stage + staged, p, c);
        staged += c;
        p += c;
        n -= c;
        if (staged == kRecord) {
          rc = encrypt(stage, staged);
          if (rc == 0) total += staged, staged = 0;
        }
      }
    }
  }
  if (rc == 0 && staged > 0) {
    rc = encrypt(stage, staged);
    if (rc == 0) total += staged;
  }
  f = flush();
  // NB: a failed send loses the connection: the plaintext just encrypted can never arrive either.
  if (f < 0) return f;
  if (total > 0) return static_cast<ssize_t>(total);
  if (rc != 0) return rc == -EAGAIN ? again() : rc;
  return 0;
}

ssize_t TlsSession::shutdown() {
  if (ssl_ == nullptr) return -EBADF;
  // NB: SSL_shutdown must not follow a fatal error; a close_notify goes out once, and only behind all the
  // ciphertext before it.
  ssize_t f = flush();
  if (f != 0) return f;
  if (done_ && !broken_ && (SSL_get_shutdown(ssl_) & SSL_SENT_SHUTDOWN) == 0) {
    ERR_clear_error();
    SSL_shutdown(ssl_);
    ERR_clear_error();
  }
  return flush();
}

const char* TlsSession::version() const { return SSL_get_version(ssl_); }

const char* TlsSession::cipher() const {
  const SSL_CIPHER* c = SSL_get_current_cipher(ssl_);
  return c != nullptr ? SSL_CIPHER_get_name(c) : "";
}

const char* TlsSession::cipher_standard() const {
  const SSL_CIPHER* c = SSL_get_current_cipher(ssl_);
  const char* name = c != nullptr ? SSL_CIPHER_standard_name(c) : nullptr;
  return name != nullptr ? name : "";
}

const char* TlsSession::cipher_version() const {
  const SSL_CIPHER* c = SSL_get_current_cipher(ssl_);
  return c != nullptr ? SSL_CIPHER_get_version(c) : "";
}

std::string_view TlsSession::alpn() const {
  const unsigned char* p = nullptr;
  unsigned len = 0;
  SSL_get0_alpn_selected(ssl_, &p, &len);
  return p != nullptr ? std::string_view(reinterpret_cast<const char*>(p), len) : std::string_view();
}

const char* TlsSession::servername() const {
  const char* name = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name);
  return name != nullptr ? name : "";
}

long TlsSession::verify_result() const {
  if (SSL_get0_peer_certificate(ssl_) == nullptr) return X509_V_ERR_UNSPECIFIED;
  return SSL_get_verify_result(ssl_);
}

bool TlsSession::session_reused() const { return SSL_session_reused(ssl_) == 1; }

std::vector<uint8_t> TlsSession::peer_certificate() const {
  X509* peer = SSL_get0_peer_certificate(ssl_);
  if (peer == nullptr) return {};
  int len = i2d_X509(peer, nullptr);
  if (len <= 0) return {};
  std::vector<uint8_t> der(static_cast<size_t>(len));
  unsigned char* p = der.data();
  i2d_X509(peer, &p);
  return der;
}

}  // namespace troupe::sys
