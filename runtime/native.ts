// The sole loader of the addon: each thread (main or worker) gets its own instance of it.
import { createRequire } from 'node:module';

/** The native poller: epoll + eventfd alert + timerfd. Methods return -errno on failure. */
export interface NativePoller {
  open(): number;
  fd(): number;
  set(fd: number, events: number, token: number): number;
  mask(fd: number): number;
  size(): number;
  alert(): number;
  arm(delayMs: number): number;
  disarm(): number;
  wait(timeoutMs: number, out: Int32Array): number;
  embed(onReadable: () => void): number;
  ref(on: boolean): void;
  close(): void;
}

/**
 * A uv_poll on one fd in this thread's libuv loop: onReady(events, got?) with a mask of WATCH_READ and
 * WATCH_WRITE, or -errno. start(0) stops it; close() before the fd is closed. After setReader(buf,
 * fdsOut), a readable fd is read (recvmsg, as recvFds) before onReady runs, and `got` is what that read
 * returned; the watch keeps buf and fdsOut alive.
 */
export interface NativeWatch {
  start(events: number): number;
  setReader(buf: Buffer, fdsOut: Int32Array): number;
  close(): void;
}

export const WATCH_READ = 1;
export const WATCH_WRITE = 2;

interface Addon extends SocketCalls, TlsCalls {
  Poller: new () => NativePoller;
  Watch: new (fd: number, onReady: (events: number) => void) => NativeWatch;
  fdFlags(fd: number): number;
}

const require = createRequire(import.meta.url);

function load(): Addon {
  // NB: dist/runtime/native.js sits two levels below the package root, runtime/native.ts (run from source
  // by a test or a loader) one level.
  for (const rel of ['../../build/Release/troupe.node', '../build/Release/troupe.node']) {
    try {
      return require(rel) as Addon;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
    }
  }
  throw new Error("troupe's native addon is not built: run `npm install` (or `npm run build`)");
}

export const addon: Addon = load();

export const EPOLLIN = 0x001;
export const EPOLLPRI = 0x002;
export const EPOLLOUT = 0x004;
export const EPOLLERR = 0x008;
export const EPOLLHUP = 0x010;
export const FLAG_CLOEXEC = 1;
export const FLAG_NONBLOCK = 2;

/**
 * Socket calls. Thin free functions on numbers and caller-owned buffers: each returns a
 * result >= 0 or -errno; none blocks, none retries (EAGAIN comes back as -11). Every fd they create is
 * CLOEXEC|NONBLOCK. Addresses: family AF_INET/AF_INET6 with a numeric host and a port, or AF_UNIX with a
 * path (a leading '\0' names the abstract namespace).
 *
 * Only argument errors throw: a wrong type → TypeError with code ERR_INVALID_ARG_TYPE; a number that is not
 * an int32, or an (off, len) range or array length that does not fit → RangeError with ERR_OUT_OF_RANGE.
 */
