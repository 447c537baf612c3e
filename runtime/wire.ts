// A raw byte stream between threads whose every read is recvmsg: descriptors sent along arrive in
// stream order. The transport troupe/actors frames its messages on.
import { EPOLLIN, EPOLLOUT, WATCH_READ, WATCH_WRITE, addon, type NativeWatch } from './native.js';
import { Controller, cancelFd } from './controller.js';
import { RuntimeError, SystemError, check, invalidArgType } from './errors.js';
import { Socket } from './socket/socket.js';

/** What a {@link Wire} reports to its owner. */
export interface WireSink {
  /**
   * Bytes in stream order: the first `length` bytes of chunk (all of it, unless the sink borrows);
   * descriptors that came with them are ready for takeFd().
   */
  data(chunk: Buffer, length: number): void;
  /** The wire ended: the peer closed (no error), close() was called, or the error that ended it. */
  closed(err?: unknown): void;
  /**
   * The sink is done with each chunk when data() returns (it copies what it keeps): the wire may then lend
   * it its own read buffer, with the count of bytes read, instead of a copy. Default false.
   */
  readonly borrows?: boolean;
}

const EAGAIN = -11;
const EINTR = -4;
const EPIPE = -32;
const ECONNRESET = -104;
const READ_SIZE = 256 * 1024;
// Descriptors one recvmsg can take (the native layer's cap); more arrive with later reads.
const FDS_OUT = new Int32Array(254);

interface Pending {
  buf: Buffer;
  off: number;
  fds: number[];
}

/**
 * One end of a stream socket (a socketpair between threads) used without buffering of its own: write()
 * sends at once when the kernel takes it and queues the rest; the reader hands every chunk to the sink as
 * soon as it arrives. Descriptors written with a chunk ride on its first byte (SCM_RIGHTS), so the
 * receiver has them by the time it has read that byte. The wire owns every descriptor it holds (queued to
 * send, or received and not yet taken) and closes them if it ends first.
 */
export class Wire {
  readonly #fd: number;
  readonly #ctl: Controller;
  readonly #sink: WireSink;
  #queue: Pending[] = [];
  #queued = 0;
  #writing = false;
  #closed = false;
  readonly #fdsIn: number[] = [];
  readonly #drained: (() => void)[] = [];
  #paused = false;
  #resume: (() => void) | undefined;
  // On the thread's root controller the wire skips it: libuv polls the fd itself (one epoll hop, not two).
  readonly #watch: NativeWatch | undefined;
  #mask = 0;
  #rbuf: Buffer | undefined;
  #fdsRead: Int32Array = FDS_OUT;
  // The peer closed its end: writes are dropped, reading goes on to the EOF that ends the wire.
  #peerGone = false;

