// Socket: cqueues' buffered, logically synchronous socket on a controller — formats, modes, sticky errors.
import type { Socket as NetSocket } from 'node:net';
import { addon } from '../native.js';
import { Controller } from '../controller.js';
import type { Condition } from '../condition.js';
import { RuntimeError, SystemError, invalidArgType, outOfRange, validateTimeout } from '../errors.js';
import { SOCK_STREAM, checkEndpoint, resolveLater, resolveNow, typeName, typeNumber, type SockAddr, type SocketType } from './address.js';
import { Channel } from './channel.js';
import { recvWithFd, sendWithFds } from './fdpass.js';
import { fromNodeSocket, toNodeSocket } from './node-interop.js';
import { InputBuffer, NEED_MORE, checkFormat, type Format, type ReadShape } from './input.js';
import { SocketConfig, type TransferState } from './config.js';
import { parseInput, parseOutput } from './modes.js';
import { OutputBuffer } from './output.js';
import { BitCursor } from './pack.js';
import { bindListen, check, dial } from './setup.js';
import type { ConnectOptions, ListenOptions, ReadOptions, SocketOptions } from './options.js';
import { decodeFrame, encodeFrame } from './transfer.js';
import { startTls, tlsConfig, type TlsConfig, type TlsInfo, type TlsLayer, type TlsOptions } from './tls.js';

export type { Format } from './input.js';
export type { SockAddr, SocketType } from './address.js';
export type { ConnectOptions, ListenOptions, ReadOptions, SocketOptions } from './options.js';
export type { TlsInfo, TlsOptions, TlsVersion } from './tls.js';

const EAGAIN = -11;
const EINTR = -4;
const EPIPE = -32;
const MSG_TRUNC = 0x20;
// NB: write() waits while more than this much output is buffered: memory stays bounded against a stalled
// peer, and the wait has the call's one deadline (the original buffered without limit).
const OUTPUT_HIGH_WATER = 64 * 1024;
const EMPTY = Buffer.alloc(0);

/**
 * A non-blocking socket with cqueues' buffered I/O: `await sock.read('*l')` reads a line, whatever the
 * kernel delivers when. Reads and writes take one deadline per call; errors are sticky per side until
 * clearerr(); EOF is null. Pollable: pass it to poll() to wait for what its last operation waited for.
 */
export class Socket implements AsyncDisposable {
  readonly #ch: Channel;
  readonly #type: number;
  readonly #in: InputBuffer;
  readonly #out = new OutputBuffer();
  readonly #cfg = new SocketConfig();
  // The last read from the kernel was short: it had nothing more then (see #fill).
  #drained = false;
  readonly #bitsIn = new BitCursor();
  readonly #bitsOut = new BitCursor();
  // TLS: the layer reads and writes go through once its handshake is done; the host a client checks.
  #tls: TlsLayer | undefined;
  #tlsStarted = false;
  #host: string | undefined;

  /** @internal Use the static constructors. */
  constructor(fd: number, type: number, opts: SocketOptions = {}) {
    this.#ch = new Channel(fd, opts.controller ?? Controller.root(), opts.timeoutMs);
    this.#type = type;
    this.#in = new InputBuffer({ datagram: type !== SOCK_STREAM });
    if (opts.encoding !== undefined) this.setEncoding(opts.encoding);
    if (opts.modes !== undefined) this.setmode(...opts.modes);
  }

  // ---- construction ---------------------------------------------------------------------------------------

  /** A connected pair of unix sockets. */
  static pair(type: SocketType = 'stream', opts?: SocketOptions): [Socket, Socket] {
    const out = new Int32Array(2);
    const t = typeNumber(type);
    check(addon.socketpair(t, out), 'socketpair');
    return [new Socket(out[0]!, t, opts), new Socket(out[1]!, t, opts)];
  }

  /** Takes ownership of an open descriptor (made non-blocking and close-on-exec). */
  static fdopen(fd: number, opts?: SocketOptions): Socket {
    if (!Number.isInteger(fd) || fd < 0) throw invalidArgType('fd', 'a non-negative integer', fd);
    check(addon.setBlocking(fd, false), 'fcntl');
    const type = addon.getSockOpt(fd, addon.constants.SOL_SOCKET!, addon.constants.SO_TYPE!);
    return new Socket(fd, type > 0 ? type : SOCK_STREAM, opts);
  }

