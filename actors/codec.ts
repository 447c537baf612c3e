// The actors' wire codec: length-prefixed frames, the hot envelopes (send, ask, reply) with a fixed binary
// header and a msgpackr payload, the others as msgpackr arrays; errors keep their class and codes.
// NB: msgpackr comes in through 'msgpackr/pack', which leaves its native string extractor out: one native
// call per frame costs more than decoding a small message's strings in JS.
import { Packr, RESET_BUFFER_MODE, REUSE_BUFFER_MODE, addExtension } from 'msgpackr/pack';
import { RuntimeError, errorFromWire, errorToWire, type WireError } from 'troupe';

/** Largest frame a decoder accepts (a length past it means a corrupt or hostile channel). */
export const MAX_FRAME = 64 * 1024 * 1024;
const LEN = 4;
// NB: msgpackr's extensions are process-wide; this type number is troupe's for Error and its subclasses.
const ERROR_EXT = 0x45;
// Payloads up to this size are copied byte by byte: cheaper than Buffer#copy's view for a few bytes.
const SMALL = 48;

/**
 * Frame kinds: the byte after the length. 0 is a msgpack envelope array; the others carry their fields in
 * a fixed header (big-endian u32s) before the msgpack payload, so that neither side builds an array.
 */
export const enum F {
  ENVELOPE = 0,
  /** serial, gen, then the message */
  SEND = 1,
  /** serial, gen, ask id, then the message */
  ASK = 2,
  /** ask id, ok (one byte), then the value */
  REPLY = 3,
  /** The encoder started over (its record definitions are void from here): the decoder does the same. */
  RESET = 4,
}

/** Where a decoder puts what it decodes, frame by frame. */
export interface FrameSink {
  send(serial: number, gen: number, msg: unknown): void;
  ask(serial: number, gen: number, id: number, msg: unknown): void;
  reply(id: number, ok: boolean, value: unknown): void;
  envelope(env: unknown): void;
}

let registered = false;
function packr(): Packr {
  if (!registered) {
    registered = true;
    addExtension({ Class: Error, type: ERROR_EXT, write: (e: Error) => errorToWire(e), read: (w: WireError) => errorFromWire(w) });
  }
  // Plain maps and no shared record structures: each frame decodes on its own, in any thread.
  // NB: sequential records: an object shape is defined inline the first time a channel carries it, and
  // later objects of that shape are sent as a record number and their values. A channel's frames are
  // decoded in order by one decoder, which learns the definitions as they come (see F.RESET).
  // copyBuffers: decoded binary values never alias the bytes read, so the wire can lend its read buffer.
  return new Packr({ sequential: true, useBigIntExtension: true, copyBuffers: true });
}

const isU32 = (x: number): boolean => x >>> 0 === x;
// Header bytes by kind, the kind byte included.
const HEAD = [1, 9, 13, 6, 1];

/**
 * Encodes envelopes as frames into one growing batch buffer, so a turn's messages leave in one write.
 * Every append either adds its whole frame or (msgpackr cannot encode the value) throws with the batch
 * unchanged.
 */
export class FrameEncoder {
  #packr = packr();
  #batch: Buffer = Buffer.allocUnsafe(64 * 1024);
  #len = 0;

  /** Bytes in the batch. */
  get batched(): number {
    return this.#len;
  }

  /** An envelope array (any kind) as a msgpack frame. */
  append(env: unknown): void {
    this.#frame(F.ENVELOPE, 0, 0, 0, env);
  }

  appendSend(serial: number, gen: number, msg: unknown): void {
    if (isU32(serial) && isU32(gen)) this.#frame(F.SEND, serial, gen, 0, msg);
    else this.append([F.SEND, serial, gen, msg]);
  }

  appendAsk(serial: number, gen: number, id: number, msg: unknown): void {
    if (isU32(serial) && isU32(gen) && isU32(id)) this.#frame(F.ASK, serial, gen, id, msg);
    else this.append([F.ASK, serial, gen, msg, id]);
  }

  appendReply(id: number, ok: boolean, value: unknown): void {
    if (isU32(id)) this.#frame(F.REPLY, id, ok ? 1 : 0, 0, value);
    else this.append([F.REPLY, id, ok ? 1 : 0, value]);
  }

