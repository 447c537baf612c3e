// A socket's descriptor and its two sides: waiting for readiness, sticky errors, EOF marks, closing.
import { EPOLLIN, EPOLLOUT, addon } from '../native.js';
import { Controller, cancelFd, monotime } from '../controller.js';
import { Condition } from '../condition.js';
import type { SockAddr } from './address.js';
import { RuntimeError, SystemError, outOfRange, timeoutError, validateTimeout } from '../errors.js';

/** One direction of a socket: its sticky error, how often that was reported again, EOF, byte count. */
export interface Side {
  error: SystemError | RuntimeError | undefined;
  repeats: number;
  maxerrs: number;
  eof: boolean;
  bytes: number;
}

const DEFAULT_MAXERRS = 100;

/**
 * The fd of a socket (or -1 while it is being resolved and connected), the controller it waits through,
 * and the per-side error state. Everything that blocks goes through wait(); everything that closes goes
 * through drop(), which deregisters the fd from every controller before close(2).
 *
 * @internal Shared by the socket modules; not part of the public API.
 */
export class Channel {
  fd = -1;
  readonly ctl: Controller;
  readonly r: Side = { error: undefined, repeats: 0, maxerrs: DEFAULT_MAXERRS, eof: false, bytes: 0 };
  readonly w: Side = { error: undefined, repeats: 0, maxerrs: DEFAULT_MAXERRS, eof: false, bytes: 0 };
  /** What the last operation that had to wait waited for. */
  events: '' | 'r' | 'w' = '';
  /** The default timeout of blocking calls. */
  timeout: number | undefined;
  /** Signalled when a pending connect or listen settles, and on close. */
  readonly ready = new Condition();
  /** A pending connect/listen (DNS, connect), and how it failed. */
  connecting: Promise<void> | undefined;
  connectError: unknown;
  closed = false;
  transferred = false;
  /** recvfd's receive buffer, made on first use (fdpass.ts). */
  recvBuf: Buffer | undefined;

  constructor(fd: number, ctl: Controller, timeoutMs: number | undefined) {
    this.ctl = ctl;
    this.timeout = validateTimeout('timeoutMs', timeoutMs);
    if (fd >= 0) this.adopt(fd);
  }

  /** Takes fd as this socket's descriptor; the thread owns it until drop() or release(). */
  adopt(fd: number): void {
    this.fd = fd;
    // NB: owned fds are closed by the native cleanup hook if the thread ends (terminate) first.
    addon.own(fd);
  }

  /** The absolute deadline of one call: its own timeout, else the socket's. */
  deadline(timeoutMs: number | undefined): number {
    const t = validateTimeout('timeoutMs', timeoutMs) ?? this.timeout;
    return t === undefined ? Infinity : monotime() + t;
  }

  /** @throws ERR_HANDLE_TRANSFERRED / ERR_HANDLE_CLOSED once the socket is gone. */
  usable(): void {
    if (this.transferred) throw new RuntimeError('ERR_HANDLE_TRANSFERRED', 'socket was moved to another thread');
    if (this.closed) throw new RuntimeError('ERR_HANDLE_CLOSED', 'socket is closed');
  }

  /** Throws a side's sticky error; past maxerrs repeats, ERR_UNCHECKED_ERRORS instead. */
  sticky(side: Side): void {
    this.usable();
    const err = side.error;
    if (err === undefined) return;
    if (++side.repeats > side.maxerrs) {
      throw new RuntimeError('ERR_UNCHECKED_ERRORS', `exceeded unchecked error limit (${err.code})`, { cause: err });
    }
    throw err;
  }

  setmaxerrs(n: number, which: 'r' | 'w' | 'rw'): number {
    if (!Number.isInteger(n) || n < 0) throw outOfRange('n', 'a non-negative integer', n);
    const prev = which === 'w' ? this.w.maxerrs : this.r.maxerrs;
    if (which.includes('r')) this.r.maxerrs = n;
    if (which.includes('w')) this.w.maxerrs = n;
    return prev;
  }

  /** Forgets the sticky errors of the given sides, and their repeat counts. */
  clearerr(which: 'r' | 'w' | 'rw'): void {
    for (const side of [which.includes('r') ? this.r : undefined, which.includes('w') ? this.w : undefined]) {
      if (side === undefined) continue;
      side.error = undefined;
      side.repeats = 0;
    }
  }

