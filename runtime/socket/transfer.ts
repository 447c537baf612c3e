// The frame a descriptor travels in over sendfd/recvfd: a moved socket's state and buffered bytes, then
// the caller's message.
import type { TransferState } from './config.js';

// NB: 8 bytes that begin every troupe sendfd message, so a receiver tells a framed transfer from a plain
// message a foreign sender wrote with SCM_RIGHTS.
const MAGIC = Buffer.from('\x7ftroupe\x01', 'latin1');
const HEADER = MAGIC.length + 4; // magic, then the u32 length of everything after it

/** A decoded transfer frame. */
export interface Frame {
  state: TransferState | null;
  input: Buffer;
  output: Buffer;
  message: Buffer;
}

/** Encodes a frame: magic, u32 rest length, u32 JSON length, JSON, input, output, message. */
export function encodeFrame(state: TransferState | null, input: Uint8Array, output: Uint8Array, message: Uint8Array): Buffer {
  const json = Buffer.from(JSON.stringify({ state, input: input.length, output: output.length }));
  const rest = 4 + json.length + input.length + output.length + message.length;
  const out = Buffer.allocUnsafe(HEADER + rest);
  MAGIC.copy(out, 0);
  out.writeUInt32BE(rest, MAGIC.length);
  out.writeUInt32BE(json.length, HEADER);
  let o = HEADER + 4;
  o += json.copy(out, o);
  out.set(input, o);
  o += input.length;
  out.set(output, o);
  o += output.length;
  out.set(message, o);
  return out;
}

/** How many bytes the whole frame has, once `head` (>= HEADER bytes) is known; -1 if not a frame. */
export function frameLength(head: Uint8Array): number {
  if (head.length < HEADER || !MAGIC.equals(head.subarray(0, MAGIC.length))) return -1;
  return HEADER + Buffer.from(head.buffer, head.byteOffset, head.length).readUInt32BE(MAGIC.length);
}

export const FRAME_HEADER = HEADER;

/** Decodes a complete frame. @throws RangeError if it is malformed. */
export function decodeFrame(buf: Buffer): Frame {
  const jsonLen = buf.readUInt32BE(HEADER);
  const meta = JSON.parse(buf.toString('utf8', HEADER + 4, HEADER + 4 + jsonLen)) as { state: TransferState | null; input: number; output: number };
  let o = HEADER + 4 + jsonLen;
  const input = buf.subarray(o, o + meta.input);
  o += meta.input;
  const output = buf.subarray(o, o + meta.output);
  o += meta.output;
  if (o > buf.length) throw new RangeError('truncated transfer frame');
  return { state: meta.state, input, output, message: buf.subarray(o) };
}
