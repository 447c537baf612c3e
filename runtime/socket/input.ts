// The socket's input buffer and cqueues' read formats over it: lines, headers, MIME parts, counts, RegExps.
import { RuntimeError } from '../errors.js';

/** A read format, as API.md: '*l' '*L' '*a' '*h' '*H' '--boundary', n > 0, n < 0, 0, or a RegExp. */
export type Format = '*l' | '*L' | '*a' | '*h' | '*H' | `--${string}` | number | RegExp;

/** What a format needs from the buffer before it can answer. */
export const NEED_MORE = Symbol('need more input');

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const HT = 0x09;
const COLON = 0x3a;

/** Options that shape how formats read: text mode, the line limit and the MIME chunk size. */
export interface ReadShape {
  text: boolean;
  maxline: number;
  bufsiz: number;
}

/**
 * Buffered input bytes with an EOF mark and, for datagram sockets, message boundaries. Formats look at the
 * buffered bytes and either take a result (consuming what it covers) or report NEED_MORE; they never
 * consume anything when they cannot answer, so a timed-out read keeps its partial data (as the original).
 *
 * NB: counts and limits are in bytes of the stream (after CRLF translation in text mode), as in the
 * original, where strings are byte strings. read() decodes the bytes of a result afterwards.
 */
export class InputBuffer {
  #buf: Buffer;
  #start = 0;
  #end = 0;
  /** Input ended (EOF seen, or shut down for reading). */
  eof = false;
  /** Datagram mode: each message ends like an EOF; boundaries are message lengths, oldest first. */
  readonly #messages: number[] | undefined;
  #barrier: number | undefined;
  // A MIME part chunk ended in mid-line: a boundary right after it is not at the start of a line.
  #midLine = false;

  constructor(opts: { datagram?: boolean; capacity?: number } = {}) {
    // NB: by default no storage until the first read: a socket moved or closed unread allocates none.
    this.#buf = opts.capacity ? Buffer.allocUnsafe(opts.capacity) : EMPTY;
    this.#messages = opts.datagram ? [] : undefined;
  }

  /** Bytes buffered. */
  get length(): number {
    return this.#end - this.#start;
  }

  get datagram(): boolean {
    return this.#messages !== undefined;
  }

  /** A view of the buffered bytes (valid until the buffer changes). */
  peek(): Buffer {
    return this.#buf.subarray(this.#start, this.#end);
  }

