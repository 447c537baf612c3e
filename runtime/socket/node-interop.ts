// Connections between Node's net.Socket and troupe's Socket, with the bytes either side had buffered.
import { Socket as NetSocket } from 'node:net';
import { addon } from '../native.js';
import { RuntimeError, SystemError, invalidArgType } from '../errors.js';
import type { SocketOptions } from './options.js';
import { Socket } from './socket.js';

interface NodeHandle {
  fd?: number;
  readStop?: () => number;
}

/**
 * Takes a connection away from Node: a duplicate of its descriptor, plus whatever Node had read and not
 * delivered (also bytes put back with unshift), which the new socket reads first. Node's socket is
 * destroyed (its own descriptor closes; the connection lives on in the duplicate).
 */
export function fromNodeSocket(ns: NetSocket, opts?: SocketOptions): Socket {
  if (!(ns instanceof NetSocket)) throw invalidArgType('s', 'an instance of net.Socket', ns);
  const handle = (ns as unknown as { _handle?: NodeHandle })._handle;
  if (handle === undefined || handle === null || typeof handle.fd !== 'number' || handle.fd < 0) {
    throw invalidArgType('s', 'a connected TCP or unix net.Socket', ns);
  }
  if (ns.writableLength > 0) throw new RuntimeError('ERR_INVALID_STATE', 'the net.Socket still has output queued; wait for its drain');
  // Stop Node reading, then take what it holds: nothing more arrives in its buffer after readStop.
  ns.pause();
  handle.readStop?.();
  const held: Buffer[] = [];
  for (let c = ns.read() as Buffer | string | null; c !== null; c = ns.read() as Buffer | string | null) held.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  const fd = addon.dup(handle.fd);
  if (fd < 0) throw new SystemError(fd, 'fcntl');
  const eof = ns.readableEnded;
  ns.destroy();
  const s = Socket.fdopen(fd, opts);
  if (held.length > 0) s.unget(Buffer.concat(held));
  if (eof) s.shutdown('r');
  return s;
}

/**
 * Gives the connection to Node: a net.Socket on the descriptor, with this socket's unflushed output
 * written first and its unread input delivered first. This socket is closed as moved.
 */
export function toNodeSocket(s: Socket): NetSocket {
  const d = Socket.detach(s);
  const ns = new NetSocket({ fd: d.fd, readable: true, writable: true });
  if (d.output.length > 0) ns.write(d.output);
  if (d.input.length > 0) ns.unshift(Buffer.from(d.input));
  return ns;
}
