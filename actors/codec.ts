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

/** Encodes messages as frames: a 4-byte big-endian length, then the msgpack payload. */
export class FrameEncoder {
  readonly #packr = packr();

  /** One message as one frame. */
  encode(msg: unknown): Buffer {
    const payload = this.#packr.pack(msg);
    const out = Buffer.allocUnsafe(HEADER + payload.length);
    out.writeUInt32BE(payload.length, 0);
    payload.copy(out, HEADER);
    return out;
  }

  /** Many messages as consecutive frames in one buffer: one write for all of them. */
  encodeAll(msgs: readonly unknown[]): Buffer {
    return Buffer.concat(msgs.map((m) => this.encode(m)));
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
    let buf = this.#buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#buf, chunk]);
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
