// Socket addresses: option parsing, name resolution (Node's dns.lookup) and the kernel's families.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { invalidArgType } from '../errors.js';
import { addon } from '../native.js';

// The kernel's numbers, as the native layer reports them.
export const { AF_UNIX, AF_INET, AF_INET6, SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET } = addon.constants as Record<
  'AF_UNIX' | 'AF_INET' | 'AF_INET6' | 'SOCK_STREAM' | 'SOCK_DGRAM' | 'SOCK_SEQPACKET',
  number
>;

/** A socket's kind of transport. */
export type SocketType = 'stream' | 'dgram' | 'seqpacket';
/** An address as troupe reports it. */
export type SockAddr = { family: 'inet' | 'inet6'; address: string; port: number } | { family: 'unix'; path: string };

/** Where to connect to or listen on: host and port, or a unix path. */
export interface Endpoint {
  host?: string;
  port?: number;
  /** A unix socket path; a leading '\0' (or '@') names the abstract namespace. */
  path?: string;
  /** Restrict name resolution: 'inet' (IPv4) or 'inet6'. */
  family?: 'inet' | 'inet6' | 'unix';
  type?: SocketType;
}

/** A resolved endpoint: what the native calls take. */
export interface Resolved {
  family: number;
  host: string;
  port: number;
}

export function typeNumber(type: SocketType | undefined): number {
  switch (type ?? 'stream') {
    case 'stream':
      return SOCK_STREAM;
    case 'dgram':
      return SOCK_DGRAM;
    case 'seqpacket':
      return SOCK_SEQPACKET;
    default:
      throw invalidArgType('type', "one of 'stream', 'dgram', 'seqpacket'", type);
  }
}

export function typeName(type: number): SocketType {
  return type === SOCK_DGRAM ? 'dgram' : type === SOCK_SEQPACKET ? 'seqpacket' : 'stream';
}

/** Validates an endpoint and says whether it needs a DNS lookup. */
export function checkEndpoint(ep: Endpoint, what: string): void {
  if (ep.path !== undefined) {
    if (typeof ep.path !== 'string' || ep.path.length === 0) throw invalidArgType(`${what}.path`, 'a non-empty string', ep.path);
    return;
  }
  if (typeof ep.host !== 'string') throw invalidArgType(`${what}.host`, 'of type string', ep.host);
  if (typeof ep.port !== 'number' || !Number.isInteger(ep.port) || ep.port < 0 || ep.port > 65535) {
    const err = new RangeError(`The value of "${what}.port" is out of range. It must be an integer from 0 to 65535. Received ${String(ep.port)}`);
    (err as RangeError & { code: string }).code = 'ERR_SOCKET_BAD_PORT';
    throw err;
  }
}

/** The endpoint as native numbers when no lookup is needed, else undefined. */
export function resolveNow(ep: Endpoint): Resolved | undefined {
  if (ep.path !== undefined) return { family: AF_UNIX, host: unixPath(ep.path), port: 0 };
  const host = ep.host!;
  const v = isIP(host.replace(/%.*$/, ''));
  if (v === 4) return { family: AF_INET, host, port: ep.port! };
  if (v === 6) return { family: AF_INET6, host, port: ep.port! };
  if (host === '' || host === '*') return { family: ep.family === 'inet6' ? AF_INET6 : AF_INET, host: ep.family === 'inet6' ? '::' : '0.0.0.0', port: ep.port! };
  return undefined;
}

/** Resolves a host name with Node's dns.lookup (the system resolver, /etc/hosts included). */
export async function resolveLater(ep: Endpoint): Promise<Resolved> {
  const family = ep.family === 'inet' ? 4 : ep.family === 'inet6' ? 6 : 0;
  const r = await lookup(ep.host!, { family });
  return { family: r.family === 6 ? AF_INET6 : AF_INET, host: r.address, port: ep.port! };
}

/** '@name' is the abstract name '\0name', as in other tools. */
function unixPath(path: string): string {
  return path.startsWith('@') ? `\0${path.slice(1)}` : path;
}
