// Socket syscalls as free functions: each returns a result >= 0 or -errno; none blocks, none retries.
#pragma once

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace troupe::sys {

// NB: every fd created here is born CLOEXEC|NONBLOCK (SOCK_CLOEXEC, SOCK_NONBLOCK, MSG_CMSG_CLOEXEC).
// Socket I/O also passes MSG_DONTWAIT, so a blocking fd received from elsewhere cannot block the thread
// through these calls (read(2) and the write(2) fallbacks can: their fds are the caller's to make
// non-blocking). EAGAIN comes back as -EAGAIN; the caller waits for readiness.

// The most fds one sendmsg may carry (the kernel's SCM_MAX_FD).
constexpr int kMaxSendFds = 253;

// socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0): the new fd or -errno.
int socket(int family, int type);
// socketpair(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK): writes both fds into out[0], out[1].
int socketpair(int type, int out[2]);

// Addresses: AF_INET/AF_INET6 take a numeric literal (IPv6 may carry "%scope", a number or an interface
// name) and a port in 0..65535; anything else is -EINVAL. AF_UNIX takes a path in `host` (port ignored):
// a leading '\0' names the abstract namespace and its exact length counts; a filesystem path must fit
// sun_path with its terminating NUL (else -ENAMETOOLONG) and hold no NUL (else -EINVAL). An empty AF_UNIX
// path binds to a kernel-chosen abstract name (autobind).
int bind(int fd, int family, std::string_view host, int port);
// 0 when connected at once, -EINPROGRESS while connecting (-EAGAIN for a full AF_UNIX backlog), or -errno.
int connect(int fd, int family, std::string_view host, int port);
int listen(int fd, int backlog);
// accept4(SOCK_CLOEXEC | SOCK_NONBLOCK), the peer's address discarded (see sock_name).
int accept(int fd);
// The pending error of fd (getsockopt SO_ERROR), cleared by reading it: 0 or -err.
int sock_error(int fd);

// read(2).
ssize_t read(int fd, void* buf, size_t len);
// send(MSG_NOSIGNAL): EPIPE instead of SIGPIPE. On a non-socket fd (ENOTSOCK), write(2).
ssize_t write(int fd, const void* buf, size_t len);
// sendmsg(MSG_NOSIGNAL) of iov[0 .. min(count, IOV_MAX)); on a non-socket fd, writev(2).
ssize_t writev(int fd, const iovec* iov, int count);
// recv(2) with `flags` (MSG_PEEK, MSG_TRUNC: a datagram's real length even when it did not fit).
ssize_t recv(int fd, void* buf, size_t len, int flags);
int shutdown(int fd, int how);
// close(2), never retried: on Linux the fd is gone even after EINTR, which therefore counts as success.
int close(int fd);

// sendmsg(MSG_NOSIGNAL) of buf with fds[0 .. nfds) as SCM_RIGHTS (none when nfds == 0); at most
// kMaxSendFds (else -EINVAL). Returns the bytes sent; the caller still owns the fds it sent.
// NB: on a stream socket the fds travel with the first byte; with len == 0 the kernel sends nothing and
// silently drops the fds (they stay the caller's), so send at least one byte with them.
ssize_t send_fds(int fd, const void* buf, size_t len, const int* fds, int nfds);
// recvmsg(MSG_CMSG_CLOEXEC) into buf with room for max_fds fds (capped at kMaxSendFds), written to
// fds_out[0 .. *nfds). Returns the bytes received. When not every fd that arrived fits in max_fds (control
// data truncated, MSG_CTRUNC, or more fds than max_fds) or a datagram did not fit in buf (MSG_TRUNC),
// every fd that arrived is closed, *nfds is 0 and the result is -ENOBUFS.
// SAFETY: on success the caller owns fds_out[0 .. *nfds).
ssize_t recv_fds(int fd, void* buf, size_t len, int* fds_out, int max_fds, int* nfds);

// An address as getsockname/getpeername report it.
struct SockName {
  int family = AF_UNSPEC;
  std::string address;  // AF_INET/AF_INET6: inet_ntop text, IPv6 with "%scope_id" when it has one
  int port = 0;
  std::string path;  // AF_UNIX: may start with '\0' (abstract); empty for an unnamed socket
};
// getsockname (peer == false) or getpeername into out: 0 or -errno (-EAFNOSUPPORT for other families).
int sock_name(int fd, bool peer, SockName* out);

struct PeerCred {
  int pid;
  int uid;
  int gid;
};
// SO_PEERCRED of a connected AF_UNIX socket: 0 or -errno.
int peer_cred(int fd, PeerCred* out);

int setsockopt_int(int fd, int level, int name, int value);
// Writes the option's value to *value: 0 or -errno.
int getsockopt_int(int fd, int level, int name, int* value);

struct Constant {
  const char* name;
  int value;
};
// The constants the binding exports, under their C names (Linux values, none negative; SHUT_RD is 0).
inline constexpr Constant kSocketConstants[] = {
    {"AF_INET", AF_INET},         {"AF_INET6", AF_INET6},         {"AF_UNIX", AF_UNIX},
    {"SOCK_STREAM", SOCK_STREAM}, {"SOCK_DGRAM", SOCK_DGRAM},     {"SOCK_SEQPACKET", SOCK_SEQPACKET},
    {"SOL_SOCKET", SOL_SOCKET},   {"SO_REUSEADDR", SO_REUSEADDR}, {"SO_REUSEPORT", SO_REUSEPORT},
    {"SO_TYPE", SO_TYPE},         {"SO_DOMAIN", SO_DOMAIN},       {"SO_ERROR", SO_ERROR},
    {"SO_RCVBUF", SO_RCVBUF},     {"SO_SNDBUF", SO_SNDBUF},       {"SO_BROADCAST", SO_BROADCAST},
    {"IPPROTO_TCP", IPPROTO_TCP}, {"TCP_NODELAY", TCP_NODELAY},   {"TCP_CORK", TCP_CORK},
    {"IPPROTO_IPV6", IPPROTO_IPV6}, {"IPV6_V6ONLY", IPV6_V6ONLY}, {"SHUT_RD", SHUT_RD},
    {"SHUT_WR", SHUT_WR},         {"SHUT_RDWR", SHUT_RDWR},       {"MSG_PEEK", MSG_PEEK},
    {"MSG_TRUNC", MSG_TRUNC},     {"EAGAIN", EAGAIN},             {"EINPROGRESS", EINPROGRESS},
};

}  // namespace troupe::sys