export interface SocketCalls {
  socket(family: number, type: number): number;
  /** Writes the two fds into out[0], out[1]. */
  socketpair(type: number, out: Int32Array): number;
  bind(fd: number, family: number, host: string, port: number): number;
  listen(fd: number, backlog: number): number;
  accept(fd: number): number;
  /** 0 when connected at once, -EINPROGRESS while connecting, or -errno. */
  connect(fd: number, family: number, host: string, port: number): number;
  /** getsockopt(SO_ERROR) as 0 or -errno. */
  sockError(fd: number): number;
  read(fd: number, buf: Uint8Array, off: number, len: number): number;
  /** send(MSG_NOSIGNAL) on sockets, write(2) on other fds. */
  write(fd: number, buf: Uint8Array, off: number, len: number): number;
  /** writev of the first `count` buffers (MSG_NOSIGNAL via sendmsg on sockets). */
  writev(fd: number, bufs: Uint8Array[], count: number): number;
  /**
   * recv(2) with `flags` (e.g. MSG_PEEK, MSG_TRUNC). For datagrams with MSG_TRUNC the result is the real
   * length of the message, which exceeds `len` when it did not fit (the rest is discarded).
   */
  recv(fd: number, buf: Uint8Array, off: number, len: number, flags: number): number;
  shutdown(fd: number, how: number): number;
  /** close(2), never retried; the fd stops being owned by this thread. */
  close(fd: number): number;
  /** A new descriptor for the same open file, CLOEXEC (F_DUPFD_CLOEXEC). */
  dup(fd: number): number;
  /** The calling thread's sockets own fd: it is closed when the thread exits, if still owned then. */
  own(fd: number): void;
  /** fd is no longer owned by this thread (it moved elsewhere). */
  disown(fd: number): void;
  /** sendmsg with SCM_RIGHTS carrying `fds` (may be empty) and MSG_NOSIGNAL; returns bytes sent. */
  sendFds(fd: number, buf: Uint8Array, off: number, len: number, fds: Int32Array): number;
  /**
   * recvmsg with MSG_CMSG_CLOEXEC into buf; fdsOut[0] receives the count of fds, fdsOut[1..] the fds
   * (room for fdsOut.length - 1, at most 253). When more fds arrived than fit (MSG_CTRUNC, or the kernel's
   * alignment slack let one more in) or a datagram was truncated (MSG_TRUNC), every fd that did arrive is
   * closed, fdsOut[0] is 0 and -ENOBUFS is returned.
   */
  recvFds(fd: number, buf: Uint8Array, off: number, len: number, fdsOut: Int32Array): number;
  /** The local (peer = false) or remote address, or -errno. */
  sockName(fd: number, peer: boolean): NativeSockAddr | number;
  /** SO_PEERCRED into out: [pid, uid, gid]. */
  peerCred(fd: number, out: Int32Array): number;
  setSockOpt(fd: number, level: number, name: number, value: number): number;
  getSockOpt(fd: number, level: number, name: number): number;
  /**
   * Sets FD_CLOEXEC and sets (blocking = false) or clears O_NONBLOCK, for an fd taken over from outside.
   * NB: O_NONBLOCK lives in the open file description, shared with every dup and with the sender of a
   * passed fd. Returns 0 or -errno.
   */
  setBlocking(fd: number, blocking: boolean): number;
  /**
   * AF_INET, AF_INET6, AF_UNIX, SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET, SOL_SOCKET, SO_REUSEADDR,
   * SO_REUSEPORT, SO_TYPE, SO_DOMAIN, SO_ERROR, SO_RCVBUF, SO_SNDBUF, SO_BROADCAST, IPPROTO_TCP, TCP_NODELAY,
   * TCP_CORK, IPPROTO_IPV6, IPV6_V6ONLY, SHUT_RD, SHUT_WR, SHUT_RDWR, MSG_PEEK, MSG_TRUNC, EAGAIN and
   * EINPROGRESS: Linux values, none negative (frozen).
   */
  constants: Record<string, number>;
}

/** An address as the native layer reports it. */
export type NativeSockAddr =
  | { family: 'inet' | 'inet6'; address: string; port: number }
  | { family: 'unix'; path: string };

/**
 * Signal calls, keyed by a listener's eventfd (native/binding/signal.cc). Each returns a
 * result >= 0 or -errno; argument errors throw as the socket calls'.
 */
export interface SignalCalls {
  /**
   * Starts a listener of the signal numbers in sigs on the calling thread's loop: its eventfd, readable
   * while a signal is pending, or -errno (EINVAL for a signal that cannot be caught). Nothing is left
   * behind on failure.
   */
  signalListen(sigs: Int32Array): number;
  /** The lowest-numbered pending signal of the listener (no longer pending), 0 when none, or -EBADF. */
  signalTake(fd: number): number;
  /** Stops the listener's watchers and closes its fd: 0, or -EBADF if fd is no listener of this thread. */
  signalClose(fd: number): number;
  /** How many listener watchers of sig are started in the whole process (tests). */
  signalWatchers(sig: number): number;
  /** raise(3): 0 or -errno. */
  raise(sig: number): number;
}

// NB: merged into Addon here, apart from its declaration, so that additions of other modules do not collide.
interface Addon extends SignalCalls {}

/** Busy waiting on the calling thread's loop (native/binding/busy_wait.cc). */
export interface BusyWaitCalls {
  /** Sets the limit (µs, 0 = off; argument errors throw): the limit it replaces, or -errno. */
  busyWait(limitUs: number): number;
}

// NB: merged into Addon here, apart from its declaration, so that additions of other modules do not collide.
interface Addon extends BusyWaitCalls {}

/**
 * inotify calls, merged into the addon's type. Thin free functions like the socket calls:
 * a result >= 0 or -errno; only argument errors throw. The inotify fd is CLOEXEC|NONBLOCK; close it with
 * `close(fd)`, which frees every watch it holds.
 */