  /** Space to read into: at least `min` free bytes at the tail. Call commit(n) after reading n bytes. */
  reserve(min: number): { buf: Buffer; off: number; len: number } {
    if (this.#buf.length - this.#end < min) this.#grow(min);
    return { buf: this.#buf, off: this.#end, len: this.#buf.length - this.#end };
  }

  /** Adds n bytes just read into the reserved space; for datagrams, they are one message. */
  commit(n: number): void {
    this.#end += n;
    this.#messages?.push(n);
  }

  /** Appends bytes (also used to seed a socket that arrived with unread input). */
  append(data: Uint8Array): void {
    const r = this.reserve(data.length);
    r.buf.set(data, r.off);
    this.commit(data.length);
  }

  /** Puts data back in front of the buffer and clears the EOF mark. */
  unget(data: Uint8Array): void {
    if (data.length === 0) return;
    if (this.#start >= data.length) {
      this.#start -= data.length;
      this.#buf.set(data, this.#start);
    } else {
      const rest = this.peek();
      const next = Buffer.allocUnsafe(Math.max(this.#buf.length, data.length + rest.length + 1024));
      next.set(data, 0);
      next.set(rest, data.length);
      this.#buf = next;
      this.#start = 0;
      this.#end = data.length + rest.length;
    }
    if (this.#messages !== undefined) this.#messages.unshift(data.length);
    if (this.#barrier !== undefined) this.#barrier += data.length;
    this.eof = false;
  }

  /** Removes and returns the first n buffered bytes (a copy). */
  take(n: number): Buffer {
    const out = Buffer.from(this.#buf.subarray(this.#start, this.#start + n));
    this.#consume(n);
    return out;
  }

  /** Sets a read barrier n bytes ahead (null clears it): reads stop there and report EOF until reset. */
  setBarrier(n: number | null): void {
    this.#barrier = n === null ? undefined : n;
  }

  /** Bytes a format may look at: up to the barrier, or the current datagram. */
  #limit(): number {
    let n = this.#end - this.#start;
    if (this.#messages !== undefined && this.#messages.length > 0) n = Math.min(n, this.#messages[0]!);
    if (this.#barrier !== undefined) n = Math.min(n, this.#barrier);
    return n;
  }

  /** True when the visible bytes end in a way no later input can extend: EOF, a barrier or a datagram. */
  #ended(visible: number): boolean {
    if (this.#barrier !== undefined && visible >= this.#barrier) return true;
    if (this.#messages !== undefined && this.#messages.length > 0) return true;
    return this.eof;
  }

  /** At the barrier (or EOF with nothing left): reads return null. */
  atEnd(): boolean {
    if (this.#barrier !== undefined && this.#barrier === 0) return true;
    return this.eof && this.length === 0;
  }

  #consume(n: number): void {
    this.#start += n;
    if (this.#barrier !== undefined) this.#barrier -= n;
    const ms = this.#messages;
    if (ms !== undefined) {
      while (n > 0 && ms.length > 0) {
        const m = ms[0]!;
        if (m <= n) {
          ms.shift();
          n -= m;
        } else {
          ms[0] = m - n;
          n = 0;
        }
      }
    }
    if (this.#start === this.#end) this.#start = this.#end = 0;
  }

  /** Drops what remains of the current datagram (a read that took only part of it). */
  endMessage(): void {
    const ms = this.#messages;
    if (ms === undefined || ms.length === 0) return;
    this.#consume(ms[0]!);
  }

  #grow(min: number): void {
    const live = this.#end - this.#start;
    if (this.#start > 0 && this.#buf.length - live >= min) {
      this.#buf.copy(this.#buf, 0, this.#start, this.#end);
    } else {
      const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, live + min, this.#buf.length === 0 ? 4096 : 0));
      this.#buf.copy(next, 0, this.#start, this.#end);
      this.#buf = next;
    }
    this.#start = 0;
    this.#end = live;
  }

  /**
   * Applies one format. Returns the bytes it yields, null at the end of input (EOF, the barrier, or a
   * format-specific stop such as the blank line after headers), or NEED_MORE.
   */
  read(format: Format, shape: ReadShape): Buffer | null | typeof NEED_MORE {
    if (typeof format !== 'string' || !format.startsWith('--')) this.#midLine = false;
    if (typeof format === 'number') return this.#count(format, shape);
    if (format instanceof RegExp) return this.#regexp(format, shape);
    switch (format) {
      case '*l':
        return this.#line(false, shape);
      case '*L':
        return this.#line(true, shape);
      case '*a':
        return this.#all(shape);
      case '*h':
        return this.#header(false, shape);
      case '*H':
        return this.#header(true, shape);
      default:
        return this.#boundary(format.slice(2), shape);
    }
  }

  #line(keepEol: boolean, shape: ReadShape, splitOnly = false): Buffer | null | typeof NEED_MORE {
    const n = this.#limit();
    const b = this.#buf;
    const s = this.#start;
    const scan = Math.min(n, shape.maxline);
    // NB: indexOf from an offset, bounded afterwards: no view allocated per line.
    const at = splitOnly || scan === 0 ? -1 : b.indexOf(LF, s);
    const nl = at >= 0 && at < s + scan ? at - s : -1;
    if (nl >= 0) {
      let end = nl; // content end (exclusive), before any EOL
      if (shape.text && nl > 0 && b[s + nl - 1] === CR) end = nl - 1;
      let out: Buffer;
      if (!keepEol) out = Buffer.from(b.subarray(s, s + end));
      else if (!shape.text || end === nl) out = Buffer.from(b.subarray(s, s + nl + 1));
      else out = concat(b.subarray(s, s + end), LF_BUF);
      this.#consume(nl + 1);
      return out;
    }
    if (n >= shape.maxline) {
      // No EOL within maxline: hand out maxline bytes as a line of their own (the original's split).
      let take = shape.maxline;
      // Never split a CRLF in text mode: keep the CR for the next read.
      if (shape.text && take > 1 && b[s + take - 1] === CR) take--;
      return this.#takeMessage(take, shape.text);
    }
    if (!this.#ended(n)) return NEED_MORE;
    if (n === 0) return null;
    return this.#takeMessage(n, shape.text);
  }

  #all(shape: ReadShape): Buffer | null | typeof NEED_MORE {
    const n = this.#limit();
    if (!this.#ended(n)) return NEED_MORE;
    if (n === 0) {
      if (this.#messages !== undefined && this.#messages.length > 0) this.#messages.shift(); // empty datagram
      return null;
    }
    return this.#takeMessage(n, shape.text);
  }

  /** Takes n visible bytes, translated, and ends the datagram they belong to. */
  #takeMessage(n: number, text: boolean): Buffer {
    const raw = this.#buf.subarray(this.#start, this.#start + n);
    const out = text ? crlfToLf(raw) : Buffer.from(raw);
    this.#consume(n);
    return out;
  }

  #count(want: number, shape: ReadShape): Buffer | null | typeof NEED_MORE {
    if (want === 0) return Buffer.alloc(0);
    const n = this.#limit();
    const ended = this.#ended(n);
    const upTo = want > 0 ? want : -want;
    if (n === 0) return ended ? null : NEED_MORE;
    const b = this.#buf;
    const s = this.#start;
    if (!shape.text) {
      if (want > 0 && n < upTo && !ended) return NEED_MORE;
      return this.take(Math.min(n, upTo));
    }
    // Text mode: count translated characters; a CR at the end of what is there may be half a CRLF.
    const out: number[] = [];
    let k = 0;
    while (k < n && out.length < upTo) {
      const c = b[s + k]!;
      if (c === CR) {
        if (k + 1 < n) {
          if (b[s + k + 1] === LF) {
            out.push(LF);
            k += 2;
            continue;
          }
        } else if (!ended) {
          break; // held back until the next byte shows whether it is a CRLF
        }
      }
      out.push(c);
      k++;
    }
    if (want > 0 && out.length < upTo && !ended) return NEED_MORE;
    if (out.length === 0) return ended ? null : NEED_MORE;
    this.#consume(k);
    return Buffer.from(out);
  }

  #header(raw: boolean, shape: ReadShape): Buffer | null | typeof NEED_MORE {
    const n = this.#limit();
    const b = this.#buf;
    const s = this.#start;
    const ended = this.#ended(n);
    // The blank line that ends the headers: not consumed.
    if (n === 0) return ended ? null : NEED_MORE;
    if (b[s] === LF || (b[s] === CR && n > 1 && b[s + 1] === LF)) return null;
    if (b[s] === CR && n === 1) return ended ? null : NEED_MORE;
    // A field name: one or more chars other than blanks, ':' and controls, then optional blanks, then ':'.
    let k = 0;
    while (k < n && b[s + k]! > SP && b[s + k] !== COLON && b[s + k]! < 0x7f) k++;
    if (k === n) return ended || n > shape.maxline ? null : NEED_MORE;
    if (k === 0) return null;
    while (k < n && (b[s + k] === SP || b[s + k] === HT)) k++;
    if (k === n) return ended ? null : NEED_MORE;
    if (b[s + k] !== COLON) return null; // not a header: "GET / HTTP/1.1"
    // The field ends at an LF not followed by a continuation blank.
    for (;;) {
      const nl = b.subarray(s + k, s + n).indexOf(LF);
      if (nl < 0) return ended || n > shape.maxline ? null : NEED_MORE;
      const after = k + nl + 1;
      if (after > shape.maxline) return null;
      if (after === n) {
        if (!ended) return NEED_MORE;
        return null; // terminated only by EOF: not a valid header end, left in the buffer
      }
      const next = b[s + after];
      if (next === SP || next === HT) {
        k = after;
        continue;
      }
      const field = b.subarray(s, s + after);
      this.#consume(after);
      if (raw) return shape.text ? crlfToLf(field) : Buffer.from(field);
      return unfold(field);
    }
  }

  #boundary(marker: string, shape: ReadShape): Buffer | null | typeof NEED_MORE {
    const n = this.#limit();
    const b = this.#buf;
    const s = this.#start;
    const ended = this.#ended(n);
    const dash = Buffer.from(`--${marker}`);
    const view = b.subarray(s, s + n);
    if (n === 0) return ended ? null : NEED_MORE;
    // NB: a boundary counts only at the start of a line. The start of the buffer is one unless the
    // previous part chunk ended in mid-line (#midLine), so the answer never depends on how bytes arrive.
    if (!this.#midLine) {
      if (startsWith(view, dash)) return null; // the part is over; the boundary is not consumed
      if (!ended && n < dash.length && dash.subarray(0, n).equals(view)) return NEED_MORE;
    }
    const at = view.indexOf(Buffer.concat([LF_BUF, dash]));
    // The original clamps the chunk size to at least 2, so a CR can always be held back and progress made.
    const chunk = Math.max(2, shape.bufsiz, shape.text ? shape.maxline : 0);
    if (at >= 0) {
      // Up to the boundary, without the EOL before it (stripped whatever the mode).
      const end = at > 0 && view[at - 1] === CR ? at - 1 : at;
      if (end <= chunk) return this.#part(view, end, at + 1, shape.text, false);
    }
    if (ended && at < 0) {
      this.#midLine = false;
      return this.#takeMessage(n, shape.text);
    }
    // No boundary (yet) within reach: hand out a chunk, keeping back what could be the start of one
    // (an EOL and the marker).
    let take = Math.min(chunk, at >= 0 ? at : ended ? n : n - (dash.length + 2));
    if (take <= 0) return NEED_MORE;
    if (shape.text) {
      const nl = view.subarray(0, take).lastIndexOf(LF);
      if (nl >= 0) take = nl + 1;
    }
    // Never end a chunk on half a CRLF: drop the CR, or take the whole CRLF when the CR is all there is
    // (the keep-back above guarantees no boundary follows it).
    if (view[take - 1] === CR && take < n) {
      if (take > 1) take--;
      else if (view[1] === LF) take = 2;
    }
    return this.#part(view, take, take, shape.text, view[take - 1] !== LF);
  }

  /** A part chunk: `len` bytes of view (translated in text mode), consuming `used`. */
  #part(view: Buffer, len: number, used: number, text: boolean, midLine: boolean): Buffer {
    const raw = view.subarray(0, len);
    const out = text ? crlfToLf(raw) : Buffer.from(raw);
    this.#consume(used);
    this.#midLine = midLine;
    return out;
  }

  #regexp(re: RegExp, shape: ReadShape): Buffer | null | typeof NEED_MORE {
    const n = this.#limit();
    const ended = this.#ended(n);
    if (n === 0) return ended ? null : NEED_MORE;
    // Searched: the first maxline bytes, as a line read; in text mode their translation, without a CR
    // at the end that may yet turn out to start a CRLF.
    let raw = this.#buf.subarray(this.#start, this.#start + Math.min(n, shape.maxline));
    if (shape.text && !ended && raw.length === n && raw[raw.length - 1] === CR) raw = raw.subarray(0, raw.length - 1);
    const seen = shape.text ? crlfToLf(raw) : raw;
    // latin1 maps bytes to chars one to one, so match offsets are byte offsets of `seen`.
    const m = searchable(re).exec(seen.toString('latin1'));
    if (m !== null && m.index + m[0].length > 0) {
      const end = m.index + m[0].length;
      const out = Buffer.from(seen.subarray(0, end));
      this.#consume(shape.text ? rawLength(raw, end) : end);
      return out;
    }
    if (n >= shape.maxline) return this.#line(false, shape, true);
    if (!ended) return NEED_MORE;
    return this.#takeMessage(n, shape.text);
  }
}

const LF_BUF = Buffer.from([LF]);
const EMPTY = Buffer.alloc(0);

function concat(a: Uint8Array, b: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function startsWith(view: Buffer, prefix: Buffer): boolean {
  return view.length >= prefix.length && view.subarray(0, prefix.length).equals(prefix);
}

// The format's RegExp without the g and y flags (which would make exec stateful), compiled once.
const SEARCHABLE = new WeakMap<RegExp, RegExp>();
function searchable(re: RegExp): RegExp {
  let s = SEARCHABLE.get(re);
  if (s === undefined) SEARCHABLE.set(re, (s = re.global || re.sticky ? new RegExp(re.source, re.flags.replace(/[gy]/g, '')) : re));
  return s;
}

/** How many raw bytes translate to the first `chars` bytes of crlfToLf(raw). */
function rawLength(raw: Uint8Array, chars: number): number {
  let k = 0;
  for (let c = 0; c < chars; c++) k += raw[k] === CR && raw[k + 1] === LF ? 2 : 1;
  return k;
}

/** CRLF -> LF; lone CRs stay. */
export function crlfToLf(raw: Uint8Array): Buffer {
  let crlf = 0;
  for (let k = 0; k + 1 < raw.length; k++) if (raw[k] === CR && raw[k + 1] === LF) crlf++;
  if (crlf === 0) return Buffer.from(raw);
  const out = Buffer.allocUnsafe(raw.length - crlf);
  let o = 0;
  for (let k = 0; k < raw.length; k++) {
    if (raw[k] === CR && k + 1 < raw.length && raw[k + 1] === LF) continue;
    out[o++] = raw[k]!;
  }
  return out;
}

/** A header field with every EOL removed; continuation blanks stay ("Foo: bar\r\n baz" -> "Foo: bar baz"). */
function unfold(field: Uint8Array): Buffer {
  const out: number[] = [];
  for (let k = 0; k < field.length; k++) {
    const c = field[k]!;
    if (c === LF || (c === CR && field[k + 1] === LF)) continue;
    out.push(c);
  }
  return Buffer.from(out);
}

/** @throws RuntimeError ERR_INVALID_FORMAT for anything that is not a Format. */
export function checkFormat(f: unknown): void {
  if (typeof f === 'number') {
    if (!Number.isInteger(f)) throw formatError(f);
    return;
  }
  if (f instanceof RegExp) return;
  if (f === '*l' || f === '*L' || f === '*a' || f === '*h' || f === '*H') return;
  if (typeof f === 'string' && f.startsWith('--') && f.length > 2) return;
  throw formatError(f);
}

function formatError(f: unknown): RuntimeError {
  return new RuntimeError('ERR_INVALID_FORMAT', `invalid read format ${typeof f === 'string' ? `'${f}'` : String(f)}`);
}

