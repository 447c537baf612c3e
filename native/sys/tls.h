// TLS over a non-blocking stream socket with OpenSSL: contexts, and sessions that read and write the fd.
#pragma once

#include <errno.h>
#include <openssl/ssl.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace troupe::sys {

// NB: results follow the socket calls: >= 0, or -errno. kTlsFailed means an OpenSSL error, described by
// error(); it lies outside the errno range (-4095..-1), so a real EPROTO from the fd stays an errno.
// -EAGAIN means "wait": want() says for what.
constexpr int kTlsFailed = -0x10000;
constexpr int kWantRead = 1;
constexpr int kWantWrite = 2;

// The first OpenSSL error of the last failed call.
struct TlsError {
  int lib = 0;              // ERR_GET_LIB (ERR_LIB_SSL = 20, ...)
  std::string library;      // "SSL routines"
  std::string reason;       // "wrong version number"
  std::string message;      // "error:0A00010B:SSL routines::wrong version number"
  void clear() { lib = 0, library.clear(), reason.clear(), message.clear(); }
  // Takes the first error off the thread's OpenSSL queue and empties the queue.
  void capture();
};

// An SSL_CTX for one side. Configure it before the first session; a session keeps what it needs of it.
class TlsContext {
 public:
  explicit TlsContext(bool server);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  bool ok() const { return ctx_ != nullptr; }
  bool server() const { return server_; }
  SSL_CTX* get() const { return ctx_; }
  const TlsError& error() const { return error_; }

  // Each returns 0 or kTlsFailed (see error()).
  // A PEM certificate chain: the first is the leaf, the rest its issuers.
  int use_certificate_chain(std::string_view pem);
  // A PEM private key, decrypted with `passphrase` when it is encrypted.
  int use_private_key(std::string_view pem, std::string_view passphrase);
  // Trusts every certificate of a PEM bundle (peer verification).
  int add_ca(std::string_view pem);
  // Trusts what `other` trusts, sharing its certificate store (counted, not copied): a store of many roots
  // is parsed once for any number of contexts. Replaces this context's own store.
  void share_ca(const TlsContext& other);
  // OpenSSL cipher list for TLS 1.2 and below, and TLS 1.3 suites ("" leaves a list unchanged).
  int set_ciphers(std::string_view list, std::string_view suites);
  // Protocol versions (TLS1_2_VERSION...; 0 leaves the bound unchanged).
  int set_versions(int min, int max);
  // ALPN protocols in wire format (length-prefixed names): a client offers them, a server picks the first
  // of its own that the client offers, and refuses the handshake when there is none.
  int set_alpn(std::string_view wire);
  // Server: ask the client for a certificate (and fail the handshake when it sends none, if `require`).
  void request_cert(bool request, bool require);

 private:
  static int select_alpn(SSL* ssl, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                         unsigned int inlen, void* arg);
  int fail();

  SSL_CTX* ctx_ = nullptr;
  bool server_;
  std::string alpn_;
  TlsError error_;
};

// One TLS connection over a socket fd. The fd stays the caller's (never closed here); the context must
// outlive the session. Plaintext goes in and out through caller buffers; ciphertext is read from the fd
// through a staging buffer (which pushback() can seed with bytes read before TLS started) and queued for
// the fd, so a write never blocks: what the kernel does not take waits in the queue.
class TlsSession {
 public:
  TlsSession(TlsContext& ctx, int fd);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  bool ok() const { return ssl_ != nullptr; }
  // SNI sent by a client.
  int set_servername(const std::string& name);
  // Bytes of the peer's TLS stream already read from the fd: they are read before the fd.
  void push_back(const uint8_t* data, size_t len);

  // 1 once the handshake is done, -EAGAIN (see want()), -ECONNRESET (EOF first), -errno, or kTlsFailed.
  int handshake();
  // Plaintext into buf until it is full or the fd has no more: n > 0, 0 at the end of the stream
  // (close_notify or EOF), -EAGAIN, -errno, or kTlsFailed. A short n > 0 means the fd ran dry, unless
  // held(): then the end of the stream or an error came right after the plaintext, and the next read
  // returns it (with its error()) without touching the fd.
  ssize_t read(uint8_t* buf, size_t len);
  bool held() const { return held_; }
  // Encrypts up to kMaxWrite bytes of the buffers and sends what the fd takes: the plaintext bytes taken,
  // or -EAGAIN while earlier ciphertext is still queued, -EPIPE once a close_notify went out, -errno,
  // kTlsFailed. An empty write only flushes. NB: after a fatal OpenSSL error (a forged record, an alert),
  // reads and writes fail with it again: kTlsFailed, and the same error().
  ssize_t write(const iovec* iov, int count);
  // Sends queued ciphertext: bytes still queued, or -errno.
  ssize_t flush();
  // Flushes, then queues a close_notify (after a finished handshake) and flushes again: bytes still queued,
  // or -errno. NB: no close_notify while earlier ciphertext is still queued: the stream is being cut short,
  // and the peer must see that rather than an authenticated end.
  ssize_t shutdown();

  size_t queued() const { return out_.size() - out_head_; }
  int want() const { return want_; }
  const TlsError& error() const { return error_; }

  // After the handshake.
  const char* version() const;
  const char* cipher() const;
  const char* cipher_standard() const;
  // The lowest protocol version the cipher belongs to ("TLSv1.2", "TLSv1.3").
  const char* cipher_version() const;
  std::string_view alpn() const;
  const char* servername() const;
  // X509_V_OK (0), an X509_V_ERR_* code, or X509_V_ERR_UNSPECIFIED (1) when the peer sent no certificate.
  long verify_result() const;
  bool session_reused() const;
  // The peer's certificate, DER; empty when it sent none.
  std::vector<uint8_t> peer_certificate() const;

  static constexpr size_t kMaxWrite = 256 * 1024;

 private:
  static BIO_METHOD* bio_method();
  static int bio_read(BIO* b, char* buf, int len);
  static int bio_write(BIO* b, const char* buf, int len);
  static long bio_ctrl(BIO* b, int cmd, long num, void* ptr);
  int encrypt(const uint8_t* data, size_t len);
  // The result of a failed SSL call `rc`: -EAGAIN, 0 (end of stream), -errno or kTlsFailed.
  int fail(int rc);
  // -EAGAIN, noting what to wait for: the fd's writability while ciphertext is queued, else input.
  int again();
  // After a fatal OpenSSL error: true, with error() set to it again (every later read and write fails so).
  bool failed();

  SSL* ssl_ = nullptr;
  int fd_;
  bool done_ = false;  // handshake finished
  bool eof_ = false;   // the fd reported EOF
  bool broken_ = false;  // a fatal error happened: no close_notify may follow
  int io_errno_ = 0;   // the fd's last error other than EAGAIN
  int want_ = kWantRead;
  // The end of the stream (0) or an error met after some plaintext was returned, and the error() that goes
  // with it: reported by the next read.
  bool held_ = false;
  int pending_ = 0;
  TlsError pending_error_;
  TlsError fatal_;  // the fatal OpenSSL error, once there was one
  // Ciphertext read from the fd and not yet taken by OpenSSL: in_[in_head_, in_tail_) of in_cap_ bytes.
  // NB: allocated when a read needs it and freed once the fd runs dry, so an idle session holds none.
  std::unique_ptr<uint8_t[]> in_;
  size_t in_cap_ = 0;
  size_t in_head_ = 0;
  size_t in_tail_ = 0;
  // Ciphertext for the fd: out_[out_head_, end).
  std::vector<uint8_t> out_;
  size_t out_head_ = 0;
  TlsError error_;
};

}  // namespace troupe::sys