  /** Many envelopes as consecutive frames in one new buffer. */
  encodeAll(envs: readonly unknown[]): Buffer {
    for (const e of envs) this.append(e);
    const out = Buffer.from(this.#batch.subarray(0, this.#len));
    this.#len = 0;
    return out;
  }

  /**
   * Hands the batch to `write`: the first `length` bytes of `buf` (the encoder's buffer, lent). write
   * returns true when it is done with them (they may be reused) and false when it keeps them (the encoder
   * starts a new buffer).
   */
  flush(write: (buf: Buffer, length: number) => boolean): void {
    const len = this.#len;
    if (len === 0) return;
    this.#len = 0;
    if (!write(this.#batch, len)) this.#batch = Buffer.allocUnsafe(this.#batch.length);
  }

  #frame(kind: F, a: number, b: number, c: number, value: unknown): void {
    if (typeof value === 'number' && value >>> 0 === value) return this.#uint(kind, a, b, c, value);
    // NB: REUSE_BUFFER_MODE returns msgpackr's own buffer with start/end (no view per message), and
    // RESET_BUFFER_MODE has the next pack write at the same place: the payload is copied out below, before
    // anything else packs.
    let t: Buffer & { start: number; end: number };
    try {
      t = this.#packr.pack(value, REUSE_BUFFER_MODE | RESET_BUFFER_MODE) as Buffer & { start: number; end: number };
    } catch (err) {
      // A failed pack may have defined records the decoder will never see: both sides start over.
      this.#packr = packr();
      const p = this.#header(F.RESET, 0, 0, 0, 1);
      this.#batch[p] = 0xc0; // nil
      throw err;
    }
    const s = t.start;
    const n = t.end - s;
    const p = this.#header(kind, a, b, c, n);
    const out = this.#batch;
    if (n <= SMALL) for (let i = 0; i < n; i++) out[p + i] = t[s + i]!;
    else t.copy(out, p, s, s + n);
  }

  /** #frame() of an unsigned 32-bit integer, encoded here as msgpack would. */
  #uint(kind: F, a: number, b: number, c: number, x: number): void {
    const p = this.#header(kind, a, b, c, x < 0x80 ? 1 : x < 0x100 ? 2 : x < 0x10000 ? 3 : 5);
    const out = this.#batch;
    if (x < 0x80) out[p] = x;
    else if (x < 0x100) {
      out[p] = 0xcc;
      out[p + 1] = x;
    } else if (x < 0x10000) {
      out[p] = 0xcd;
      out[p + 1] = x >>> 8;
      out[p + 2] = x;
    } else {
      out[p] = 0xce;
      putU32(out, p + 1, x);
    }
  }

  /** Makes room for a frame with an n-byte payload, writes its length and header; where the payload goes. */
  #header(kind: F, a: number, b: number, c: number, n: number): number {
    const body = HEAD[kind]! + n;
    if (body > MAX_FRAME) {
      throw Object.assign(new RangeError(`A message of ${n} bytes exceeds the frame limit of ${MAX_FRAME} bytes`), { code: 'ERR_OUT_OF_RANGE' });
    }
    let p = this.#len;
    const need = p + LEN + body;
    if (need > this.#batch.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.#batch.length * 2));
      this.#batch.copy(grown, 0, 0, p);
      this.#batch = grown;
    }
    const out = this.#batch;
    p = putU32(out, p, body);
    out[p++] = kind;
    if (kind === F.REPLY) {
      p = putU32(out, p, a);
      out[p++] = b;
    } else if (kind === F.SEND || kind === F.ASK) {
      p = putU32(out, p, a);
      p = putU32(out, p, b);
      if (kind === F.ASK) p = putU32(out, p, c);
    }
    this.#len = need;
    return p;
  }
}


function putU32(b: Buffer, p: number, x: number): number {
  b[p] = x >>> 24;
  b[p + 1] = x >>> 16;
  b[p + 2] = x >>> 8;
  b[p + 3] = x;
  return p + 4;
}

function getU32(b: Buffer, p: number): number {
  return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
}

/**
 * Decodes frames from a byte stream cut anywhere. A length past MAX_FRAME, an unknown kind or a payload
 * that does not decode throws ERR_INVALID_FRAME: the channel is corrupt and should be closed, the process
 * lives on.
 */
