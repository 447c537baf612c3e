// Socket syscalls for the binding: addresses from text, SCM_RIGHTS in and out, names back to text.
#include "socket.h"

#include <arpa/inet.h>
#include <limits.h>
#include <net/if.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "unique_fd.h"

namespace troupe::sys {

namespace {

// NB: one control buffer size serves both directions: CMSG_SPACE rounds up, so a buffer sized for n fds
// may admit n + 1 (recv_fds counts what arrived, not what it asked for).
constexpr size_t kControlMax = CMSG_SPACE(sizeof(int) * kMaxSendFds);

// Copies text into a NUL-terminated buffer for inet_pton / if_nametoindex; false when it cannot fit or
// holds a NUL of its own.
bool to_cstr(std::string_view text, char* out, size_t cap) {
  if (text.size() >= cap || text.find('\0') != std::string_view::npos) return false;
  std::memcpy(out, text.data(), text.size());
  out[text.size()] = '\0';
  return true;
}

// "%scope" of an IPv6 literal: a number or an interface name. Returns the index, or 0 when unknown.
uint32_t scope_id(std::string_view scope) {
  char buf[IF_NAMESIZE + 1];
  if (scope.empty() || !to_cstr(scope, buf, sizeof buf)) return 0;
  char* end = nullptr;
  unsigned long n = std::strtoul(buf, &end, 10);
  if (*end == '\0' && buf[0] >= '0' && buf[0] <= '9') return n <= UINT32_MAX ? static_cast<uint32_t>(n) : 0;
  return if_nametoindex(buf);
}

int ip_addr(int family, std::string_view host, int port, sockaddr_storage* ss, socklen_t* len) {
  if (port < 0 || port > 65535) return -EINVAL;
  char buf[INET6_ADDRSTRLEN];
  if (family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(ss);
    if (!to_cstr(host, buf, sizeof buf) || inet_pton(AF_INET, buf, &sin->sin_addr) != 1) return -EINVAL;
    sin->sin_family = AF_INET;
    sin->sin_port = htons(static_cast<uint16_t>(port));
    *len = sizeof *sin;
    return 0;
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(ss);
  size_t pct = host.find('%');
  if (!to_cstr(host.substr(0, pct), buf, sizeof buf) || inet_pton(AF_INET6, buf, &sin6->sin6_addr) != 1)
    return -EINVAL;
  if (pct != std::string_view::npos) {
    sin6->sin6_scope_id = scope_id(host.substr(pct + 1));
    if (sin6->sin6_scope_id == 0) return -EINVAL;
  }
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(static_cast<uint16_t>(port));
  *len = sizeof *sin6;
  return 0;
}

int unix_addr(std::string_view path, sockaddr_storage* ss, socklen_t* len) {
  auto* sun = reinterpret_cast<sockaddr_un*>(ss);
  sun->sun_family = AF_UNIX;
  constexpr size_t base = offsetof(sockaddr_un, sun_path);
  if (path.empty()) {
    *len = sizeof(sa_family_t);  // bind: autobind; connect: EINVAL from the kernel
    return 0;
  }
  bool abstract = path[0] == '\0';
  if (abstract) {
    // NB: an abstract name is exactly `len` bytes, NULs included; no terminator is added or counted.
    if (path.size() > sizeof sun->sun_path) return -ENAMETOOLONG;
  } else {
    if (path.find('\0') != std::string_view::npos) return -EINVAL;
    if (path.size() >= sizeof sun->sun_path) return -ENAMETOOLONG;
  }
  std::memcpy(sun->sun_path, path.data(), path.size());
  *len = static_cast<socklen_t>(base + path.size() + (abstract ? 0 : 1));
  return 0;
}

int make_addr(int family, std::string_view host, int port, sockaddr_storage* ss, socklen_t* len) {
  std::memset(ss, 0, sizeof *ss);
  switch (family) {
    case AF_INET:
    case AF_INET6:
      return ip_addr(family, host, port, ss, len);
    case AF_UNIX:
      return unix_addr(host, ss, len);
    default:
      return -EAFNOSUPPORT;
  }
}

int result(int rc) { return rc < 0 ? -errno : rc; }
ssize_t result(ssize_t rc) { return rc < 0 ? -errno : rc; }

}  // namespace

int socket(int family, int type) { return result(::socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)); }

int socketpair(int type, int out[2]) {
  return result(::socketpair(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, out));
}

int bind(int fd, int family, std::string_view host, int port) {
  sockaddr_storage ss;
  socklen_t len = 0;
  if (int rc = make_addr(family, host, port, &ss, &len)) return rc;
  return result(::bind(fd, reinterpret_cast<sockaddr*>(&ss), len));
}

int connect(int fd, int family, std::string_view host, int port) {
  sockaddr_storage ss;
  socklen_t len = 0;
  if (int rc = make_addr(family, host, port, &ss, &len)) return rc;
  return result(::connect(fd, reinterpret_cast<sockaddr*>(&ss), len));
}

int listen(int fd, int backlog) { return result(::listen(fd, backlog)); }

int accept(int fd) { return result(::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK)); }

int sock_error(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return -errno;
  return -err;
}

ssize_t read(int fd, void* buf, size_t len) { return result(::read(fd, buf, len)); }

ssize_t write(int fd, const void* buf, size_t len) {
  ssize_t n = ::send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n < 0 && errno == ENOTSOCK) n = ::write(fd, buf, len);
  return result(n);
}

