// Opening sockets: connecting (after DNS when needed) and binding + listening, with their options.
import { chmodSync, unlinkSync } from 'node:fs';
import { addon } from '../native.js';
import { SystemError, invalidArgType } from '../errors.js';
import { AF_INET6, AF_UNIX, SOCK_DGRAM, resolveNow, type Resolved } from './address.js';
import type { Channel } from './channel.js';

const EAGAIN = -11;
const EINPROGRESS = -115;

/** Options that shape a connect. */
export interface DialOptions {
  bind?: { host?: string; port?: number; path?: string };
  /** TCP_NODELAY. */
  nodelay?: boolean;
  /** TCP_CORK (the original's `nopush`): hold partial segments until uncorked or full. */
  nopush?: boolean;
}

/** Options that shape a listen. */
export interface BindOptions {
  unlink?: boolean;
  /** Permissions of a unix socket file, 0o660 or '0660'. */
  mode?: number | string;
  /** Permissions to clear on a unix socket file, as a umask (0o007 or '007'). */
  mask?: number | string;
  reuseaddr?: boolean;
  reuseport?: boolean;
  backlog?: number;
}

/** Creates the fd and connects it; resolves once connected. @throws SystemError (ECONNREFUSED, …) */
export async function dial(ch: Channel, type: number, r: Resolved, opts: DialOptions): Promise<void> {
  const fd = check(addon.socket(r.family, type), 'socket');
  ch.adopt(fd);
  if (ch.closed) return ch.drop();
  const C = addon.constants;
  if (opts.nodelay && r.family !== AF_UNIX) addon.setSockOpt(fd, C.IPPROTO_TCP!, C.TCP_NODELAY!, 1);
  if (opts.nopush && r.family !== AF_UNIX) addon.setSockOpt(fd, C.IPPROTO_TCP!, C.TCP_CORK!, 1);
  if (opts.bind !== undefined) {
    const b = resolveNow({ host: opts.bind.host ?? (r.family === AF_INET6 ? '::' : '0.0.0.0'), port: opts.bind.port ?? 0, path: opts.bind.path });
    if (b === undefined) throw invalidArgType('opts.bind.host', 'a numeric address', opts.bind.host);
    check(addon.bind(fd, b.family, b.host, b.port), 'bind', b);
  }
  const rc = addon.connect(fd, r.family, r.host, r.port);
  if (rc === 0) return;
  if (rc !== EINPROGRESS && rc !== EAGAIN) throw new SystemError(rc, 'connect', where(r));
  for (;;) {
    await ch.writable();
    if (ch.closed) return;
    const err = addon.sockError(fd);
    if (err !== 0) throw new SystemError(err, 'connect', where(r));
    // A wake without a peer yet is spurious: still connecting.
    if (typeof addon.sockName(fd, true) !== 'number') return;
  }
}

/** Creates the fd, binds it and (for connection types) listens. @throws SystemError (EADDRINUSE, …) */
export function bindListen(ch: Channel, type: number, r: Resolved, opts: BindOptions): void {
  const fd = check(addon.socket(r.family, type), 'socket');
  ch.adopt(fd);
  try {
    const C = addon.constants;
    if (r.family !== AF_UNIX && opts.reuseaddr !== false) addon.setSockOpt(fd, C.SOL_SOCKET!, C.SO_REUSEADDR!, 1);
    if (opts.reuseport) check(addon.setSockOpt(fd, C.SOL_SOCKET!, C.SO_REUSEPORT!, 1), 'setsockopt');
    const file = r.family === AF_UNIX && !r.host.startsWith('\0');
    if (file && opts.unlink) unlinkQuiet(r.host);
    check(addon.bind(fd, r.family, r.host, r.port), 'bind', r);
    // NB: umask(2) is process-wide and racy with other threads; the file's mode is set right after bind.
    if (file && opts.mode !== undefined) chmodSync(r.host, octal(opts.mode));
    else if (file && opts.mask !== undefined) chmodSync(r.host, 0o777 & ~octal(opts.mask));
    if (type !== SOCK_DGRAM) check(addon.listen(fd, opts.backlog ?? 511), 'listen', r);
  } catch (err) {
    ch.drop();
    throw err;
  }
}

/** Throws a SystemError for a negative result, with the address when known. */
export function check(rc: number, syscall: string, r?: Resolved): number {
  if (rc < 0) throw new SystemError(rc, syscall, r ? where(r) : {});
  return rc;
}

function where(r: Resolved): { address?: string; port?: number; path?: string } {
  return r.family === AF_UNIX ? { path: r.host.replace(/^\0/, '@') } : { address: r.host, port: r.port };
}

function octal(v: number | string): number {
  const n = typeof v === 'string' ? parseInt(v, 8) : v;
  if (!Number.isInteger(n) || n < 0 || n > 0o7777) throw invalidArgType('mode', 'an octal permission (0 to 0o7777)', v);
  return n;
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // nothing to remove
  }
}
