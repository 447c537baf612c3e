// sys/tls.h tested directly, without Node, over socketpairs: handshakes, data, pushback, errors (run-asan.sh).
#include <errno.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "../../native/sys/socket.h"
#include "../../native/sys/tls.h"
#include "../../native/sys/unique_fd.h"
#include "check.h"

namespace sys = troupe::sys;
using troupe::sys::UniqueFd;

namespace {

// ---- fixtures ------------------------------------------------------------------------------------------

struct Identity {
  std::string cert;
  std::string key;
};

std::string to_pem(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

// A self-signed P-256 certificate for `cn` (also its DNS subjectAltName).
Identity make_identity(const char* cn) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509_set_issuer_name(x, name);
  std::string san = std::string("DNS:") + cn;
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, san.c_str());
  X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  X509_sign(x, key, EVP_sha256());
  BIO* c = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(c, x);
  BIO* k = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(k, key, nullptr, nullptr, 0, nullptr, nullptr);
  X509_free(x);
  EVP_PKEY_free(key);
  return {to_pem(c), to_pem(k)};
}

struct Pair {
  UniqueFd a, b;
  Pair() {
    int fds[2];
    if (sys::socketpair(SOCK_STREAM, fds) == 0) {
      a.reset(fds[0]);
      b.reset(fds[1]);
    }
  }
};

// Steps both handshakes until both finish or one fails; returns {client result, server result}.
std::pair<int, int> handshake(sys::TlsSession& client, sys::TlsSession& server) {
  int c = -EAGAIN, s = -EAGAIN;
  for (int i = 0; i < 100 && (c == -EAGAIN || s == -EAGAIN); i++) {
    if (c == -EAGAIN) c = client.handshake();
    if (s == -EAGAIN) s = server.handshake();
  }
  return {c, s};
}

// Moves `data` from `from` to `to` through the TLS sessions, stepping both until it has all arrived.
std::string transfer(sys::TlsSession& from, sys::TlsSession& to, const std::string& data) {
  std::string got;
  size_t sent = 0;
  std::vector<uint8_t> buf(7000);
  for (int i = 0; i < 100000 && got.size() < data.size(); i++) {
    if (sent < data.size()) {
      iovec iov = {const_cast<char*>(data.data() + sent), data.size() - sent};
      ssize_t n = from.write(&iov, 1);
      if (n > 0) sent += static_cast<size_t>(n);
      else if (n != -EAGAIN) break;
    } else {
      from.flush();
    }
    ssize_t r = to.read(buf.data(), buf.size());
    if (r > 0) got.append(reinterpret_cast<char*>(buf.data()), static_cast<size_t>(r));
    else if (r != -EAGAIN) break;
  }
  return got;
}

struct Sides {
  sys::TlsContext server_ctx{true};
  sys::TlsContext client_ctx{false};
  explicit Sides(const Identity& id) {
    CHECK(server_ctx.use_certificate_chain(id.cert) == 0);
    CHECK(server_ctx.use_private_key(id.key, "") == 0);
  }
};

// ---- tests ---------------------------------------------------------------------------------------------

void test_handshake_data_and_close_notify(const Identity& id) {
  Sides s(id);
  CHECK(s.client_ctx.add_ca(id.cert) == 0);
  Pair p;
  sys::TlsSession client(s.client_ctx, p.a.get());
  sys::TlsSession server(s.server_ctx, p.b.get());
  CHECK(client.set_servername("example.test") == 0);
  auto [c, r] = handshake(client, server);
  CHECK(c == 1);
  CHECK(r == 1);
  CHECK(std::string(client.version()) == "TLSv1.3");
  CHECK(std::string(server.servername()) == "example.test");
  CHECK(client.verify_result() == X509_V_OK);
  CHECK(!client.peer_certificate().empty());
  CHECK(server.verify_result() == X509_V_ERR_UNSPECIFIED);  // a client without certificate
  CHECK(transfer(client, server, "hello") == "hello");
  // More than the socketpair's buffer: ciphertext queues, write() says EAGAIN until it drains.
  std::string big(3 * 1024 * 1024 + 17, 'x');
  for (size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + i % 26);
  CHECK(transfer(server, client, big) == big);
  // close_notify: the peer reads the end of the stream.
  CHECK(client.shutdown() == 0);
  uint8_t buf[16];
  CHECK(server.read(buf, sizeof buf) == 0);
}

