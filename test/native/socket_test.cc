// sys/socket.h tested directly, without Node, over loopback TCP, unix sockets and socketpairs: run-asan.sh.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>

#include "../../native/sys/fd.h"
#include "../../native/sys/socket.h"
#include "../../native/sys/unique_fd.h"
#include "check.h"

using troupe::test::Pipe;

namespace sys = troupe::sys;
using troupe::sys::fd_flags;
using troupe::sys::kFlagCloexec;
using troupe::sys::kFlagNonblock;
using troupe::sys::UniqueFd;


namespace {

// ---- helpers -------------------------------------------------------------------------------------------

constexpr int kBoth = kFlagCloexec | kFlagNonblock;

size_t fd_count() {
  size_t n = 0;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] != '.') n++;
  }
  closedir(dir);
  return n - 1;  // the listing's own fd
}

std::string fd_target(int fd) {
  char buf[256];
  ssize_t n = readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), buf, sizeof buf - 1);
  return n < 0 ? std::string() : std::string(buf, static_cast<size_t>(n));
}

bool wait_for(int fd, short events, int timeout_ms = 5000) {
  pollfd p{fd, events, 0};
  return poll(&p, 1, timeout_ms) == 1 && (p.revents & (events | POLLERR | POLLHUP)) != 0;
}

// Writes all of s through sys::write and reads it back whole on the other side.
bool round_trip(int from, int to, const std::string& s) {
  if (sys::write(from, s.data(), s.size()) != static_cast<ssize_t>(s.size())) return false;
  std::string got;
  char buf[256];
  while (got.size() < s.size() && wait_for(to, POLLIN)) {
    ssize_t n = sys::read(to, buf, sizeof buf);
    if (n <= 0) return false;
    got.append(buf, static_cast<size_t>(n));
  }
  return got == s;
}

struct Conn {
  UniqueFd listener, client, server;
  int port = 0;
};

// A listener on host:0, a client connected to it and the accepted end; empty fds when family is missing.
Conn tcp_conn(int family, const char* host) {
  Conn c;
  c.listener.reset(sys::socket(family, SOCK_STREAM));
  if (!c.listener.valid()) return c;
  if (sys::bind(c.listener.get(), family, host, 0) != 0) {
    c.listener.reset();
    return c;
  }
  CHECK(sys::listen(c.listener.get(), 8) == 0);
  sys::SockName name;
  CHECK(sys::sock_name(c.listener.get(), false, &name) == 0);
  c.port = name.port;
  c.client.reset(sys::socket(family, SOCK_STREAM));
  int rc = sys::connect(c.client.get(), family, host, c.port);
  CHECK(rc == 0 || rc == -EINPROGRESS);
  CHECK(wait_for(c.client.get(), POLLOUT));
  CHECK(sys::sock_error(c.client.get()) == 0);
  CHECK(wait_for(c.listener.get(), POLLIN));
  c.server.reset(sys::accept(c.listener.get()));
  CHECK(c.server.valid());
  return c;
}

struct Pair {
  UniqueFd a, b;
  explicit Pair(int type) {
    int fds[2] = {-1, -1};
    CHECK(sys::socketpair(type, fds) == 0);
    a.reset(fds[0]);
    b.reset(fds[1]);
  }
};


// ---- tests ---------------------------------------------------------------------------------------------

void test_created_fds_are_cloexec_nonblock() {
  for (int family : {AF_INET, AF_INET6, AF_UNIX}) {
    UniqueFd s(sys::socket(family, SOCK_STREAM));
    if (family == AF_INET6 && s.get() == -EAFNOSUPPORT) continue;
    CHECK(s.valid());
    CHECK(fd_flags(s.get()) == kBoth);
  }
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    Pair p(type);
    CHECK(fd_flags(p.a.get()) == kBoth);
    CHECK(fd_flags(p.b.get()) == kBoth);
  }
  CHECK(sys::socket(12345, SOCK_STREAM) == -EAFNOSUPPORT);
  int out[2];
  CHECK(sys::socketpair(12345, out) == -EINVAL);
}