  /** Records err as the side's sticky error and throws it. */
  fail(side: Side, err: SystemError | RuntimeError): never {
    side.error = err;
    side.repeats = 0;
    throw err;
  }

  /**
   * The start of an I/O call on a side: throws its sticky error, then waits out a pending connect (the
   * common case, nothing pending, costs no promise).
   */
  enter(side: Side, deadline: number): Promise<void> | undefined {
    this.sticky(side);
    if (this.connecting !== undefined || this.connectError !== undefined) return this.settled(deadline);
    return undefined;
  }

  /** Waits for a pending connect, listen or TLS handshake to settle. @throws its error, ETIMEDOUT */
  async settled(deadline: number, op = 'connect'): Promise<void> {
    this.usable();
    while (this.connecting !== undefined) {
      const left = deadline - monotime();
      if (left <= 0) throw timeoutError(op);
      await this.ctl.poll(this.ready, ...(left === Infinity ? [] : [left]));
      this.usable();
    }
    if (this.connectError !== undefined) throw this.connectError;
  }

  /**
   * Tracks a connect, listen or TLS handshake in progress; its outcome is kept for the first I/O. A step
   * begun while another is pending follows it (a TLS handshake after the connect): I/O waits for the last.
   */
  begin(p: Promise<void>): void {
    // NB: nothing may reject unobserved meanwhile. Only the last step begun ends the waiting.
    const mine: Promise<void> = p.then(
      () => {
        if (this.connecting === mine) this.connecting = undefined;
        this.ready.signal();
      },
      (err: unknown) => {
        if (this.connecting === mine) this.connecting = undefined;
        this.connectError ??= err;
        this.ready.signal();
      },
    );
    this.connecting = mine;
  }

  /**
   * Waits until the fd is ready for `dir` ('rw': either, for a read that has output to flush too); past
   * the deadline, a sticky ETIMEDOUT for the side it waited for (the read side for 'rw').
   */
  async wait(dir: 'r' | 'w' | 'rw', deadline: number, op: string): Promise<void> {
    const left = deadline === Infinity ? Infinity : deadline - monotime();
    const side = dir === 'w' ? this.w : this.r;
    if (left <= 0) this.fail(side, timeoutError(op));
    this.events = dir === 'w' ? 'w' : 'r';
    const mask = dir === 'r' ? EPOLLIN : dir === 'w' ? EPOLLOUT : EPOLLIN | EPOLLOUT;
    const ready = await this.ctl.waitFd(this.fd, mask, left === Infinity ? undefined : left);
    this.events = '';
    this.usable();
    if (!ready) this.fail(side, timeoutError(op));
  }

  /** Waits for writability without a deadline (a connect in progress). */
  async writable(): Promise<void> {
    this.events = 'w';
    await this.ctl.waitFd(this.fd, EPOLLOUT);
    this.events = '';
  }

  /** The peer's (peer) or the local address, or undefined when there is none (yet). */
  name(peer: boolean): SockAddr | undefined {
    this.usable();
    if (this.fd < 0) return undefined;
    const r = addon.sockName(this.fd, peer);
    return typeof r === 'number' ? undefined : (r as SockAddr);
  }

  /** SO_PEERCRED: [pid, uid, gid]. @throws SystemError */
  peerCred(): Int32Array {
    this.usable();
    const out = new Int32Array(3);
    const rc = addon.peerCred(this.fd, out);
    if (rc < 0) throw new SystemError(rc, 'getsockopt');
    return out;
  }

  /** Gives up the fd without closing it (it now belongs to another thread); the socket is moved. */
  release(): number {
    const fd = this.fd;
    if (fd >= 0) {
      cancelFd(fd);
      addon.disown(fd);
    }
    this.fd = -1;
    this.closed = this.transferred = true;
    this.ready.signal();
    return fd;
  }

  /** Closes the fd, first waking and deregistering every poller of it. Idempotent. */
  drop(): void {
    const fd = this.fd;
    if (fd < 0) return;
    this.fd = -1;
    // SAFETY: wake and deregister every poller of this fd before its number can be reused.
    cancelFd(fd);
    addon.close(fd);
  }

  /** Marks the socket closed (or moved) and releases the fd. */
  close(transferred = false): void {
    this.closed = true;
    this.transferred ||= transferred;
    this.drop();
    this.ready.signal();
  }
}