void test_verify_results(const Identity& id) {
  Sides s(id);  // the client trusts nothing
  Pair p;
  sys::TlsSession client(s.client_ctx, p.a.get());
  sys::TlsSession server(s.server_ctx, p.b.get());
  auto [c, r] = handshake(client, server);
  CHECK(c == 1 && r == 1);  // verification is the caller's decision, after the handshake
  CHECK(client.verify_result() == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
}

void test_alpn(const Identity& id) {
  {
    Sides s(id);
    CHECK(s.client_ctx.set_alpn(std::string("\x02h2\x08http/1.1", 12)) == 0);
    CHECK(s.server_ctx.set_alpn(std::string("\x08http/1.1", 9)) == 0);
    Pair p;
    sys::TlsSession client(s.client_ctx, p.a.get());
    sys::TlsSession server(s.server_ctx, p.b.get());
    auto [c, r] = handshake(client, server);
    CHECK(c == 1 && r == 1);
    CHECK(client.alpn() == "http/1.1");
    CHECK(server.alpn() == "http/1.1");
  }
  {
    Sides s(id);
    CHECK(s.client_ctx.set_alpn(std::string("\x02h2", 3)) == 0);
    CHECK(s.server_ctx.set_alpn(std::string("\x08http/1.1", 9)) == 0);
    Pair p;
    sys::TlsSession client(s.client_ctx, p.a.get());
    sys::TlsSession server(s.server_ctx, p.b.get());
    auto [c, r] = handshake(client, server);
    CHECK(r == sys::kTlsFailed);
    CHECK(c == sys::kTlsFailed);
    CHECK(client.error().lib == ERR_LIB_SSL);
    CHECK(client.error().reason.find("no application protocol") != std::string::npos);
  }
}

void test_pushback(const Identity& id) {
  Sides s(id);
  Pair p;
  sys::TlsSession client(s.client_ctx, p.a.get());
  CHECK(client.handshake() == -EAGAIN);  // the ClientHello is out
  CHECK(client.want() == sys::kWantRead);
  // The server side read it before TLS started: a session on that fd sees it only through push_back.
  std::vector<uint8_t> early(16384);
  ssize_t n = ::recv(p.b.get(), early.data(), early.size(), MSG_DONTWAIT);
  CHECK(n > 0);
  sys::TlsSession server(s.server_ctx, p.b.get());
  server.push_back(early.data(), static_cast<size_t>(n));
  auto [c, r] = handshake(client, server);
  CHECK(c == 1 && r == 1);
  CHECK(transfer(server, client, "after pushback") == "after pushback");
}

void test_eof_mid_handshake(const Identity& id) {
  Sides s(id);
  Pair p;
  {
    sys::TlsSession client(s.client_ctx, p.a.get());
    CHECK(client.handshake() == -EAGAIN);
  }
  p.a.reset();  // the client goes away after its hello
  sys::TlsSession server(s.server_ctx, p.b.get());
  int r = -EAGAIN;
  for (int i = 0; i < 10 && r == -EAGAIN; i++) r = server.handshake();
  CHECK(r == -ECONNRESET || r == -EPIPE);
}

void test_garbage_is_a_tls_error(const Identity& id) {
  Sides s(id);
  Pair p;
  sys::TlsSession server(s.server_ctx, p.b.get());
  const char junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  CHECK(::send(p.a.get(), junk, sizeof junk - 1, 0) == static_cast<ssize_t>(sizeof junk - 1));
  int r = server.handshake();
  CHECK(r == sys::kTlsFailed);
  CHECK(server.error().lib == ERR_LIB_SSL);
  CHECK(!server.error().reason.empty());
  CHECK(server.shutdown() >= 0);  // no close_notify after a fatal error, and no crash
}

// Sets up a client and a server session over `p` with the handshake done.
#define CONNECTED(s, p, client, server)                \
  sys::TlsSession client((s).client_ctx, (p).a.get()); \
  sys::TlsSession server((s).server_ctx, (p).b.get()); \
  CHECK(handshake(client, server) == std::make_pair(1, 1))

void test_data_and_close_notify_in_one_read(const Identity& id) {
  Sides s(id);
  Pair p;
  CONNECTED(s, p, client, server);
  // The plaintext and the close_notify behind it, both waiting in the socket (and no FIN): one read takes
  // the plaintext and holds the end of the stream for the next read.
  iovec iov = {const_cast<char*>("last words"), 10};
  CHECK(server.write(&iov, 1) == 10);
  CHECK(server.shutdown() == 0);
  uint8_t buf[64];
  CHECK(!client.held());
  CHECK(client.read(buf, sizeof buf) == 10);
  CHECK(memcmp(buf, "last words", 10) == 0);
  CHECK(client.held());
  CHECK(client.read(buf, sizeof buf) == 0);
  CHECK(!client.held());
  CHECK(client.read(buf, sizeof buf) == 0);
  // A read that fills its buffer holds nothing: the rest of the stream is still to come.
  Pair q;
  CONNECTED(s, q, c2, s2);
  iovec more = {const_cast<char*>("0123456789"), 10};
  CHECK(s2.write(&more, 1) == 10);
  CHECK(c2.read(buf, 4) == 4);
  CHECK(!c2.held());
  CHECK(c2.read(buf, sizeof buf) == 6);
  CHECK(!c2.held());
  CHECK(c2.read(buf, sizeof buf) == -EAGAIN);
}

void test_held_error_keeps_its_reason(const Identity& id) {
  Sides s(id);
  Pair p;
  CONNECTED(s, p, client, server);
  iovec iov = {const_cast<char*>("hello"), 5};
  CHECK(server.write(&iov, 1) == 5);
  // Then a record no key made (a forged or corrupted one): the client's read fails after the plaintext.
  const uint8_t forged[] = {0x17, 0x03, 0x03, 0x00, 0x20, 1, 2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12,
                            13,   14,   15,   16,   17,   18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
  CHECK(::send(p.b.get(), forged, sizeof forged, 0) == static_cast<ssize_t>(sizeof forged));
  uint8_t buf[64];
  CHECK(client.read(buf, sizeof buf) == 5);
  CHECK(client.held());
  std::string reason = client.error().reason;
  CHECK(!reason.empty());
  // A call in between fails its own way (a bad name: an OpenSSL error of its own); the held error still
  // comes with its own reason.
  CHECK(client.set_servername(std::string(300, 'a')) == sys::kTlsFailed);
  CHECK(client.error().reason != reason);
  CHECK(client.read(buf, sizeof buf) == sys::kTlsFailed);
  CHECK(client.error().reason == reason);
  // The fatal error stays: later writes and reads fail with it too.
  CHECK(client.set_servername(std::string(300, 'a')) == sys::kTlsFailed);
  iovec w = {const_cast<char*>("x"), 1};
  CHECK(client.write(&w, 1) == sys::kTlsFailed);
  CHECK(client.error().reason == reason);
  CHECK(client.read(buf, sizeof buf) == sys::kTlsFailed);
  CHECK(client.error().reason == reason);
}

void test_write_after_close_notify_is_epipe(const Identity& id) {
  Sides s(id);
  Pair p;
  CONNECTED(s, p, client, server);
  CHECK(client.shutdown() == 0);
  iovec iov = {const_cast<char*>("late"), 4};
  CHECK(client.write(&iov, 1) == -EPIPE);
  CHECK(client.write(nullptr, 0) == 0);  // an empty write only flushes
  // The error codes stay apart: an OpenSSL failure is no errno.
  CHECK(sys::kTlsFailed < -4095);
}

void test_no_close_notify_behind_queued_ciphertext(const Identity& id) {
  Sides s(id);
  Pair p;
  CONNECTED(s, p, client, server);
  // More than the socketpair takes: ciphertext stays queued, and the stream is cut short.
  std::string big(1024 * 1024, 'x');
  iovec iov = {big.data(), big.size()};
  CHECK(client.write(&iov, 1) > 0);
  CHECK(client.queued() > 0);
  CHECK(client.shutdown() > 0);
  std::vector<uint8_t> buf(1 << 16);
  size_t got = 0;
  ssize_t r;
  while ((r = server.read(buf.data(), buf.size())) > 0) got += static_cast<size_t>(r);
  CHECK(r == -EAGAIN);  // no end of the stream: what arrived is all there is, unauthenticated
  CHECK(got > 0);
  // Once the queue drains, shutdown() sends the close_notify after all.
  while (client.flush() > 0 || server.read(buf.data(), buf.size()) > 0) {
  }
  CHECK(client.shutdown() == 0);
  while ((r = server.read(buf.data(), buf.size())) > 0) {
  }
  CHECK(r == 0);
}

void test_no_resumption(const Identity& id) {
  Sides s(id);
  Pair p;
  CONNECTED(s, p, client, server);
  CHECK(transfer(server, client, "ping") == "ping");
  // No NewSessionTicket came after the handshake, and no cache holds the session.
  CHECK(SSL_CTX_get_num_tickets(s.server_ctx.get()) == 0);
  CHECK((SSL_CTX_get_options(s.server_ctx.get()) & SSL_OP_NO_TICKET) != 0);
  CHECK(SSL_CTX_get_session_cache_mode(s.server_ctx.get()) == SSL_SESS_CACHE_OFF);
  CHECK(SSL_CTX_sess_number(s.server_ctx.get()) == 0);
  CHECK(!client.session_reused());
}

void test_shared_ca_store(const Identity& id) {
  sys::TlsContext roots(false);
  CHECK(roots.add_ca(id.cert) == 0);
  Sides s(id);
  s.client_ctx.share_ca(roots);
  CHECK(SSL_CTX_get_cert_store(s.client_ctx.get()) == SSL_CTX_get_cert_store(roots.get()));
  Pair p;
  CONNECTED(s, p, client, server);
  CHECK(client.verify_result() == X509_V_OK);
}

void test_bad_pem(const Identity& id) {
  sys::TlsContext ctx(true);
  CHECK(ctx.use_certificate_chain("not a certificate") == sys::kTlsFailed);
  CHECK(ctx.error().lib == ERR_LIB_PEM);
  CHECK(ctx.add_ca("") == sys::kTlsFailed);
  CHECK(ctx.use_certificate_chain(id.cert) == 0);
  Identity other = make_identity("other.test");
  CHECK(ctx.use_private_key(other.key, "") == sys::kTlsFailed);  // does not match the certificate
  CHECK(ctx.use_private_key(id.key, "") == 0);
}

}  // namespace

int main() {
  Identity id = make_identity("localhost");
  test_handshake_data_and_close_notify(id);
  test_verify_results(id);
  test_alpn(id);
  test_pushback(id);
  test_eof_mid_handshake(id);
  test_garbage_is_a_tls_error(id);
  test_bad_pem(id);
  test_data_and_close_notify_in_one_read(id);
  test_held_error_keeps_its_reason(id);
  test_write_after_close_notify_is_epipe(id);
  test_no_close_notify_behind_queued_ciphertext(id);
  test_no_resumption(id);
  test_shared_ca_store(id);
  return troupe::test::report();
}