void test_tcp_loopback_round_trip_and_half_close() {
  Conn c = tcp_conn(AF_INET, "127.0.0.1");
  CHECK(c.port > 0);
  CHECK(fd_flags(c.server.get()) == kBoth);

  // Names: each end sees the other.
  sys::SockName local, peer, accepted_peer;
  CHECK(sys::sock_name(c.client.get(), false, &local) == 0);
  CHECK(sys::sock_name(c.client.get(), true, &peer) == 0);
  CHECK(sys::sock_name(c.server.get(), true, &accepted_peer) == 0);
  CHECK(peer.family == AF_INET && peer.address == "127.0.0.1" && peer.port == c.port);
  CHECK(accepted_peer.address == "127.0.0.1" && accepted_peer.port == local.port);

  // Nothing to read yet: EAGAIN, not a block.
  char buf[64];
  CHECK(sys::read(c.server.get(), buf, sizeof buf) == -EAGAIN);
  CHECK(sys::recv(c.server.get(), buf, sizeof buf, 0) == -EAGAIN);
  CHECK(sys::accept(c.listener.get()) == -EAGAIN);

  CHECK(round_trip(c.client.get(), c.server.get(), "hello server"));
  CHECK(round_trip(c.server.get(), c.client.get(), "hello client"));

  // writev: several buffers arrive as one stream.
  iovec iov[3] = {{const_cast<char*>("ab"), 2}, {const_cast<char*>(""), 0}, {const_cast<char*>("cdef"), 4}};
  CHECK(sys::writev(c.client.get(), iov, 3) == 6);
  std::string got;
  while (got.size() < 6 && wait_for(c.server.get(), POLLIN)) {
    ssize_t n = sys::read(c.server.get(), buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  CHECK(got == "abcdef");
  CHECK(sys::writev(c.client.get(), iov, -1) == -EINVAL);

  // Half-close client -> server: the server reads EOF and can still write back.
  CHECK(sys::shutdown(c.client.get(), SHUT_WR) == 0);
  CHECK(wait_for(c.server.get(), POLLIN));
  CHECK(sys::read(c.server.get(), buf, sizeof buf) == 0);
  CHECK(round_trip(c.server.get(), c.client.get(), "still open"));
  // And the other way.
  CHECK(sys::shutdown(c.server.get(), SHUT_WR) == 0);
  CHECK(wait_for(c.client.get(), POLLIN));
  CHECK(sys::read(c.client.get(), buf, sizeof buf) == 0);
  CHECK(sys::shutdown(c.server.get(), 42) == -EINVAL);
}

void test_connection_refused_through_sock_error() {
  // A port that was just free: bound, not listening, then closed.
  UniqueFd probe(sys::socket(AF_INET, SOCK_STREAM));
  CHECK(sys::bind(probe.get(), AF_INET, "127.0.0.1", 0) == 0);
  sys::SockName name;
  CHECK(sys::sock_name(probe.get(), false, &name) == 0);
  probe.reset();
  UniqueFd s(sys::socket(AF_INET, SOCK_STREAM));
  int rc = sys::connect(s.get(), AF_INET, "127.0.0.1", name.port);
  if (rc == -EINPROGRESS) {
    CHECK(wait_for(s.get(), POLLOUT));
    CHECK(sys::sock_error(s.get()) == -ECONNREFUSED);
    CHECK(sys::sock_error(s.get()) == 0);  // reading SO_ERROR clears it
  } else {
    CHECK(rc == -ECONNREFUSED);
  }
  CHECK(sys::sock_error(0x7fff) == -EBADF);
}

void test_epipe_not_sigpipe() {
  // NB: SIGPIPE keeps its default action (terminate) here: surviving these writes is the test.
  Pair p(SOCK_STREAM);
  p.b.reset();
  CHECK(sys::write(p.a.get(), "x", 1) == -EPIPE);
  iovec iov{const_cast<char*>("y"), 1};
  CHECK(sys::writev(p.a.get(), &iov, 1) == -EPIPE);
  CHECK(sys::send_fds(p.a.get(), "z", 1, nullptr, 0) == -EPIPE);

  // TCP: the first writes may land before the peer's RST; then EPIPE (possibly ECONNRESET once before).
  Conn c = tcp_conn(AF_INET, "127.0.0.1");
  c.server.reset();
  ssize_t rc = 0;
  for (int i = 0; i < 100 && rc >= 0; i++) {
    wait_for(c.client.get(), POLLOUT);
    rc = sys::write(c.client.get(), "data", 4);
    if (rc == -ECONNRESET) rc = 0;
  }
  CHECK(rc == -EPIPE);
}

void test_write_falls_back_on_non_sockets() {
  Pipe p;
  CHECK(sys::write(p.w.get(), "pipe", 4) == 4);
  iovec iov[2] = {{const_cast<char*>("ve"), 2}, {const_cast<char*>("ctor"), 4}};
  CHECK(sys::writev(p.w.get(), iov, 2) == 6);
  char buf[16] = {};
  CHECK(sys::read(p.r.get(), buf, sizeof buf) == 10);
  CHECK(std::string(buf, 10) == "pipevector");
  CHECK(sys::recv(p.r.get(), buf, sizeof buf, 0) == -ENOTSOCK);
}

void test_ipv6_loopback() {
  Conn c = tcp_conn(AF_INET6, "::1");
  if (!c.listener.valid()) {
    std::printf("note: ::1 is not configured; IPv6 loopback skipped\n");
    return;
  }
  sys::SockName peer;
  CHECK(sys::sock_name(c.client.get(), true, &peer) == 0);
  CHECK(peer.family == AF_INET6 && peer.address == "::1" && peer.port == c.port);
  CHECK(round_trip(c.client.get(), c.server.get(), "over six"));
}

void test_address_errors() {
  UniqueFd s4(sys::socket(AF_INET, SOCK_STREAM));
  CHECK(sys::bind(s4.get(), AF_INET, "::1", 0) == -EINVAL);
  CHECK(sys::bind(s4.get(), AF_INET, "localhost", 0) == -EINVAL);
  CHECK(sys::bind(s4.get(), AF_INET, std::string_view("127.0.0.1\0x", 11), 0) == -EINVAL);
  CHECK(sys::bind(s4.get(), AF_INET, "127.0.0.1", 65536) == -EINVAL);
  CHECK(sys::bind(s4.get(), AF_INET, "127.0.0.1", -1) == -EINVAL);
  CHECK(sys::connect(s4.get(), 12345, "127.0.0.1", 1) == -EAFNOSUPPORT);
  CHECK(sys::bind(-1, AF_INET, "127.0.0.1", 0) == -EBADF);
  UniqueFd s6(sys::socket(AF_INET6, SOCK_STREAM));
  if (s6.valid()) {
    CHECK(sys::bind(s6.get(), AF_INET6, "::1%no-such-if0", 0) == -EINVAL);
    CHECK(sys::bind(s6.get(), AF_INET6, "::1%", 0) == -EINVAL);
    CHECK(sys::bind(s6.get(), AF_INET6, "127.0.0.1", 0) == -EINVAL);
  }
}

void test_unix_path() {
  char dir[] = "/tmp/troupe-sock-XXXXXX";
  CHECK(mkdtemp(dir) != nullptr);
  std::string path = std::string(dir) + "/s";
  UniqueFd listener(sys::socket(AF_UNIX, SOCK_STREAM));
  CHECK(sys::bind(listener.get(), AF_UNIX, path, 0) == 0);
  CHECK(sys::listen(listener.get(), 4) == 0);
  UniqueFd client(sys::socket(AF_UNIX, SOCK_STREAM));
  CHECK(sys::connect(client.get(), AF_UNIX, path, 0) == 0);
  UniqueFd server(sys::accept(listener.get()));
  CHECK(server.valid() && fd_flags(server.get()) == kBoth);

  sys::SockName n;
  CHECK(sys::sock_name(listener.get(), false, &n) == 0 && n.family == AF_UNIX && n.path == path);
  CHECK(sys::sock_name(server.get(), false, &n) == 0 && n.path == path);  // accepted: the server's path
  CHECK(sys::sock_name(client.get(), false, &n) == 0 && n.family == AF_UNIX && n.path.empty());  // unnamed
  CHECK(sys::sock_name(client.get(), true, &n) == 0 && n.path == path);
  CHECK(sys::sock_name(server.get(), true, &n) == 0 && n.path.empty());

  sys::PeerCred cred{};
  CHECK(sys::peer_cred(server.get(), &cred) == 0);
  CHECK(cred.pid == getpid() && cred.uid == static_cast<int>(getuid()) && cred.gid == static_cast<int>(getgid()));
  CHECK(sys::peer_cred(client.get(), &cred) == 0 && cred.pid == getpid());
  CHECK(round_trip(client.get(), server.get(), "unix"));

  UniqueFd other(sys::socket(AF_UNIX, SOCK_STREAM));
  CHECK(sys::bind(other.get(), AF_UNIX, std::string(200, 'x'), 0) == -ENAMETOOLONG);
  CHECK(sys::bind(other.get(), AF_UNIX, std::string(108, 'x'), 0) == -ENAMETOOLONG);  // no room for the NUL
  CHECK(sys::bind(other.get(), AF_UNIX, std::string_view("/tmp/a\0b", 8), 0) == -EINVAL);
  CHECK(sys::connect(other.get(), AF_UNIX, path + ".missing", 0) == -ENOENT);
  unlink(path.c_str());
  rmdir(dir);
}

void test_unix_abstract() {
  std::string name = std::string(1, '\0') + "troupe-test-" + std::to_string(getpid());
  UniqueFd listener(sys::socket(AF_UNIX, SOCK_STREAM));
  CHECK(sys::bind(listener.get(), AF_UNIX, name, 0) == 0);
  CHECK(sys::listen(listener.get(), 4) == 0);
  sys::SockName n;
  CHECK(sys::sock_name(listener.get(), false, &n) == 0 && n.path == name);  // exact bytes, leading NUL

  UniqueFd client(sys::socket(AF_UNIX, SOCK_STREAM));
  CHECK(sys::connect(client.get(), AF_UNIX, name, 0) == 0);
  UniqueFd server(sys::accept(listener.get()));
  CHECK(server.valid());
  CHECK(sys::sock_name(server.get(), false, &n) == 0 && n.path == name);
  CHECK(sys::sock_name(client.get(), true, &n) == 0 && n.path == name);
  CHECK(round_trip(server.get(), client.get(), "abstract"));

  // The length is exact: a name with a NUL inside and one byte more or less is another name.
  UniqueFd probe(sys::socket(AF_UNIX, SOCK_STREAM));
  CHECK(sys::connect(probe.get(), AF_UNIX, name + std::string(1, '\0'), 0) == -ECONNREFUSED);
  CHECK(sys::connect(probe.get(), AF_UNIX, name.substr(0, name.size() - 1), 0) == -ECONNREFUSED);

  // 108 bytes fit (sun_path has no terminator in the abstract namespace); 109 do not.
  std::string longest = std::string(1, '\0') + std::string(107, 'a');
  UniqueFd l2(sys::socket(AF_UNIX, SOCK_STREAM));
  CHECK(sys::bind(l2.get(), AF_UNIX, longest, 0) == 0);
  CHECK(sys::sock_name(l2.get(), false, &n) == 0 && n.path == longest);
  CHECK(sys::bind(probe.get(), AF_UNIX, longest + "a", 0) == -ENAMETOOLONG);

  // An empty path autobinds to a kernel-chosen abstract name.
  UniqueFd auto_(sys::socket(AF_UNIX, SOCK_DGRAM));
  CHECK(sys::bind(auto_.get(), AF_UNIX, "", 0) == 0);
  CHECK(sys::sock_name(auto_.get(), false, &n) == 0 && n.path.size() > 1 && n.path[0] == '\0');
}

void test_socketpair_types() {
  char buf[64];
  // Stream: no boundaries.
  Pair s(SOCK_STREAM);
  CHECK(sys::write(s.a.get(), "ab", 2) == 2);
  CHECK(sys::write(s.a.get(), "cd", 2) == 2);
  CHECK(sys::read(s.b.get(), buf, sizeof buf) == 4);
  sys::SockName n;
  CHECK(sys::sock_name(s.a.get(), false, &n) == 0 && n.family == AF_UNIX && n.path.empty());
  CHECK(sys::sock_name(s.a.get(), true, &n) == 0 && n.path.empty());

  for (int type : {SOCK_DGRAM, SOCK_SEQPACKET}) {
    Pair p(type);
    CHECK(sys::write(p.a.get(), "one", 3) == 3);
    CHECK(sys::write(p.a.get(), "three", 5) == 5);
    CHECK(sys::write(p.a.get(), "0123456789", 10) == 10);
    CHECK(sys::read(p.b.get(), buf, sizeof buf) == 3);
    CHECK(sys::recv(p.b.get(), buf, 2, MSG_PEEK) == 2);
    CHECK(sys::recv(p.b.get(), buf, sizeof buf, 0) == 5 && std::memcmp(buf, "three", 5) == 0);
    // MSG_TRUNC: the real length, 4 bytes copied, the rest of the datagram gone.
    std::memset(buf, 0, sizeof buf);
    CHECK(sys::recv(p.b.get(), buf, 4, MSG_TRUNC) == 10);
    CHECK(std::memcmp(buf, "0123", 4) == 0 && buf[4] == 0);
    CHECK(sys::recv(p.b.get(), buf, sizeof buf, 0) == -EAGAIN);
    int type_opt = 0;
    CHECK(sys::getsockopt_int(p.a.get(), SOL_SOCKET, SO_TYPE, &type_opt) == 0 && type_opt == type);
  }
}

void test_send_and_recv_fds() {
  Pair p(SOCK_STREAM);
  Pipe one;
  // One fd and bytes.
  int fd = one.w.get();
  CHECK(sys::send_fds(p.a.get(), "hi", 2, &fd, 1) == 2);
  char buf[16];
  int got[4] = {-1, -1, -1, -1};
  int n = -1;
  CHECK(sys::recv_fds(p.b.get(), buf, sizeof buf, got, 4, &n) == 2);
  CHECK(n == 1 && std::memcmp(buf, "hi", 2) == 0);
  UniqueFd w(got[0]);
  CHECK(w.get() != one.w.get() && fd_target(w.get()) == fd_target(one.w.get()));
  CHECK(fd_flags(w.get()) == kBoth);
  CHECK(sys::write(w.get(), "via copy", 8) == 8);
  CHECK(sys::read(one.r.get(), buf, sizeof buf) == 8 && std::memcmp(buf, "via copy", 8) == 0);

  // Three fds: a pipe's two ends and a socket.
  Pipe two;
  int three[3] = {two.r.get(), two.w.get(), p.a.get()};
  CHECK(sys::send_fds(p.a.get(), "xyz", 3, three, 3) == 3);
  CHECK(sys::recv_fds(p.b.get(), buf, sizeof buf, got, 4, &n) == 3);
  CHECK(n == 3);
  UniqueFd r2(got[0]), w2(got[1]), s2(got[2]);
  for (int i = 0; i < 3; i++) {
    CHECK(fd_target(got[i]) == fd_target(three[i]) && got[i] != three[i]);
    CHECK(fd_flags(got[i]) == kBoth);
  }
  CHECK(sys::write(w2.get(), "loop", 4) == 4);
  CHECK(sys::read(r2.get(), buf, sizeof buf) == 4);
  CHECK(round_trip(s2.get(), p.b.get(), "dup of a"));

  // No fds at all: bytes only.
  CHECK(sys::send_fds(p.a.get(), "plain", 5, nullptr, 0) == 5);
  CHECK(sys::recv_fds(p.b.get(), buf, sizeof buf, got, 4, &n) == 5 && n == 0);
  CHECK(sys::recv_fds(p.b.get(), buf, sizeof buf, got, 4, &n) == -EAGAIN && n == 0);

  int many[sys::kMaxSendFds + 1];
  for (int& f : many) f = one.r.get();
  CHECK(sys::send_fds(p.a.get(), "m", 1, many, sys::kMaxSendFds + 1) == -EINVAL);
  CHECK(sys::send_fds(p.a.get(), "m", 1, many, -1) == -EINVAL);
  CHECK(sys::send_fds(p.a.get(), "m", 1, many, sys::kMaxSendFds) == 1);
  size_t before = fd_count();
  int all[sys::kMaxSendFds];
  CHECK(sys::recv_fds(p.b.get(), buf, sizeof buf, all, sys::kMaxSendFds, &n) == 1 && n == sys::kMaxSendFds);
  CHECK(fd_count() == before + sys::kMaxSendFds);
  for (int i = 0; i < n; i++) CHECK(sys::close(all[i]) == 0);
  CHECK(fd_count() == before);
}

void test_truncated_fds_close_what_arrived() {
  Pair p(SOCK_STREAM);
  Pipe pp;
  int three[3] = {pp.r.get(), pp.w.get(), pp.r.get()};
  char buf[16];
  int got[3] = {-1, -1, -1};
  int n = -1;
  size_t before = fd_count();

  // Three sent, room for one: MSG_CTRUNC (the kernel installs what fits, two here): all closed.
  CHECK(sys::send_fds(p.a.get(), "abc", 3, three, 3) == 3);
  CHECK(sys::recv_fds(p.b.get(), buf, sizeof buf, got, 1, &n) == -ENOBUFS);
  CHECK(n == 0 && got[0] == -1);
  CHECK(fd_count() == before);

  // Two sent, room for one: no MSG_CTRUNC (alignment slack admits the second), still all or nothing.
  CHECK(sys::send_fds(p.a.get(), "d", 1, three, 2) == 1);
  CHECK(sys::recv_fds(p.b.get(), buf, sizeof buf, got, 1, &n) == -ENOBUFS && n == 0);
  CHECK(fd_count() == before);

  // No room at all.
  CHECK(sys::send_fds(p.a.get(), "e", 1, three, 1) == 1);
  CHECK(sys::recv_fds(p.b.get(), buf, sizeof buf, got, 0, &n) == -ENOBUFS && n == 0);
  CHECK(fd_count() == before);

  // A datagram that does not fit the buffer (MSG_TRUNC) loses bytes: the fd that came with it is closed.
  Pair d(SOCK_DGRAM);
  CHECK(sys::send_fds(d.a.get(), "0123456789", 10, three, 1) == 10);
  CHECK(sys::recv_fds(d.b.get(), buf, 4, got, 3, &n) == -ENOBUFS && n == 0);
  CHECK(fd_count() == before + 2);  // the pair itself

  // The stream goes on after a failure.
  CHECK(round_trip(p.a.get(), p.b.get(), "after"));
}

void test_close_and_sockopts() {
  int fd = sys::socket(AF_INET, SOCK_STREAM);
  CHECK(fd >= 0);
  int v = -1;
  CHECK(sys::setsockopt_int(fd, IPPROTO_TCP, TCP_NODELAY, 1) == 0);
  CHECK(sys::getsockopt_int(fd, IPPROTO_TCP, TCP_NODELAY, &v) == 0 && v != 0);
  CHECK(sys::getsockopt_int(fd, SOL_SOCKET, SO_DOMAIN, &v) == 0 && v == AF_INET);
  CHECK(sys::setsockopt_int(fd, SOL_SOCKET, 99999, 1) == -ENOPROTOOPT);
  CHECK(sys::close(fd) == 0);
  CHECK(sys::close(fd) == -EBADF);
  Pipe p;
  CHECK(sys::getsockopt_int(p.r.get(), SOL_SOCKET, SO_TYPE, &v) == -ENOTSOCK);
  CHECK(sys::listen(p.r.get(), 1) == -ENOTSOCK);
}

void test_set_blocking() {
  int fds[2];
  CHECK(pipe(fds) == 0);  // born blocking, inheritable: as an fd handed in from outside
  UniqueFd r(fds[0]), w(fds[1]);
  CHECK(fd_flags(r.get()) == 0);
  CHECK(sys::set_blocking(r.get(), false) == 0);
  CHECK(fd_flags(r.get()) == kBoth);
  CHECK(sys::set_blocking(r.get(), true) == 0);
  CHECK(fd_flags(r.get()) == kFlagCloexec);
  CHECK(sys::set_blocking(-1, false) == -EBADF);
}

void test_constants() {
  std::set<std::string> names;
  for (const sys::Constant& c : sys::kSocketConstants) {
    names.insert(c.name);
    CHECK(c.value >= 0);
  }
  CHECK(names.size() == sizeof sys::kSocketConstants / sizeof sys::kSocketConstants[0]);
  CHECK(names.size() == 27);
}

}  // namespace

int main() {
  size_t baseline = fd_count();
  test_created_fds_are_cloexec_nonblock();
  test_tcp_loopback_round_trip_and_half_close();
  test_connection_refused_through_sock_error();
  test_epipe_not_sigpipe();
  test_write_falls_back_on_non_sockets();
  test_ipv6_loopback();
  test_address_errors();
  test_unix_path();
  test_unix_abstract();
  test_socketpair_types();
  test_send_and_recv_fds();
  test_truncated_fds_close_what_arrived();
  test_close_and_sockopts();
  test_set_blocking();
  test_constants();
  CHECK(fd_count() == baseline);
  return troupe::test::report();
}