export interface NotifyCalls {
  /** inotify_init1(IN_CLOEXEC | IN_NONBLOCK): the fd. */
  inotifyInit(): number;
  /** inotify_add_watch: the watch descriptor. A path holding a NUL is -EINVAL. */
  inotifyAddWatch(fd: number, path: string, mask: number): number;
  /** inotify_rm_watch: 0, or -EINVAL when the kernel has dropped the watch already. */
  inotifyRmWatch(fd: number, wd: number): number;
  /**
   * One read(2) into all of buf (at least 272 bytes), its records parsed into out as five ints each:
   * wd, mask, cookie, and the offset and length in buf of the name (length 0: no name). out must hold
   * floor(buf.length / 16) * 5 ints. Returns the count of records or -errno (-EAGAIN: none queued).
   */
  inotifyRead(fd: number, buf: Uint8Array, out: Int32Array): number;
  /** IN_MODIFY, IN_ATTRIB, IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE, IN_DELETE_SELF, IN_MOVE_SELF,
   * IN_UNMOUNT, IN_Q_OVERFLOW, IN_IGNORED, IN_ONLYDIR, IN_DONT_FOLLOW, IN_EXCL_UNLINK, IN_ISDIR (frozen). */
  inotifyConstants: Record<string, number>;
}

// NB: declaration merging keeps each module's addition to the addon's type in a block of its own.
interface Addon extends NotifyCalls {}

/**
 * TLS over OpenSSL as Node exports it. A context is one side's configuration; a session is
 * one connection over a socket fd, which stays the caller's. Results as the socket calls: >= 0 or -errno,
 * -EAGAIN to wait (want() says for what: 1 input, 2 writability), -0x10000 (outside the errno range) for an
 * OpenSSL error, described by error().
 */
export interface TlsCalls {
  TlsContext: new (server: boolean) => NativeTlsContext;
  TlsSession: new (ctx: NativeTlsContext, fd: number) => NativeTlsSession;
}

/** The first OpenSSL error of a failed call: library number (ERR_LIB_SSL = 20), reason text, message. */
export interface NativeTlsError {
  lib: number;
  library: string;
  reason: string;
  message: string;
}

export interface NativeTlsContext {
  ok(): boolean;
  /** A PEM certificate chain, leaf first. */
  cert(pem: Uint8Array): number;
  key(pem: Uint8Array, passphrase: string): number;
  /** Trusts every certificate of a PEM bundle. */
  ca(pem: Uint8Array): number;
  /** TLS <= 1.2 cipher list and TLS 1.3 suites; '' leaves one unchanged. */
  ciphers(list: string, suites: string): number;
  /** Protocol version bounds (0x0303 TLS 1.2, 0x0304 TLS 1.3; 0 leaves a bound). */
  versions(min: number, max: number): number;
  /** ALPN protocols in wire format: offered (client) or chosen from, in this order (server). */
  alpn(wire: Uint8Array): number;
  requestCert(request: boolean, require: boolean): void;
  /** Trusts what `other` trusts, sharing its certificate store (not a copy of it). */
  shareCa(other: NativeTlsContext): void;
  error(): NativeTlsError | undefined;
}

export interface NativeTlsSession {
  servername(name: string): number;
  /** TLS bytes read from the fd before the session existed: the session reads them first. */
  pushback(buf: Uint8Array, off: number, len: number): void;
  /** 1 when done, -EAGAIN, -ECONNRESET (EOF first), -errno or -0x10000 (an OpenSSL error). */
  handshake(): number;
  /** Plaintext until buf is full or the fd has no more; 0 at the end of the stream. */
  read(buf: Uint8Array, off: number, len: number): number;
  /** After a short read: the end of the stream or an error waits for the next read, not for the fd. */
  held(): boolean;
  /** Plaintext bytes taken from the first `count` buffers (at most 256 KiB), or -EAGAIN while ciphertext is queued. */
  writev(bufs: Uint8Array[], count: number): number;
  /** Sends queued ciphertext: bytes still queued, or -errno. */
  flush(): number;
  /** Queues close_notify and flushes. */
  shutdown(): number;
  queued(): number;
  want(): number;
  error(): NativeTlsError | undefined;
  info(): NativeTlsInfo | undefined;
  /** The peer's certificate (DER), if it sent one. */
  peerCertificate(): Buffer | undefined;
  /** Frees the connection's OpenSSL state now; later calls answer -EBADF. */
  free(): void;
}

export interface NativeTlsInfo {
  protocol: string;
  cipher: string;
  standardName: string;
  cipherVersion: string;
  alpn: string;
  servername: string;
  /** X509_V_OK (0) or an X509_V_ERR_* code (1 when the peer sent no certificate). */
  verifyError: number;
  verifyReason: string;
  reused: boolean;
}