export class FrameDecoder {
  #packr = packr();
  // NB: one options object for every payload: unpack() reads the bounds from it.
  readonly #at = { start: 0, end: 0 };
  #buf: Buffer = Buffer.alloc(0);

  /** Bytes held for a frame not yet complete. */
  get pending(): number {
    return this.#buf.length;
  }

  /**
   * Adds the first `length` bytes of chunk and hands every frame now complete to `sink`, in order. chunk is
   * only read during the call (decoded values are copies; an incomplete frame's bytes are copied to wait
   * for the rest).
   * @throws RuntimeError ERR_INVALID_FRAME; what the sink throws
   */
  decode(chunk: Uint8Array, sink: FrameSink, length = chunk.length): void {
    let buf: Buffer;
    let limit = length;
    if (this.#buf.length > 0) {
      buf = Buffer.concat([this.#buf, chunk.subarray(0, length)]);
      limit = buf.length;
    } else {
      buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    }
    this.#buf = EMPTY;
    let at = 0;
    try {
      while (limit - at >= LEN) {
        const len = getU32(buf, at);
        if (len > MAX_FRAME) throw invalid(`frame length ${len} exceeds the limit of ${MAX_FRAME}`);
        if (len === 0) throw invalid('an empty frame');
        const end = at + LEN + len;
        if (end > limit) break;
        const p = at + LEN;
        at = end; // NB: before the sink runs: what it throws must not make this frame decode twice
        this.#one(buf, p, end, sink);
      }
    } finally {
      if (at < limit) this.#buf = Buffer.from(buf.subarray(at, limit));
    }
  }

  /** Adds bytes; returns every envelope now complete (hot frames as arrays). For tests and tools. */
  push(chunk: Uint8Array): unknown[] {
    const out: unknown[] = [];
    this.decode(chunk, {
      send: (serial, gen, msg) => out.push([F.SEND, serial, gen, msg]),
      ask: (serial, gen, id, msg) => out.push([F.ASK, serial, gen, msg, id]),
      reply: (id, ok, value) => out.push([F.REPLY, id, ok ? 1 : 0, value]),
      envelope: (env) => out.push(env),
    });
    return out;
  }

  #one(buf: Buffer, p: number, end: number, sink: FrameSink): void {
    const kind = buf[p]!;
    const head = HEAD[kind];
    if (head === undefined) throw invalid(`unknown frame kind ${kind}`);
    if (end - p <= head) throw invalid(`a frame of kind ${kind} without its payload`);
    const value = this.#payload(buf, p + head, end);
    if (kind === F.RESET) {
      this.#packr = packr();
      return;
    }
    switch (kind) {
      case F.ENVELOPE:
        return sink.envelope(value);
      case F.SEND:
        return sink.send(getU32(buf, p + 1), getU32(buf, p + 5), value);
      case F.ASK:
        return sink.ask(getU32(buf, p + 1), getU32(buf, p + 5), getU32(buf, p + 9), value);
      default:
        return sink.reply(getU32(buf, p + 1), buf[p + 5] === 1, value);
    }
  }

  #payload(buf: Buffer, start: number, end: number): unknown {
    // Scalars (small integers, null, booleans) without msgpackr's per-call setup; anything else, and any
    // frame whose length does not fit, goes to unpack().
    const b = buf[start]!;
    const n = end - start;
    if (n === 1) {
      if (b < 0x80 || b >= 0xe0) return b < 0x80 ? b : b - 0x100;
      if (b === 0xc0) return null;
      if (b === 0xc2 || b === 0xc3) return b === 0xc3;
    } else if (b === 0xcc && n === 2) return buf[start + 1];
    else if (b === 0xcd && n === 3) return (buf[start + 1]! << 8) | buf[start + 2]!;
    else if (b === 0xce && n === 5) return getU32(buf, start + 1);
    const at = this.#at;
    at.start = start;
    at.end = end;
    try {
      return this.#packr.unpack(buf, at);
    } catch (err) {
      throw invalid(`a payload of ${end - start} bytes does not decode`, err);
    }
  }
}

const EMPTY = Buffer.alloc(0);

function invalid(what: string, cause?: unknown): RuntimeError {
  return new RuntimeError('ERR_INVALID_FRAME', `malformed actor frame: ${what}`, cause !== undefined ? { cause } : undefined);
}