  /** Takes a connection from Node, with the bytes Node had buffered (read first). Node's socket is destroyed. */
  static fromNodeSocket(s: NetSocket, opts?: SocketOptions): Socket {
    return fromNodeSocket(s, opts);
  }

  /** Gives the connection (and the input buffered here) to Node; this handle is then moved. */
  toNodeSocket(): NetSocket {
    return toNodeSocket(this);
  }

  /** A client socket: returns at once; DNS and connect progress in the background and on first I/O. */
  static connect(host: string, port: number, opts?: ConnectOptions): Socket;
  static connect(opts: ConnectOptions): Socket;
  static connect(a: string | ConnectOptions, port?: number, more?: ConnectOptions): Socket {
    const [s, opts, type] = Socket.#unbound<ConnectOptions>(a, port, more);
    const tls = opts.tls === undefined || opts.tls === false ? undefined : tlsConfig(opts.tls === true ? undefined : opts.tls, 'opts.tls');
    tls?.context(); // a bad key or certificate throws before any descriptor exists
    s.#host = opts.host;
    const now = resolveNow(opts);
    const ch = s.#ch;
    ch.begin(now !== undefined ? dial(ch, type, now, opts) : resolveLater(opts).then((r) => dial(ch, type, r, opts)));
    if (tls !== undefined) s.#begintls(tls);
    return s;
  }

  /** A listening socket: bound and listening at once for numeric hosts and paths, else after DNS. */
  static listen(host: string, port: number, opts?: ListenOptions): Socket;
  static listen(opts: ListenOptions): Socket;
  static listen(a: string | ListenOptions, port?: number, more?: ListenOptions): Socket {
    const [s, opts, type] = Socket.#unbound<ListenOptions>(a, port, more);
    const now = resolveNow(opts);
    // Numeric hosts and paths: EADDRINUSE, EACCES, … are thrown here, at once.
    if (now !== undefined) bindListen(s.#ch, type, now, opts);
    else s.#ch.begin(resolveLater(opts).then((r) => bindListen(s.#ch, type, r, opts)));
    return s;
  }

  /** The arguments of connect()/listen() as options, checked, and a socket with no fd yet. */
  static #unbound<O extends ConnectOptions | ListenOptions>(a: string | O, port: number | undefined, more: O | undefined): [Socket, O, number] {
    const opts = (typeof a === 'string' ? { ...more, host: a, port } : { ...a }) as O;
    checkEndpoint(opts, 'opts');
    const type = typeNumber(opts.type);
    return [new Socket(-1, type, opts), opts, type];
  }

  /** Waits for a pending connect (DNS, connect) to finish. @throws its SystemError, ETIMEDOUT */
  async connect(timeoutMs?: number): Promise<this> {
    await this.#ch.settled(this.#ch.deadline(timeoutMs));
    return this;
  }

  /** Waits for a pending listen (DNS) to finish. */
  async listen(timeoutMs?: number): Promise<this> {
    return this.connect(timeoutMs);
  }

  // ---- TLS --------------------------------------------------------------------------------------------------

