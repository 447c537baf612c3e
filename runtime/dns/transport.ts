// One exchange with one name server over troupe sockets: a connected UDP socket, or TCP with 2-byte framing.
import type { Controller } from '../controller.js';
import { monotime } from '../controller.js';
import { SystemError, timeoutError } from '../errors.js';
import { Socket } from '../socket/socket.js';
import type { Server } from './config.js';
import { decodeAnswer, type DnsPacket } from './packet.js';

const ECONNRESET = -104;
// NB: the largest DNS message; a datagram cut by a smaller buffer would fail to decode and be dropped.
const MAX_MESSAGE = 65535;

/** One question to one server, until `deadline` (monotime ms). */
export interface Exchange {
  server: Server;
  query: Buffer;
  deadline: number;
  controller: Controller | undefined;
  /** Told of the socket in use (undefined once it is closed), so that close() and aborts can close it. */
  track(s: Socket | undefined): void;
}

/**
 * Sends the query from a fresh connected UDP socket (a fresh source port per try) and waits for the
 * answer to it; other datagrams are ignored.
 * @throws SystemError ECONNREFUSED (ICMP port unreachable), ETIMEDOUT; ERR_HANDLE_CLOSED when closed meanwhile.
 */
export async function udpExchange(x: Exchange): Promise<DnsPacket> {
  const s = open(x, 'dgram');
  try {
    s.setbufsiz(MAX_MESSAGE);
    await s.write(x.query);
    for (;;) {
      const msg = await s.readBytes('*a', { timeoutMs: left(x) });
      const p = msg === null ? undefined : decodeAnswer(msg, x.query);
      if (p !== undefined) return { ...p, server: { ...x.server, transport: 'udp' } };
    }
  } finally {
    close(x, s);
  }
}

/**
 * Sends the query over a fresh TCP connection, each message preceded by its length (RFC 1035 4.2.2), and
 * reads messages until the answer to it.
 * @throws SystemError ECONNREFUSED, ECONNRESET (closed before answering), ETIMEDOUT; ERR_HANDLE_CLOSED.
 */
export async function tcpExchange(x: Exchange): Promise<DnsPacket> {
  const s = open(x, 'stream');
  try {
    const frame = Buffer.alloc(2 + x.query.length);
    frame.writeUInt16BE(x.query.length, 0);
    x.query.copy(frame, 2);
    await s.write(frame);
    for (;;) {
      const head = await s.readBytes(2, { timeoutMs: left(x) });
      const msg = head?.length === 2 ? await s.readBytes(head.readUInt16BE(0), { timeoutMs: left(x) }) : null;
      if (msg === null || msg.length !== head!.readUInt16BE(0)) {
        throw new SystemError(ECONNRESET, 'read', { address: x.server.address, port: x.server.port });
      }
      const p = decodeAnswer(msg, x.query);
      if (p !== undefined) return { ...p, server: { ...x.server, transport: 'tcp' } };
    }
  } finally {
    close(x, s);
  }
}

function open(x: Exchange, type: 'dgram' | 'stream'): Socket {
  const s = Socket.connect({
    host: x.server.address,
    port: x.server.port,
    type,
    modes: ['b', 'bn'],
    timeoutMs: left(x), // bounds the connect and the write
    ...(x.controller !== undefined ? { controller: x.controller } : {}),
  });
  x.track(s);
  return s;
}

function close(x: Exchange, s: Socket): void {
  x.track(undefined);
  s.destroy();
}

/** Ms left until the exchange's deadline. @throws SystemError ETIMEDOUT when none */
function left(x: Exchange): number {
  const ms = x.deadline - monotime();
  if (ms <= 0) throw timeoutError('query');
  return ms;
}
