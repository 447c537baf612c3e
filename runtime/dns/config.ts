// Resolver configuration: resolv.conf as the C library reads it, server addresses, and the search list.
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import { invalidArgType, outOfRange } from '../errors.js';
import { cachedParse, isAbsent } from './files.js';
import { invalidArgValue, validName } from './packet.js';

/** A name server: a numeric address and a port. */
export interface Server {
  address: string;
  port: number;
}

/** What resolv.conf says, with the C library's defaults and limits. */
export interface ResolvConf {
  servers: Server[];
  search: string[];
  ndots: number;
  timeoutMs: number;
  attempts: number;
  rotate: boolean;
  edns0: boolean;
  tcp: 'auto' | 'only' | 'never';
}

export const RESOLV_CONF = '/etc/resolv.conf';

/** glibc's defaults: the local server, ndots 1, 5 s per try, 2 attempts. */
export function defaultConf(): ResolvConf {
  return { servers: [], search: [], ndots: 1, timeoutMs: 5000, attempts: 2, rotate: false, edns0: false, tcp: 'auto' };
}

/** At most this many `nameserver` lines of resolv.conf are used, as the C library (MAXNS). */
export const MAXNS = 3;

/**
 * Reads a resolv.conf: `nameserver` (also '[addr]:port', as the original; the first {@link MAXNS}),
 * `search` / `domain` (the last wins), `options ndots: timeout: attempts: rotate edns0 use-vc` (and the
 * original's `tcp:only`/`tcp:disable`). The parse is cached per path and re-done when the file changes
 * (see files.ts), so constructing resolvers does not re-read an unchanged file.
 * When not `required`, a file that is missing or cannot be read (ENOENT, EACCES, EISDIR, …) gives the
 * defaults, as glibc's res_init; other errors, and any error when `required`, are thrown.
 * Without search/domain, the domain of the host name is searched, as glibc does.
 * @returns a fresh object (the caller may change it)
 */
export function loadResolvConf(path: string, required: boolean): ResolvConf {
  let parsed: { conf: ResolvConf; searched: boolean };
  try {
    parsed = cachedParse('resolv.conf', path, parseResolvConf);
  } catch (err) {
    if (required || !isAbsent(err)) throw err;
    parsed = { conf: defaultConf(), searched: false };
  }
  const conf = { ...parsed.conf, servers: parsed.conf.servers.map((s) => ({ ...s })), search: [...parsed.conf.search] };
  if (!parsed.searched) {
    const host = hostname();
    const dot = host.indexOf('.');
    if (dot > 0 && validName(host.slice(dot + 1))) conf.search = [host.slice(dot + 1)];
  }
  return conf;
}

/** resolv.conf text → its settings, and whether it had search/domain. */
export function parseResolvConf(text: string): { conf: ResolvConf; searched: boolean } {
  const conf = defaultConf();
  let searched = false;
  for (const raw of text.split('\n')) {
    const [key, ...args] = raw.replace(/[#;].*$/, '').trim().split(/\s+/);
    if (key === 'nameserver' && args[0] !== undefined) {
      const s = parseServer(args[0]);
      if (s !== undefined && conf.servers.length < MAXNS) conf.servers.push(s);
    } else if (key === 'domain' && args[0] !== undefined) {
      conf.search = [args[0]];
      searched = true;
    } else if (key === 'search') {
      conf.search = args;
      searched = true;
    } else if (key === 'options') {
      for (const opt of args) applyOption(conf, opt);
    }
  }
  conf.search = conf.search.map((d) => d.replace(/\.$/, '')).filter(validName);
  return { conf, searched };
}

function applyOption(conf: ResolvConf, opt: string): void {
  const [name, value] = opt.split(':', 2);
  const n = value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
  switch (name) {
    case 'ndots':
      if (n !== undefined) conf.ndots = Math.min(n, 15);
      break;
    case 'timeout':
      if (n !== undefined) conf.timeoutMs = Math.min(Math.max(n, 1), 30) * 1000;
      break;
    case 'attempts':
      if (n !== undefined) conf.attempts = Math.min(Math.max(n, 1), 5);
      break;
    case 'rotate':
      conf.rotate = true;
      break;
    case 'edns0':
      conf.edns0 = true;
      break;
    case 'use-vc':
      conf.tcp = 'only';
      break;
    case 'tcp':
      if (value === 'only') conf.tcp = 'only';
      else if (value === 'disable') conf.tcp = 'never';
      else if (value === 'enable') conf.tcp = 'auto';
      break;
  }
}

/** 'addr', 'addr:port' (IPv4), '[addr]:port' or '[addr]' → a server, or undefined if it is none of those. */
export function parseServer(s: string): Server | undefined {
  let address = s;
  let port = 53;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  const v4port = /^([\d.]+):(\d+)$/.exec(s);
  if (bracket) [address, port] = [bracket[1]!, bracket[2] === undefined ? 53 : Number(bracket[2])];
  else if (v4port) [address, port] = [v4port[1]!, Number(v4port[2])];
  if (isIP(address.replace(/%.*$/, '')) === 0 || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { address, port };
}

/** Checks the `servers` option. @throws TypeError ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE */
export function checkServers(v: unknown): Server[] {
  if (!Array.isArray(v)) throw invalidArgType('opts.servers', 'an array of strings', v);
  return v.map((s, i) => {
    if (typeof s !== 'string') throw invalidArgType(`opts.servers[${i}]`, 'of type string', s);
    const server = parseServer(s);
    if (server === undefined) throw invalidArgValue(`opts.servers[${i}]`, s, "a numeric address, 'addr:port' or '[addr]:port'");
    return server;
  });
}

/** Checks the `search` option: domain names. */
export function checkSearch(v: unknown): string[] {
  if (!Array.isArray(v)) throw invalidArgType('opts.search', 'an array of strings', v);
  return v.map((d, i) => {
    if (typeof d !== 'string') throw invalidArgType(`opts.search[${i}]`, 'of type string', d);
    const name = d.replace(/\.$/, '');
    if (!validName(name) || name === '.') throw invalidArgValue(`opts.search[${i}]`, d, 'a domain name');
    return name;
  });
}

/** Checks an integer option within [min, max]. */
export function checkInt(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number') throw invalidArgType(name, 'of type number', v);
  if (!Number.isInteger(v) || v < min || v > max) throw outOfRange(name, `an integer from ${min} to ${max}`, v);
  return v;
}

/**
 * The names to try for `name`, in order, as the C library's res_search: an absolute name alone; a name
 * with at least `ndots` dots as it is first, then with each search domain; a shorter one with the search
 * domains first, then as it is. Candidates longer than a name can be are skipped.
 */
export function candidates(name: string, absolute: boolean, search: readonly string[], ndots: number): string[] {
  if (absolute || name === '.') return [name];
  const dots = name.split('.').length - 1;
  const searched = search.map((d) => `${name}.${d}`).filter(validName);
  return dots >= ndots ? [name, ...searched] : [...searched, name];
}