  /** Takes over `sock` (it is consumed: its descriptor now belongs to the wire). */
  constructor(sock: Socket, sink: WireSink, controller: Controller = Controller.root()) {
    if (!(sock instanceof Socket)) throw invalidArgType('sock', 'a Socket', sock);
    const d = Socket.detach(sock);
    if (d.input.length > 0 || d.output.length > 0) {
      addon.close(d.fd);
      throw new RuntimeError('ERR_INVALID_STATE', 'a wire starts on a socket with nothing buffered');
    }
    this.#fd = d.fd;
    addon.own(this.#fd);
    this.#ctl = controller;
    this.#sink = sink;
    if (controller === Controller.root()) {
      this.#rbuf = Buffer.allocUnsafe(READ_SIZE);
      // NB: its own descriptor array, not the shared FDS_OUT: the watch's callback reads into both.
      this.#fdsRead = new Int32Array(FDS_OUT.length);
      try {
        this.#watch = new addon.Watch(this.#fd, this.#onReady);
        check(this.#watch.setReader(this.#rbuf, this.#fdsRead), 'uv_poll');
      } catch (err) {
        this.#watch?.close();
        addon.close(this.#fd);
        throw err;
      }
      this.#setMask(WATCH_READ);
    } else {
      controller.wrap(() => this.#read());
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes written but not yet taken by the kernel. */
  get queued(): number {
    return this.#queued;
  }

  /**
   * Sends the first `length` bytes of buf (default all), with `fds` riding on the first byte; the wire
   * owns those descriptors from here and closes them once sent. Never blocks: what the kernel does not take
   * now goes out when the socket is writable. Returns true when the kernel took it all at once (the caller
   * may reuse buf); false when the wire keeps buf until sent.
   * @throws RuntimeError ERR_HANDLE_CLOSED once the wire has ended (the descriptors are closed);
   *   RangeError ERR_OUT_OF_RANGE for a length outside 0..buf.length (nothing sent, fds not taken).
   */
  write(buf: Buffer, fds: readonly number[] = [], length: number = buf.length): boolean {
    if (length !== buf.length) {
      if (!Number.isInteger(length) || length < 0 || length > buf.length) {
        throw Object.assign(new RangeError(`The value of "length" is out of range. It must be an integer in 0..${buf.length}. Received ${length}`), { code: 'ERR_OUT_OF_RANGE' });
      }
    }
    if (this.#closed) {
      for (const fd of fds) addon.close(fd);
      throw new RuntimeError('ERR_HANDLE_CLOSED', 'the wire is closed');
    }
    if (this.#peerGone) {
      for (const fd of fds) addon.close(fd);
      return true;
    }
    for (const fd of fds) addon.own(fd);
    // NB: what is not sent at once is kept: as the bytes to send, from here on.
    if (this.#queue.length === 0) {
      const n = this.#send(buf, 0, fds, length);
      if (n === length || this.#peerGone) return true;
      if (this.#closed) {
        // NB: a send that failed for good closed the wire, and these were in no queue for it to close.
        for (const fd of fds) addon.close(fd);
        return true;
      }
      if (n > 0) fds = [];
      this.#queue.push({ buf: length === buf.length ? buf : buf.subarray(0, length), off: Math.max(0, n), fds: [...fds] });
    } else {
      this.#queue.push({ buf: length === buf.length ? buf : buf.subarray(0, length), off: 0, fds: [...fds] });
    }
    this.#queued += length - this.#queue[this.#queue.length - 1]!.off;
    if (this.#watch !== undefined) {
      this.#setMask(this.#mask | WATCH_WRITE);
    } else if (!this.#writing) {
      this.#writing = true;
      this.#ctl.wrap(() => this.#drain());
    }
    return false;
  }

  /** Resolves once nothing waits for the kernel (or the wire has ended). */
  drained(): Promise<void> {
    if (this.#queued === 0 || this.#closed) return Promise.resolve();
    return new Promise((res) => this.#drained.push(res));
  }

  /** Stops reading until resume(): the kernel buffer fills and the peer's writes queue (backpressure). */
  pause(): void {
    this.#paused = true;
    if (this.#watch !== undefined && !this.#closed) this.#setMask(this.#mask & ~WATCH_READ);
  }

  resume(): void {
    this.#paused = false;
    if (this.#watch !== undefined && !this.#closed) this.#setMask(this.#mask | WATCH_READ);
    const r = this.#resume;
    this.#resume = undefined;
    r?.();
  }

  /** The next descriptor that arrived, in stream order; the caller owns it. @throws ERR_INVALID_FRAME if none did. */
  takeFd(): number {
    const fd = this.#fdsIn.shift();
    if (fd === undefined) throw new RuntimeError('ERR_INVALID_FRAME', 'a message names a descriptor that did not arrive');
    addon.disown(fd);
    return fd;
  }

  /** Ends the wire: closes the socket and every descriptor it holds; the sink hears closed(err) once. */
  close(err?: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#queue) for (const fd of p.fds) addon.close(fd);
    this.#queue = [];
    this.#queued = 0;
    for (const fd of this.#fdsIn.splice(0)) addon.close(fd);
    // SAFETY: out of libuv's epoll set, and every waiter on the fd woken and deregistered, before its
    // number can be reused.
    this.#watch?.close();
    cancelFd(this.#fd);
    addon.close(this.#fd);
    for (const res of this.#drained.splice(0)) res();
    this.resume();
    this.#sink.closed(err);
  }

  #setMask(mask: number): void {
    if (this.#closed) return;
    this.#mask = mask;
    const rc = this.#watch!.start(mask);
    if (rc < 0) this.close(new SystemError(rc, 'uv_poll_start'));
  }

  /**
   * The watch's callback: reads what is there, sends what the kernel now takes. When readable, the watch
   * has already made the first read: `got` is what it returned (bytes, 0 at EOF, or -errno).
   */
  readonly #onReady = (events: number, got?: number): void => {
    if (this.#closed) return;
    try {
      if (events < 0) {
        // An error on the socket (libuv stops the watch; a peer that closed with our bytes unread is
        // ECONNRESET): what arrived before it is still read, and the read meets the end.
        this.#readNow(true);
        if (!this.#closed) throw new SystemError(events, 'uv_poll');
        return;
      }
      // NB: what the watch read (bytes, descriptors) is handed on first, whatever else happens.
      if (got !== undefined) this.#readNow(false, got);
      if ((events & WATCH_WRITE) !== 0) this.#drainNow();
      if (got === undefined && (events & WATCH_READ) !== 0 && !this.#closed && !this.#paused) this.#readNow();
    } catch (err) {
      // A failing sink (a corrupt frame): the wire ends, the thread lives on.
      this.close(err);
    }
  };

  /**
   * Reads until the socket is empty (a short read), or with `toEnd` until it says EAGAIN, EOF or an error.
   * `got`: the first read's result, when the watch made it.
   */
  #readNow(toEnd = false, got?: number): void {
    const buf = this.#rbuf!;
    const fdsOut = this.#fdsRead;
    for (;;) {
      const n = got ?? addon.recvFds(this.#fd, buf, 0, buf.length, fdsOut);
      got = undefined;
      if (n > 0) {
        const count = this.#taken(fdsOut);
        if (this.#sink.borrows === true) this.#sink.data(buf, n);
        else this.#sink.data(Buffer.from(buf.subarray(0, n)), n);
        // A short read emptied the socket: libuv reports it again when there is more.
        if (this.#closed || (!toEnd && (this.#paused || (n < buf.length && count < fdsOut.length - 1)))) return;
      } else if (n === 0) {
        return this.close();
      } else if (n === EAGAIN) {
        return;
      } else if (n === ECONNRESET) {
        return this.close(); // the peer closed without reading all we sent: an end, as EOF
      } else if (n !== EINTR) {
        return this.close(new SystemError(n, 'recvmsg'));
      }
    }
  }

  /** Takes ownership of the descriptors that came with a read (in fdsOut); how many there were. */
  #taken(fdsOut: Int32Array): number {
    const count = fdsOut[0]!;
    // The thread owns what arrived until someone takes it.
    for (let k = 1; k <= count; k++) {
      addon.own(fdsOut[k]!);
      this.#fdsIn.push(fdsOut[k]!);
    }
    return count;
  }

  #drainNow(): void {
    while (!this.#closed && this.#queue.length > 0) {
      const p = this.#queue[0]!;
      const before = p.off;
      const at = this.#send(p.buf, p.off, p.fds);
      if (at < 0) return; // the watch says when to try again
      p.fds = [];
      p.off = at;
      this.#queued -= at - before;
      if (at === p.buf.length) this.#queue.shift();
    }
    if (this.#closed) return;
    this.#setMask(this.#mask & ~WATCH_WRITE);
    for (const res of this.#drained.splice(0)) res();
  }

  /** One send of buf[off, end): bytes taken (>= 0), or -1 for "try later". Fails the wire on a real error. */
  #send(buf: Buffer, off: number, fds: readonly number[], end: number = buf.length): number {
    const n = fds.length > 0 ? addon.sendFds(this.#fd, buf, off, end - off, Int32Array.from(fds)) : addon.write(this.#fd, buf, off, end - off);
    if (n >= 0) {
      if (fds.length > 0) for (const fd of fds) addon.close(fd);
      return off + n;
    }
    if (n === EPIPE || n === ECONNRESET) this.#hangUp(fds);
    else if (n !== EAGAIN && n !== EINTR) this.close(new SystemError(n, fds.length > 0 ? 'sendmsg' : 'write'));
    return -1;
  }

  /**
   * The peer is gone (EPIPE): what is queued for it is dropped, and what it sent before it went is still
   * read, up to the EOF that ends the wire without an error.
   */
  #hangUp(fds: readonly number[]): void {
    this.#peerGone = true;
    for (const fd of fds) addon.close(fd);
    for (const p of this.#queue) for (const fd of p.fds) if (!fds.includes(fd)) addon.close(fd);
    this.#queue = [];
    this.#queued = 0;
    if (this.#watch !== undefined) this.#setMask(this.#mask & ~WATCH_WRITE);
    for (const res of this.#drained.splice(0)) res();
  }

  async #drain(): Promise<void> {
    try {
      while (!this.#closed && this.#queue.length > 0) {
        const p = this.#queue[0]!;
        const before = p.off;
        const at = this.#send(p.buf, p.off, p.fds);
        if (this.#closed) return;
        if (at < 0) {
          if (this.#peerGone) break;
          await this.#ctl.waitFd(this.#fd, EPOLLOUT);
          continue;
        }
        p.fds = [];
        p.off = at;
        this.#queued -= at - before;
        if (at === p.buf.length) this.#queue.shift();
        if (this.#drained.length > 0 && this.#queued === 0) for (const res of this.#drained.splice(0)) res();
      }
    } catch (err) {
      this.close(err);
    } finally {
      this.#writing = false;
      if (this.#drained.length > 0) for (const res of this.#drained.splice(0)) res();
    }
  }

  async #read(): Promise<void> {
    const buf = Buffer.allocUnsafe(READ_SIZE);
    try {
      while (!this.#closed) {
        if (this.#paused) {
          await new Promise<void>((res) => (this.#resume = res));
          continue;
        }
        const n = addon.recvFds(this.#fd, buf, 0, buf.length, FDS_OUT);
        if (n > 0) {
          const count = this.#taken(FDS_OUT);
          // NB: a copy unless the sink borrows: what the sink keeps must survive the next read.
          if (this.#sink.borrows === true) this.#sink.data(buf, n);
          else this.#sink.data(Buffer.from(buf.subarray(0, n)), n);
          // A short read emptied the socket: wait for more rather than ask the kernel to say EAGAIN.
          if (n < buf.length && count < FDS_OUT.length - 1 && !this.#closed && !this.#paused) await this.#ctl.waitFd(this.#fd, EPOLLIN);
        } else if (n === 0 || n === ECONNRESET) {
          this.close(); // ECONNRESET: the peer closed without reading all we sent; an end, as EOF
        } else if (n === EAGAIN) {
          await this.#ctl.waitFd(this.#fd, EPOLLIN);
        } else if (n !== EINTR) {
          this.close(new SystemError(n, 'recvmsg'));
        }
      }
    } catch (err) {
      // A failing sink (a corrupt frame) or a cancelled wait: the wire ends, the thread lives on.
      this.close(err);
    }
  }
}