ssize_t writev(int fd, const iovec* iov, int count) {
  if (count < 0) return -EINVAL;
  if (count > IOV_MAX) count = IOV_MAX;
  msghdr msg{};
  msg.msg_iov = const_cast<iovec*>(iov);  // sendmsg does not write through it
  msg.msg_iovlen = static_cast<size_t>(count);
  ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n < 0 && errno == ENOTSOCK) n = ::writev(fd, iov, count);
  return result(n);
}

ssize_t recv(int fd, void* buf, size_t len, int flags) { return result(::recv(fd, buf, len, flags | MSG_DONTWAIT)); }

int shutdown(int fd, int how) { return result(::shutdown(fd, how)); }

int close(int fd) {
  // SAFETY: never retried. After EINTR (or EINPROGRESS) Linux has released the number, which another
  // thread may already have reused; closing it again would close someone else's fd (as in libuv).
  if (::close(fd) == 0 || errno == EINTR || errno == EINPROGRESS) return 0;
  return -errno;
}

ssize_t send_fds(int fd, const void* buf, size_t len, const int* fds, int nfds) {
  if (nfds < 0 || nfds > kMaxSendFds) return -EINVAL;
  alignas(cmsghdr) unsigned char control[kControlMax];
  iovec iov{const_cast<void*>(buf), len};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (nfds > 0) {
    size_t bytes = sizeof(int) * static_cast<size_t>(nfds);
    std::memset(control, 0, CMSG_SPACE(bytes));
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(bytes);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(bytes);
    std::memcpy(CMSG_DATA(c), fds, bytes);
  }
  return result(::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT));
}

ssize_t recv_fds(int fd, void* buf, size_t len, int* fds_out, int max_fds, int* nfds) {
  *nfds = 0;
  if (max_fds < 0) max_fds = 0;
  if (max_fds > kMaxSendFds) max_fds = kMaxSendFds;
  alignas(cmsghdr) unsigned char control[kControlMax];
  iovec iov{buf, len};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (max_fds > 0) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * static_cast<size_t>(max_fds));
  }
  ssize_t n = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  if (n < 0) return -errno;

  // Phase 1: own every fd that arrived, in every SCM_RIGHTS message, before deciding anything, so that
  // each early return below closes them all (uv__stream_recv_cmsg does the same walk).
  constexpr size_t kCap = kControlMax / sizeof(int);
  UniqueFd got[kCap];
  size_t count = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const unsigned char* data = CMSG_DATA(c);
    for (size_t i = 0; i < k; i++) {
      int received;
      std::memcpy(&received, data + i * sizeof(int), sizeof received);  // CMSG_DATA may be unaligned
      if (count < kCap) got[count++].reset(received);
      else ::close(received);  // cannot happen: the buffer holds fewer than kCap fds
    }
  }

  // Phase 2: all or nothing. A truncated control message or datagram, or more fds than the caller has
  // room for, means something was lost: fail and let `got` close what did arrive.
  if ((msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) != 0 || count > static_cast<size_t>(max_fds)) return -ENOBUFS;

  // SAFETY: ownership of the received fds passes to the caller here.
  for (size_t i = 0; i < count; i++) fds_out[i] = got[i].release();
  *nfds = static_cast<int>(count);
  return n;
}

int sock_name(int fd, bool peer, SockName* out) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  auto* sa = reinterpret_cast<sockaddr*>(&ss);
  if ((peer ? ::getpeername(fd, sa, &len) : ::getsockname(fd, sa, &len)) != 0) return -errno;
  out->family = ss.ss_family;
  out->address.clear();
  out->port = 0;
  out->path.clear();
  char text[INET6_ADDRSTRLEN];
  switch (ss.ss_family) {
    case AF_INET: {
      auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
      if (inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text) == nullptr) return -errno;
      out->address = text;
      out->port = ntohs(sin->sin_port);
      return 0;
    }
    case AF_INET6: {
      auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
      if (inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text) == nullptr) return -errno;
      out->address = text;
      if (sin6->sin6_scope_id != 0) out->address += "%" + std::to_string(sin6->sin6_scope_id);
      out->port = ntohs(sin6->sin6_port);
      return 0;
    }
    case AF_UNIX: {
      // NB: the name's length is len minus the family; an unnamed socket has none. A filesystem path may
      // or may not include its NUL in len, an abstract name is exactly its bytes.
      auto* sun = reinterpret_cast<sockaddr_un*>(&ss);
      size_t base = offsetof(sockaddr_un, sun_path);
      size_t n = len > base ? len - base : 0;
      if (n > 0 && sun->sun_path[0] != '\0') n = strnlen(sun->sun_path, n);
      out->path.assign(sun->sun_path, n);
      return 0;
    }
    default:
      return -EAFNOSUPPORT;
  }
}

int peer_cred(int fd, PeerCred* out) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return -errno;
  out->pid = cred.pid;
  out->uid = static_cast<int>(cred.uid);
  out->gid = static_cast<int>(cred.gid);
  return 0;
}

int setsockopt_int(int fd, int level, int name, int value) {
  return result(::setsockopt(fd, level, name, &value, sizeof value));
}

int getsockopt_int(int fd, int level, int name, int* value) {
  *value = 0;
  socklen_t len = sizeof *value;
  return result(::getsockopt(fd, level, name, value, &len));
}

}  // namespace troupe::sys
