// The actors' wire codec: length-prefixed msgpackr frames; errors keep their class and codes across threads.
import { Packr, addExtension } from 'msgpackr';
import { RuntimeError, errorFromWire, errorToWire, type WireError } from 'troupe';

/** Largest frame a decoder accepts (a length past it means a corrupt or hostile channel). */
export const MAX_FRAME = 64 * 1024 * 1024;
const HEADER = 4;
// NB: msgpackr's extensions are process-wide; this type number is troupe's for Error and its subclasses.
const ERROR_EXT = 0x45;

let registered = false;
function packr(): Packr {
  if (!registered) {
    registered = true;
    addExtension({ Class: Error, type: ERROR_EXT, write: (e: Error) => errorToWire(e), read: (w: WireError) => errorFromWire(w) });
  }
  // Plain maps and no shared record structures: each frame decodes on its own, in any thread.
  return new Packr({ useRecords: false, useBigIntExtension: true });
}

/**
 * Encodes messages as frames: a 4-byte big-endian length, then the msgpack payload. append() adds frames
 * to a batch in one growing buffer, so a turn's messages leave in one write.
 */
export class FrameEncoder {
  readonly #packr = packr();
  #batch: Buffer = Buffer.allocUnsafe(64 * 1024);
  #len = 0;

  /** Many messages as consecutive frames in one buffer: one write for all of them. */
  encodeAll(msgs: readonly unknown[]): Buffer {
    for (const m of msgs) this.append(m);
    const out = Buffer.from(this.#batch.subarray(0, this.#len));
    this.#len = 0;
    return out;
  }

  /** Bytes in the batch. */
  get batched(): number {
    return this.#len;
  }

  /** Adds msg's frame to the batch. @throws what msgpackr throws for a value it cannot encode (the batch is unchanged). */
  append(msg: unknown): void {
    const payload = this.#packr.pack(msg);
    const need = this.#len + HEADER + payload.length;
    if (need > this.#batch.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.#batch.length * 2));
      this.#batch.copy(grown, 0, 0, this.#len);
      this.#batch = grown;
    }
    this.#batch.writeUInt32BE(payload.length, this.#len);
    payload.copy(this.#batch, this.#len + HEADER);
    this.#len = need;
  }

  /**
   * Hands the batch to `write`, which returns true when it is done with the bytes (they may be reused) and
   * false when it keeps them (the encoder starts a new buffer).
   */
  flush(write: (batch: Buffer) => boolean): void {
    if (this.#len === 0) return;
    const batch = this.#batch.subarray(0, this.#len);
    this.#len = 0;
    if (!write(batch)) this.#batch = Buffer.allocUnsafe(this.#batch.length);
  }
}

/**
 * Decodes frames from a byte stream cut anywhere. A length past MAX_FRAME or a payload that does not
 * decode throws ERR_INVALID_FRAME: the channel is corrupt and should be closed, the process lives on.
 */
export class FrameDecoder {
  readonly #packr = packr();
  #buf: Buffer = Buffer.alloc(0);

  /** Bytes held for a frame not yet complete. */
  get pending(): number {
    return this.#buf.length;
  }

  /** Adds bytes; returns every message now complete, in order. @throws RuntimeError ERR_INVALID_FRAME */
  push(chunk: Uint8Array): unknown[] {
    // NB: the caller gives up chunk (decoded buffers may alias it).
    let buf = this.#buf.length === 0 ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length) : Buffer.concat([this.#buf, chunk]);
    const out: unknown[] = [];
    let at = 0;
    while (buf.length - at >= HEADER) {
      const len = buf.readUInt32BE(at);
      if (len > MAX_FRAME) throw invalid(`frame length ${len} exceeds the limit of ${MAX_FRAME}`);
      if (buf.length - at - HEADER < len) break;
      const payload = buf.subarray(at + HEADER, at + HEADER + len);
      try {
        out.push(this.#packr.unpack(payload));
      } catch (err) {
        throw invalid(`a frame of ${len} bytes does not decode`, err);
      }
      at += HEADER + len;
    }
    buf = buf.subarray(at);
    this.#buf = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf);
    return out;
  }
}

function invalid(what: string, cause?: unknown): RuntimeError {
  return new RuntimeError('ERR_INVALID_FRAME', `malformed actor frame: ${what}`, cause !== undefined ? { cause } : undefined);
}