  /**
   * Starts TLS (after a pending connect) and waits for the handshake, one deadline; a second call is a
   * no-op. Output mode 'a' sends buffered output first in cleartext; input mode 'p' replays input already
   * buffered into the handshake. A client verifies the peer by default. See tls.ts for the options.
   * @throws TypeError for bad options, ERR_OSSL_… for bad keys and certificates (synchronously); rejects with
   *   the handshake's error (TlsLayer.handshake) or ETIMEDOUT (the handshake goes on: call again to wait).
   */
  starttls(opts?: TlsOptions, timeoutMs?: number): Promise<this> {
    const cfg = tlsConfig(opts);
    const deadline = this.#ch.deadline(timeoutMs);
    if (!this.#tlsStarted && !this.#ch.closed) {
      if (this.#type !== SOCK_STREAM) return Promise.reject(new RuntimeError('ERR_INVALID_STATE', 'TLS needs a stream socket (no DTLS)'));
      this.#begintls(cfg);
    }
    return this.#ch.settled(deadline, 'starttls').then(() => this);
  }

  #begintls(cfg: TlsConfig): void {
    startTls(this.#ch, cfg, this.#host, async (layer) => {
      if (this.#cfg.outMode.autoflush) await this.#flushUpTo(this.#out.length, Infinity, 'starttls');
      if (this.#cfg.inMode.pushback && this.#in.length > 0) layer.pushback(this.#in.take(this.#in.length));
      this.#tls = layer;
      this.#drained = false; // the handshake may read ahead into the session
    });
    this.#tlsStarted = true;
  }

  /** The TLS connection's state once its handshake is over (also when the peer was refused), else null. */
  checktls(): TlsInfo | null {
    this.#ch.usable();
    return this.#tls?.info() ?? null;
  }

  // ---- accept -----------------------------------------------------------------------------------------------

  /** Accepts one connection; the new socket inherits the type, and takes `opts`. */
  async accept(opts: SocketOptions & { timeoutMs?: number } = {}): Promise<Socket> {
    const deadline = this.#ch.deadline(opts.timeoutMs);
    await this.#ch.settled(deadline);
    for (;;) {
      const fd = addon.accept(this.#ch.fd);
      if (fd >= 0) return new Socket(fd, this.#type, { controller: this.#ch.ctl, ...opts, timeoutMs: opts.timeoutMs ?? this.#ch.timeout });
      if (fd !== EAGAIN && fd !== EINTR && fd !== -103 /* ECONNABORTED */) throw new SystemError(fd, 'accept');
      await this.#ch.wait('r', deadline, 'accept');
    }
  }

  /** Accepts connections until the listener closes; a timeout ends the iteration quietly, as the original. */
  async *clients(opts: SocketOptions & { timeoutMs?: number } = {}): AsyncIterableIterator<Socket> {
    for (;;) {
      let s: Socket;
      try {
        s = await this.accept(opts);
      } catch (err) {
        if ((err as { code?: string }).code === 'ETIMEDOUT' || (err as { code?: string }).code === 'ERR_HANDLE_CLOSED') return;
        throw err;
      }
      yield s;
    }
  }

  // ---- reading ----------------------------------------------------------------------------------------------

  /** Reads one format (default '*l') and decodes it with the socket's encoding; null at EOF. */
  async read(format: Format = '*l', opts?: ReadOptions): Promise<string | null> {
    const b = await this.readBytes(format, opts);
    return b === null ? null : b.toString(this.#cfg.encoding);
  }

  /**
   * Reads one format as bytes; null at EOF.
   * @throws SystemError ETIMEDOUT (partial data stays buffered; sticky until clearerr), the socket's
   *   sticky read error, ERR_UNCHECKED_ERRORS, ERR_HANDLE_CLOSED, ERR_INVALID_FORMAT.
   */
  async readBytes(format: Format = '*l', opts: ReadOptions = {}): Promise<Buffer | null> {
    checkFormat(format);
    const deadline = this.#ch.deadline(opts.timeoutMs);
    const pending = this.#ch.enter(this.#ch.r, deadline);
    if (pending !== undefined) await pending; // NB: the hot path awaits nothing here
    const shape = this.#shape(opts.mode);
    if (format === 0) return Buffer.alloc(0); // '' always, even at EOF, as the original
    for (;;) {
      if (this.#in.atEnd()) return null;
      const got = this.#in.read(format, shape);
      if (got !== NEED_MORE) {
        if (got !== null && this.#in.datagram && format !== '*l' && format !== '*L') this.#in.endMessage();
        return got;
      }
      await this.#fill(deadline, 'read');
    }
  }

  /** Iterates read(format) until EOF. */
  lines(format: Format = '*l', opts?: ReadOptions): AsyncIterableIterator<string> {
    // NB: a plain iterator, not an async generator: one promise per line instead of a generator's several.
    const it: AsyncIterableIterator<string> = {
      next: () => this.read(format, opts).then((value) => (value === null ? { done: true, value: undefined } : { done: false, value })),
      return: async () => ({ done: true, value: undefined }),
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }

  /** Waits until at least n bytes (or one datagram) are buffered; false at EOF before that. */
  async fill(n: number, timeoutMs?: number): Promise<boolean> {
    const deadline = this.#ch.deadline(timeoutMs);
    await this.#ch.enter(this.#ch.r, deadline);
    while (this.#in.length < n && !(this.#in.datagram && this.#in.length > 0)) {
      if (this.#in.eof) return false;
      await this.#fill(deadline, 'fill');
    }
    return true;
  }

  /** Puts data back in front of the input; clears the EOF mark. */
  unget(data: string | Uint8Array): void {
    this.#ch.usable();
    this.#in.unget(typeof data === 'string' ? Buffer.from(data, this.#cfg.encoding) : data);
    this.#ch.r.eof = false;
  }

  /**
   * Sets a read barrier n bytes ahead: reads end early there and report EOF (null) until the next
   * setchunk; null removes it. For HTTP chunked bodies and MIME parts.
   */
  setchunk(n: number | null): void {
    this.#ch.usable();
    if (n !== null && (!Number.isInteger(n) || n < 0)) throw outOfRange('n', 'a non-negative integer or null', n);
    this.#in.setBarrier(n);
  }

  /** Reads `bits` bits (big-endian, bit-level, sharing the input buffer); null at EOF. */
  async unpack(bits = 32): Promise<number | bigint | null> {
    if (!Number.isInteger(bits) || bits < 1 || bits > 1024) throw outOfRange('bits', 'an integer from 1 to 1024', bits);
    const need = this.#bitsIn.bytesNeeded(bits);
    if (need > 0 && !(await this.fill(need))) return null;
    return this.#bitsIn.take(bits, this.#in.take(need));
  }

  /** One read from the kernel into the input buffer, waiting for readability first if there is none. */
  /**
   * Reads more input from the kernel, waiting for it if there is none. Autoflush happens here, before a
   * read can wait (not before every read): replies to pipelined requests already buffered go out together.
   */
  async #fill(deadline: number, op: string): Promise<void> {
    for (;;) {
      this.#ch.usable();
      if (this.#in.eof) return;
      // NB: I/O that was waiting when starttls began waits for the handshake now (and fails with its error).
      if (this.#tls?.done === false) await this.#ch.settled(deadline, op);
      const flushing = this.#cfg.outMode.autoflush && this.#out.length > 0;
      if (flushing) {
        const f = this.#flushNow(this.#out.length);
        // A write error is the write side's: recorded there (sticky) for the next write, not thrown here.
        if (f < 0 && f !== EAGAIN) this.#ch.w.error ??= this.#ioError(f, 'write');
      }
      // NB: after a short read the kernel had no more: wait for readiness rather than reading into EAGAIN.
      if (this.#drained) {
        this.#drained = false;
        await this.#ch.wait(flushing && this.#out.length > 0 ? 'rw' : 'r', deadline, op);
        continue;
      }
      const room = this.#in.datagram ? this.#cfg.inBufsiz : Math.max(this.#cfg.inBufsiz, 4096);
      const r = this.#in.reserve(room);
      const tls = this.#tls;
      const n = this.#in.datagram
        ? addon.recv(this.#ch.fd, r.buf, r.off, Math.min(r.len, this.#cfg.inBufsiz), MSG_TRUNC)
        : tls !== undefined
          ? tls.read(r.buf, r.off, r.len)
          : addon.read(this.#ch.fd, r.buf, r.off, r.len);
      if (n > 0) {
        this.#in.commit(Math.min(n, r.len));
        this.#ch.r.bytes += n;
        this.#drained = !this.#in.datagram && n < r.len && tls?.held() !== true;
        return;
      }
      if (n === 0 && !this.#in.datagram) {
        this.#in.eof = true;
        this.#ch.r.eof = true;
        return;
      }
      if (n === 0) {
        this.#in.commit(0); // an empty datagram
        return;
      }
      if (n === EINTR) continue;
      if (n !== EAGAIN) this.#ch.fail(this.#ch.r, this.#ioError(n, op));
      await this.#ch.wait((flushing && this.#out.length > 0) || tls?.wantsWrite() ? 'rw' : 'r', deadline, op);
    }
  }

  #shape(mode: string | undefined): ReadShape {
    if (mode === undefined) return this.#cfg.shape;
    return { ...this.#cfg.shape, text: parseInput(mode, this.#cfg.inMode).text };
  }

  // ---- writing ----------------------------------------------------------------------------------------------

  /**
   * Buffers the chunks (strings in the socket's encoding, bytes, numbers as text) and flushes per the output
   * mode. Waits, with one deadline, while more than 64 KiB stays buffered.
   * @throws SystemError EPIPE (peer gone), ETIMEDOUT; the sticky write error; ERR_HANDLE_CLOSED.
   */
  async write(...chunks: (string | Uint8Array | number)[]): Promise<this> {
    const deadline = this.#ch.deadline(undefined);
    const pending = this.#ch.enter(this.#ch.w, deadline);
    if (pending !== undefined) await pending; // NB: the hot path awaits nothing here
    const { text, flush } = this.#cfg.outMode;
    const stream = this.#type === SOCK_STREAM;
    if (stream) for (const c of chunks) this.#out.append(this.#bytes(c), text, typeof c !== 'object');
    else this.#out.append(Buffer.concat(chunks.map((c) => this.#bytes(c))), text, true); // one write, one datagram
    const due = stream ? this.#out.due(flush, this.#cfg.outBufsiz, this.#cfg.outMaxline) : this.#out.length;
    if (due > 0) await this.#flushUpTo(due, deadline, 'write');
    const high = Math.max(OUTPUT_HIGH_WATER, this.#cfg.outBufsiz);
    if (this.#out.length > high) await this.#flushUpTo(this.#out.length - high, deadline, 'write');
    return this;
  }

  /** Writes out buffered output: all of it by default, or what `mode` ('l', 'f', …) says is due. */
  async flush(opts: { mode?: string; timeoutMs?: number } = {}): Promise<void> {
    const deadline = this.#ch.deadline(opts.timeoutMs);
    await this.#ch.enter(this.#ch.w, deadline);
    const mode = opts.mode === undefined ? 'n' : parseOutput(opts.mode, this.#cfg.outMode).flush;
    await this.#flushUpTo(this.#out.due(mode, this.#cfg.outBufsiz, this.#cfg.outMaxline), deadline, 'flush');
  }

  /** Writes `bits` bits of value (big-endian, two's complement for negatives); whole bytes go out. */
  async pack(value: number | bigint, bits = 32): Promise<void> {
    if (!Number.isInteger(bits) || bits < 1 || bits > 1024) throw outOfRange('bits', 'an integer from 1 to 1024', bits);
    if (typeof value !== 'bigint' && typeof value !== 'number') throw invalidArgType('value', 'a number or a bigint', value);
    this.#out.append(this.#bitsOut.put(value, bits), false);
    const due = this.#out.due(this.#cfg.outMode.flush === 'l' ? 'f' : this.#cfg.outMode.flush, this.#cfg.outBufsiz, this.#cfg.outMaxline);
    if (due > 0) await this.#flushUpTo(due, this.#ch.deadline(undefined), 'pack');
  }

  #bytes(c: string | Uint8Array | number): Uint8Array {
    if (typeof c === 'string') return Buffer.from(c, this.#cfg.encoding);
    if (typeof c === 'number') return Buffer.from(String(c));
    if (c instanceof Uint8Array) return c;
    throw invalidArgType('chunk', 'a string, a Uint8Array or a number', c);
  }

  /** Writes until `target` bytes of the buffer went out, waiting for writability as needed. */
  async #flushUpTo(target: number, deadline: number, op: string): Promise<void> {
    // NB: another writer may flush meanwhile: never aim past what is still buffered. Over TLS, written
    // means the ciphertext too.
    while ((target = Math.min(target, this.#out.length)) > 0 || (this.#tls !== undefined && this.#tls.queued() > 0)) {
      if (this.#tls?.done === false) await this.#ch.settled(deadline, op); // as in #fill
      const n = this.#flushNow(target);
      if (n < 0) {
        if (n !== EAGAIN) this.#ch.fail(this.#ch.w, this.#ioError(n, op));
        await this.#ch.wait('w', deadline, op);
        continue;
      }
      target -= n;
    }
  }

  /** One non-blocking write of up to `limit` buffered bytes: bytes written, or -errno (-EAGAIN included). */
  #flushNow(limit: number): number {
    const tls = this.#tls;
    if (this.#ch.fd < 0 || (limit <= 0 && tls === undefined)) return 0;
    if (this.#type !== SOCK_STREAM) {
      const [msg] = this.#out.slices(limit, 1);
      const n = addon.write(this.#ch.fd, msg!, 0, msg!.length);
      if (n < 0) return this.#noteWriteError(n);
      this.#out.advance(msg!.length);
      this.#ch.w.bytes += n;
      return msg!.length;
    }
    const iov = this.#out.slices(limit);
    const n =
      tls !== undefined
        ? tls.writev(iov)
        : iov.length === 1
          ? addon.write(this.#ch.fd, iov[0]!, 0, iov[0]!.length)
          : addon.writev(this.#ch.fd, iov, iov.length);
    if (n < 0) return this.#noteWriteError(n);
    this.#out.advance(n);
    this.#ch.w.bytes += n;
    return n;
  }

  /** @throws ERR_INVALID_STATE: descriptors pass beside the byte stream, which TLS owns. */
  #plain(op: string): void {
    if (this.#tlsStarted) throw new RuntimeError('ERR_INVALID_STATE', `${op} cannot pass descriptors over TLS`);
  }

  #ioError(n: number, op: string): SystemError | RuntimeError {
    return this.#tls !== undefined ? this.#tls.error(n, op) : new SystemError(n, op);
  }

  #noteWriteError(n: number): number {
    if (n === EPIPE) this.#ch.w.eof = true;
    return n === EINTR ? 0 : n;
  }

  // ---- modes and limits -------------------------------------------------------------------------------------

  /** Sets input/output modes (undefined leaves a side); returns the previous ones, as "t-p" and "tla". */
  setmode(input?: string, output?: string): [string, string] {
    return this.#cfg.setmode(input, output);
  }

  /** Encoding of read()/lines() results and of written strings. */
  setEncoding(enc: BufferEncoding): void {
    this.#cfg.setEncoding(enc);
  }

  /** Input read size and MIME chunk size / output flush unit ('f' mode); returns the previous values. */
  setbufsiz(input?: number, output?: number): [number, number] {
    return this.#cfg.setbufsiz(input, output);
  }

  /** Longest line before a line read splits / a line-mode flush cuts; returns the previous values. */
  setmaxline(input?: number, output?: number): [number, number] {
    return this.#cfg.setmaxline(input, output);
  }

  /** Sets the default timeout of blocking calls (undefined: none); returns the previous one. */
  settimeout(ms?: number): number | undefined {
    const prev = this.#ch.timeout;
    this.#ch.timeout = validateTimeout('ms', ms);
    return prev;
  }

  timeout(): number | undefined {
    return this.#ch.timeout;
  }

  /** Repeats of an unchecked sticky error allowed before ERR_UNCHECKED_ERRORS (default 100); returns the previous. */
  setmaxerrs(n: number, which: 'r' | 'w' | 'rw' = 'rw'): number {
    return this.#ch.setmaxerrs(n, which);
  }

  /** The sticky error of a side ('r' by default, then 'w'). */
  error(which: 'r' | 'w' = 'r'): SystemError | RuntimeError | undefined {
    return (which === 'w' ? this.#ch.w : this.#ch.r).error as SystemError | undefined;
  }

  /** Clears sticky errors and their repeat counters. */
  clearerr(which: 'r' | 'w' | 'rw' = 'rw'): void {
    this.#ch.clearerr(which);
  }

  /** Whether EOF was seen on input ('r') / EPIPE on output ('w'). */
  eof(which: 'r' | 'w' = 'r'): boolean {
    return which === 'w' ? this.#ch.w.eof : this.#ch.r.eof;
  }

  /** Bytes waiting in the user-space buffers. */
  pending(): { input: number; output: number } {
    return { input: this.#in.length, output: this.#out.length };
  }

  stats(): { sent: { bytes: number; eof: boolean }; rcvd: { bytes: number; eof: boolean } } {
    return { sent: { bytes: this.#ch.w.bytes, eof: this.#ch.w.eof }, rcvd: { bytes: this.#ch.r.bytes, eof: this.#ch.r.eof } };
  }

  // ---- descriptor passing -----------------------------------------------------------------------------------

  /**
   * Sends a message with a descriptor (SCM_RIGHTS) on a unix socket. A Socket moves: its unread input,
   * unflushed output, modes, timeout and encoding go along, and this process's handle is closed once sent
   * (later use: ERR_HANDLE_TRANSFERRED). A plain fd number is duplicated to the receiver and stays open here.
   */
  async sendfd(message: string | Uint8Array, handle: Socket | number, timeoutMs?: number): Promise<void> {
    const ch = this.#ch;
    const deadline = ch.deadline(timeoutMs);
    await ch.enter(ch.w, deadline);
    this.#plain('sendfd');
    // Whatever was written before goes first, in order.
    await this.#flushUpTo(this.#out.length, deadline, 'sendfd');
    const msg = typeof message === 'string' ? Buffer.from(message, this.#cfg.encoding) : message;
    let frame: Buffer;
    let fd: number;
    if (handle instanceof Socket) {
      if (handle === this) throw invalidArgType('handle', 'another socket', handle);
      // A socket still connecting moves once connected; its failure is its own, not this channel's.
      await handle.#ch.settled(deadline);
      fd = handle.#ch.fd;
      const st = handle.#snapshot();
      frame = encodeFrame(st.state, st.input, st.output, msg);
    } else if (Number.isInteger(handle) && handle >= 0) {
      fd = handle;
      frame = encodeFrame(null, EMPTY, EMPTY, msg);
    } else {
      throw invalidArgType('handle', 'a Socket or a file descriptor', handle);
    }
    const sent = await sendWithFds(ch, frame, Int32Array.of(fd), deadline);
    // NB: the fd is in flight now: a moved socket's handle closes here, whatever happens to the rest.
    if (handle instanceof Socket) handle.#ch.close(true);
    ch.w.bytes += sent;
    if (sent < frame.length) {
      this.#out.append(frame.subarray(sent), false);
      await this.#flushUpTo(this.#out.length, deadline, 'sendfd');
    }
  }

  /**
   * Receives a message and a descriptor sent with sendfd (or any SCM_RIGHTS sender). Bypasses the input
   * buffer, as the original. A moved socket arrives with its state; a plain descriptor arrives as a Socket
   * too; socket is null when the message carried none.
   * @throws SystemError ENOBUFS when control data was truncated (what did arrive is closed), ETIMEDOUT.
   */
  async recvfd(timeoutMs?: number): Promise<{ message: Buffer; socket: Socket | null }> {
    const ch = this.#ch;
    const deadline = ch.deadline(timeoutMs);
    await ch.enter(ch.r, deadline);
    this.#plain('recvfd');
    const { data, fd, framed } = await recvWithFd(ch, this.#cfg.inBufsiz, deadline);
    const opts = { controller: ch.ctl };
    try {
      if (!framed) return { message: data, socket: fd >= 0 ? Socket.fdopen(fd, opts) : null };
      const f = decodeFrame(data);
      const message = Buffer.from(f.message);
      if (fd < 0) return { message, socket: null };
      return { message, socket: f.state === null ? Socket.fdopen(fd, opts) : Socket.#restore(fd, f.state, f.input, f.output, opts) };
    } catch (err) {
      if (fd >= 0) addon.close(fd);
      throw err;
    }
  }

  // ---- names and credentials --------------------------------------------------------------------------------

  /** The peer's address, or undefined when not connected. */
  peername(): SockAddr | undefined {
    return this.#ch.name(true);
  }

  /** The local address, or undefined. */
  localname(): SockAddr | undefined {
    return this.#ch.name(false);
  }

  /** Credentials of a unix socket peer. @throws SystemError (ENOTSOCK, EINVAL on other families) */
  peereid(): { uid: number; gid: number } {
    const [, uid, gid] = this.#ch.peerCred();
    return { uid: uid!, gid: gid! };
  }

  /** Process id of a unix socket peer. */
  peerpid(): number {
    return this.#ch.peerCred()[0]!;
  }

  // ---- shutdown and close -----------------------------------------------------------------------------------

  /** Half-closes ('w' flushes buffered output first, as far as the kernel takes it now). */
  shutdown(how: 'r' | 'w' | 'rw' = 'rw'): void {
    this.#ch.usable();
    if (how !== 'r' && how !== 'w' && how !== 'rw') throw invalidArgType('how', "'r', 'w' or 'rw'", how);
    if (this.#ch.fd < 0) return;
    const C = addon.constants;
    if (how !== 'r') {
      this.#flushNow(this.#out.length);
      this.#tls?.shutdown(this.#out.length); // close_notify, unless output is cut short
    }
    check(addon.shutdown(this.#ch.fd, how === 'r' ? C.SHUT_RD! : how === 'w' ? C.SHUT_WR! : C.SHUT_RDWR!), 'shutdown');
    if (how !== 'w') this.#in.eof = true;
  }

  /**
   * Closes the socket: buffered output is written out first as far as the kernel takes it without waiting;
   * tasks blocked on the socket wake and their calls reject with ERR_HANDLE_CLOSED. Idempotent.
   */
  close(): void {
    if (this.#ch.closed) return;
    this.#flushNow(this.#out.length);
    this.#tls?.shutdown(this.#out.length);
    this.destroy();
  }

  /** Closes at once, dropping buffered output. Idempotent. */
  destroy(): void {
    if (this.#ch.closed) return;
    this.#out.clear();
    this.#tls?.free();
    this.#ch.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  /** True once closed or moved to another thread. */
  get closed(): boolean {
    return this.#ch.closed;
  }

  // ---- pollable ---------------------------------------------------------------------------------------------

  /** The descriptor, or a condition while it is still being resolved and connected. */
  pollfd(): number | Condition | undefined {
    if (this.#ch.closed) return undefined;
    return this.#ch.fd >= 0 ? this.#ch.fd : this.#ch.ready;
  }

  /** What the last operation that had to wait waited for. */
  events(): 'r' | 'w' | 'rw' | '' {
    return this.#ch.events;
  }

  get type(): SocketType {
    return typeName(this.#type);
  }

  // ---- internals --------------------------------------------------------------------------------------------

  /** A moving socket's state and buffered bytes (copies; the socket is untouched until it is sent). */
  #snapshot(): { state: TransferState; input: Buffer; output: Buffer } {
    Socket.movable(this);
    const state: TransferState = { ...this.#cfg.toState(), type: this.#type, timeout: this.#ch.timeout ?? null, eof: this.#in.eof };
    return { state, input: Buffer.from(this.#in.peek()), output: this.#out.drainCopy() };
  }

  /**
   * @internal Throws ERR_TLS_SOCKET_NOT_MOVABLE for a socket with TLS (started or starting): the OpenSSL
   * state of a connection cannot follow its descriptor to another thread.
   */
  static movable(s: Socket): void {
    if (s.#tlsStarted) throw new RuntimeError('ERR_TLS_SOCKET_NOT_MOVABLE', 'a socket with TLS cannot move to another thread or to Node');
  }

  /** Gives the socket up to move it by hand: its fd (no longer owned by this thread) and state, cloneable. */
  static detach(s: Socket): Detached {
    s.#ch.usable();
    const snap = s.#snapshot();
    return { ...snap, fd: s.#ch.release() };
  }

  /** Continues a detached socket in this thread, which owns its fd from here (an unattached record leaks it). */
  static attach(d: Detached, opts: SocketOptions = {}): Socket {
    return Socket.#restore(d.fd, d.state, d.input, d.output, opts);
  }

  /** A socket that continues where another thread's stopped. */
  static #restore(fd: number, state: TransferState, input: Uint8Array, output: Uint8Array, opts: SocketOptions): Socket {
    const s = new Socket(fd, state.type, { ...opts, timeoutMs: state.timeout ?? undefined });
    s.#cfg.apply(state);
    if (input.length > 0) s.#in.append(input);
    s.#in.eof = state.eof;
    if (output.length > 0) s.#out.append(output, false);
    return s;
  }
}

/** A socket between threads (Socket.detach / Socket.attach): structured-cloneable. */
export interface Detached {
  fd: number;
  state: TransferState;
  input: Uint8Array;
  output: Uint8Array;
}
