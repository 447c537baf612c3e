// Descriptor passing on the wire: sendmsg/recvmsg with SCM_RIGHTS, waiting as needed, whole frames only.
import { addon } from '../native.js';
import { SystemError } from '../errors.js';
import type { Channel } from './channel.js';
import { frameLength } from './transfer.js';

const EAGAIN = -11;
const EINTR = -4;
const EPROTO = -71;
const FDS_OUT = new Int32Array(2);

/** Sends bytes with descriptors attached; returns how many bytes the kernel took (at least one). */
export async function sendWithFds(ch: Channel, data: Buffer, fds: Int32Array, deadline: number): Promise<number> {
  for (;;) {
    const n = addon.sendFds(ch.fd, data, 0, data.length, fds);
    if (n >= 0) return n;
    if (n !== EAGAIN && n !== EINTR) ch.fail(ch.w, new SystemError(n, 'sendmsg'));
    await ch.wait('w', deadline, 'sendfd');
  }
}

/**
 * Receives one message with at most one descriptor. A troupe frame is read whole: the kernel hands over
 * its first part with the descriptor, the rest of a frame the stream split follows without any. A foreign
 * message is returned as it arrived.
 * @throws SystemError ENOBUFS (control data truncated: what arrived is closed by the native layer)
 */
export async function recvWithFd(ch: Channel, bufsiz: number, deadline: number): Promise<{ data: Buffer; fd: number; framed: boolean }> {
  const fdsOut = FDS_OUT;
  // NB: one receive buffer per channel, reused: every caller copies what it keeps out of it.
  const size = Math.max(65536, Number.isFinite(bufsiz) ? bufsiz : 0);
  if (ch.recvBuf === undefined || ch.recvBuf.length < size) ch.recvBuf = Buffer.allocUnsafe(size);
  let buf = ch.recvBuf;
  let got: number;
  for (;;) {
    got = addon.recvFds(ch.fd, buf, 0, buf.length, fdsOut);
    if (got >= 0) break;
    if (got !== EAGAIN && got !== EINTR) ch.fail(ch.r, new SystemError(got, 'recvmsg'));
    await ch.wait('r', deadline, 'recvfd');
  }
  ch.r.bytes += got;
  const fd = fdsOut[0]! > 0 ? fdsOut[1]! : -1;
  try {
    const total = frameLength(buf.subarray(0, got));
    if (total < 0) return { data: Buffer.from(buf.subarray(0, got)), fd, framed: false };
    if (total > buf.length) buf = Buffer.concat([buf.subarray(0, got), Buffer.allocUnsafe(total - got)]);
    while (got < total) {
      const n = addon.read(ch.fd, buf, got, total - got);
      if (n > 0) {
        got += n;
        ch.r.bytes += n;
      } else if (n === 0) ch.fail(ch.r, new SystemError(EPROTO, 'recvmsg'));
      else if (n === EAGAIN) await ch.wait('r', deadline, 'recvfd');
      else if (n !== EINTR) ch.fail(ch.r, new SystemError(n, 'recvmsg'));
    }
    return { data: buf.subarray(0, total), fd, framed: true };
  } catch (err) {
    // SAFETY: the descriptor that arrived is ours until handed out; on failure it is closed here.
    if (fd >= 0) addon.close(fd);
    throw err;
  }
}
