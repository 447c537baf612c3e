// The socket's output buffer: text-mode EOL translation and the none/line/full flush policies.

const LF = 0x0a;
const CR = 0x0d;

/** Output flush policy: 'n' everything at once, 'l' through the last newline, 'f' whole buffers. */
export type FlushMode = 'n' | 'l' | 'f';

/**
 * Bytes waiting to be written, as a queue of chunks. Text mode turns LF into CRLF, except where the LF
 * already follows a CR (troupe's deviation: the original doubled an existing CRLF).
 */
export class OutputBuffer {
  #chunks: Buffer[] = [];
  #head = 0; // bytes of chunks[0] already written
  #bytes = 0;
  #lastByte = -1; // the last byte appended, to see a CRLF split across writes

  get length(): number {
    return this.#bytes;
  }

  /**
   * Appends data, translating LF -> CRLF in text mode. The bytes are copied (the caller may reuse its
   * buffer once write() returns) unless `owned` says nobody else holds them.
   */
  append(data: Uint8Array, text: boolean, owned = false): void {
    if (data.length === 0) return;
    const out = text ? lfToCrlf(data, this.#lastByte) : owned ? toBuffer(data) : Buffer.from(data);
    this.#lastByte = data[data.length - 1]!;
    this.#chunks.push(out);
    this.#bytes += out.length;
  }

  /** How many bytes the flush policy wants written now. */
  due(mode: FlushMode, bufsiz: number, maxline: number): number {
    if (this.#bytes === 0) return 0;
    if (mode === 'n') return this.#bytes;
    if (mode === 'f') return bufsiz > 0 && Number.isFinite(bufsiz) ? this.#bytes - (this.#bytes % bufsiz) : 0;
    // Line mode: through the last LF; without one, maxline bytes once that much is waiting.
    let seen = 0;
    let last = -1;
    for (let k = 0; k < this.#chunks.length; k++) {
      const c = k === 0 ? this.#chunks[0]!.subarray(this.#head) : this.#chunks[k]!;
      const nl = c.lastIndexOf(LF);
      if (nl >= 0) last = seen + nl + 1;
      seen += c.length;
    }
    if (last > 0) return last;
    return this.#bytes >= maxline ? maxline : 0;
  }

  /** The first bytes to write, at most `limit`, as a list for writev (views, not copies). */
  slices(limit: number, max = 64): Buffer[] {
    const out: Buffer[] = [];
    let left = limit;
    for (let k = 0; k < this.#chunks.length && left > 0 && out.length < max; k++) {
      let c = k === 0 ? this.#chunks[0]!.subarray(this.#head) : this.#chunks[k]!;
      if (c.length > left) c = c.subarray(0, left);
      out.push(c);
      left -= c.length;
    }
    return out;
  }

  /** Drops n written bytes from the front. */
  advance(n: number): void {
    this.#bytes -= n;
    while (n > 0) {
      const c = this.#chunks[0]!;
      const rest = c.length - this.#head;
      if (n < rest) {
        this.#head += n;
        return;
      }
      n -= rest;
      this.#chunks.shift();
      this.#head = 0;
    }
  }

  /** A copy of everything buffered, which stays (a socket moving to another thread takes it along). */
  drainCopy(): Buffer {
    return Buffer.concat(this.slices(this.#bytes, Infinity));
  }

  /** Forgets everything buffered (destroy). */
  clear(): void {
    this.#chunks = [];
    this.#head = 0;
    this.#bytes = 0;
  }
}

function toBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.length);
}

/** LF -> CRLF unless the LF already follows a CR (also across appends, through `prev`). */
export function lfToCrlf(data: Uint8Array, prev = -1): Buffer {
  let add = 0;
  for (let k = 0; k < data.length; k++) {
    if (data[k] === LF && (k > 0 ? data[k - 1] : prev) !== CR) add++;
  }
  if (add === 0) return Buffer.from(data);
  const out = Buffer.allocUnsafe(data.length + add);
  let o = 0;
  for (let k = 0; k < data.length; k++) {
    const c = data[k]!;
    if (c === LF && (k > 0 ? data[k - 1] : prev) !== CR) out[o++] = CR;
    out[o++] = c;
  }
  return out;
}
