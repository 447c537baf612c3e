// Resolver: cqueues' stub resolver — hosts file, then the name servers of resolv.conf over UDP and TCP.
import { randomInt } from 'node:crypto';
import { Condition } from '../condition.js';
import { Controller, monotime } from '../controller.js';
import { AbortError, RuntimeError, SystemError, invalidArgType, timeoutError, validateTimeout } from '../errors.js';
import type { Socket } from '../socket/socket.js';
import { RESOLV_CONF, candidates, checkInt, checkSearch, checkServers, defaultConf, loadResolvConf, type ResolvConf, type Server } from './config.js';
import { HOSTS, Hosts, checkEntries, loadHosts, type HostsEntry } from './hosts.js';
import { encodeQuery, invalidArgValue, parseClass, parseName, parseType, type Code, type DnsPacket } from './packet.js';
import { tcpExchange, udpExchange } from './transport.js';

/** Options of {@link Resolver}; each one left out comes from resolv.conf, else the C library's default. */
export interface ResolverOptions {
  /** Name servers: 'addr', 'addr:port' (IPv4) or '[addr]:port'. Default: resolv.conf's (its first 3), else 127.0.0.1. `[]`: the hosts file only. */
  servers?: string[];
  /** Search domains (resolv.conf `search`/`domain`). */
  search?: string[];
  /** Names with fewer dots are tried with the search domains first (resolv.conf `ndots`, default 1). */
  ndots?: number;
  /** How long one try waits for one server, in ms (resolv.conf `timeout`, default 5000). */
  timeoutMs?: number;
  /** Rounds over the servers (resolv.conf `attempts`, default 2). */
  attempts?: number;
  /** Start each query at the next server (resolv.conf `rotate`); the resolvers of a pool take turns together. */
  rotate?: boolean;
  /** 'auto' (default): UDP, then TCP for a truncated answer; 'only': TCP; 'never': a truncated answer is returned. */
  tcp?: 'auto' | 'only' | 'never';
  /** Offer EDNS(0) with a 1232-byte UDP payload (resolv.conf `edns0`); a server answering FORMERR is asked again without. */
  edns?: boolean;
  /** A hosts file path (default '/etc/hosts', read once per thread while unchanged), its entries, or false for none. */
  hosts?: string | false | HostsEntry[];
  /** The resolv.conf path (default '/etc/resolv.conf', read once per thread while unchanged; unreadable = absent), or false to read none. */
  resolvConf?: string | false;
  /** The controller the resolver's sockets wait through. Default: the thread's root controller. */
  controller?: Controller;
}

/** Per-call options of {@link Resolver.query}: the call's deadline and an abort signal. */
export interface QueryOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** A resolver's settings, once resolv.conf and the options are merged (shared by the resolvers of a pool). */
export interface Settings extends ResolvConf {
  hosts: Hosts;
  controller: Controller | undefined;
  /** `rotate`'s next starting server: shared by every resolver with these settings (those of a pool). */
  rotation: { next: number };
}

const RETRY_RCODES = new Set(['SERVFAIL', 'NOTIMP', 'REFUSED']);
const EDNS_PAYLOAD = 1232;
const DEFAULT_SERVER: Server = { address: '127.0.0.1', port: 53 };

/** Merges the options with resolv.conf and the hosts file. @throws TypeError/RangeError for bad options; fs errors for a given path */
export function settings(opts: ResolverOptions): Settings {
  if (opts === null || typeof opts !== 'object') throw invalidArgType('opts', 'of type object', opts);
  const { resolvConf, hosts } = opts;
  if (resolvConf !== undefined && resolvConf !== false && typeof resolvConf !== 'string') throw invalidArgType('opts.resolvConf', 'a path or false', resolvConf);
  if (hosts !== undefined && hosts !== false && typeof hosts !== 'string' && !Array.isArray(hosts)) throw invalidArgType('opts.hosts', 'a path, entries or false', hosts);
  if (opts.controller !== undefined && !(opts.controller instanceof Controller)) throw invalidArgType('opts.controller', 'an instance of Controller', opts.controller);
  const conf = resolvConf === false ? defaultConf() : loadResolvConf(resolvConf ?? RESOLV_CONF, resolvConf !== undefined);
  if (opts.servers !== undefined) conf.servers = checkServers(opts.servers);
  else if (conf.servers.length === 0) conf.servers = [DEFAULT_SERVER];
  if (opts.search !== undefined) conf.search = checkSearch(opts.search);
  if (opts.ndots !== undefined) conf.ndots = checkInt('opts.ndots', opts.ndots, 0, 15);
  if (opts.timeoutMs !== undefined) conf.timeoutMs = checkInt('opts.timeoutMs', opts.timeoutMs, 1, 2 ** 31 - 1);
  if (opts.attempts !== undefined) conf.attempts = checkInt('opts.attempts', opts.attempts, 1, 100);
  if (opts.rotate !== undefined) conf.rotate = Boolean(opts.rotate);
  if (opts.edns !== undefined) conf.edns0 = Boolean(opts.edns);
  if (opts.tcp !== undefined) {
    if (opts.tcp !== 'auto' && opts.tcp !== 'only' && opts.tcp !== 'never') throw invalidArgValue('opts.tcp', opts.tcp, "'auto', 'only' or 'never'");
    conf.tcp = opts.tcp;
  }
  const table = hosts === false ? new Hosts([]) : Array.isArray(hosts) ? new Hosts(checkEntries(hosts)) : loadHosts(hosts ?? HOSTS, hosts !== undefined);
  return { ...conf, hosts: table, controller: opts.controller, rotation: { next: 0 } };
}

/**
 * A stub resolver, as cqueues' `dns.resolver`: answers from the hosts file (A, AAAA, PTR), else asks the
 * name servers — UDP from a fresh connected socket per try, TCP when the answer was truncated — trying
 * each server in turn for `attempts` rounds, with the search list applied as the C library does.
 * Like the original it has one query outstanding at a time: a second query() waits for the first (a
 * {@link ResolverPool} runs queries side by side). It holds sockets only while a query runs.
 *
 * @example
 * await using r = new Resolver({ servers: ['127.0.0.1:5353'] });
 * const p = await r.query('example.com', 'MX', 'IN', 2000);
 * for (const rr of p.answer) if (rr.type === 'MX') console.log(rr.data.exchange);
 */
export class Resolver implements AsyncDisposable {
  readonly #s: Settings;
  readonly #ctl: Controller;
  readonly #free: Condition;
  #busy = false;
  #closed = false;
  #call: Call | undefined;

  /** @throws TypeError/RangeError for bad options; the fs error of an explicitly named file that cannot be read */
  constructor(opts: ResolverOptions = {}) {
    const given = handoff;
    handoff = undefined;
    this.#s = given ?? settings(opts);
    this.#ctl = this.#s.controller ?? Controller.root();
    this.#free = new Condition({ controller: this.#ctl });
  }

  /**
   * Resolves a question. A missing name is an answer (rcode 'NXDOMAIN'), not an error.
   * @param opts the call's deadline in ms (one for the whole call, waiting for the resolver included), or
   *   `{ timeoutMs, signal }`.
   * @throws TypeError/RangeError (synchronously) for a bad name, type, class or timeout.
   * @rejects SystemError ETIMEDOUT (the deadline passed, or every try timed out), ECONNREFUSED (every server
   *   refused), another SystemError of the servers; AbortError; RuntimeError ERR_HANDLE_CLOSED.
   */
  query(name: string, type: string | number = 'A', cls: string | number = 'IN', opts?: number | QueryOptions): Promise<DnsPacket> {
    const q = parseName(name);
    const t = parseType(type);
    const c = parseClass(cls);
    const { timeoutMs, signal } = queryOptions(opts);
    if (this.#closed) return Promise.reject(closedError());
    if (signal?.aborted) return Promise.reject(new AbortError(undefined, { cause: signal.reason }));
    return this.#run(q.name, q.absolute, t, c, timeoutMs, signal);
  }

  async #run(name: string, absolute: boolean, type: Code, cls: Code, timeoutMs: number | undefined, signal: AbortSignal | undefined): Promise<DnsPacket> {
    const call = new Call(timeoutMs === undefined ? Infinity : monotime() + timeoutMs, this.#ctl);
    const onAbort = (): void => call.stop(new AbortError(undefined, { cause: signal!.reason }));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await this.#acquire(call);
      this.#call = call;
      try {
        return await this.#resolve(call, name, absolute, type, cls);
      } finally {
        this.#call = undefined;
        this.#busy = false;
        this.#free.signal(1); // the next query in line (see #acquire)
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Waits for the resolver to be free (one query at a time, as the original). A freed resolver wakes one
   * waiter, in order; one that gives up instead (closed, timed out, aborted) wakes the next.
   */
  async #acquire(call: Call): Promise<void> {
    try {
      while (this.#busy) {
        this.#usable();
        call.check();
        await call.wait(this.#free);
      }
      this.#usable();
      call.check();
    } catch (err) {
      if (!this.#busy) this.#free.signal(1);
      throw err;
    }
    this.#busy = true;
  }

  /** The hosts file for every candidate name, then the servers for each in turn. */
  async #resolve(call: Call, name: string, absolute: boolean, type: Code, cls: Code): Promise<DnsPacket> {
    const names = candidates(name, absolute, this.#s.search, this.#s.ndots);
    for (const n of names) {
      const local = this.#s.hosts.answer(n, type.name, cls.name);
      if (local !== undefined) return local;
    }
    // As the original when only the hosts file is consulted and it has nothing.
    if (this.#s.servers.length === 0) return servfail(name, type.name, cls.name);
    let asIs: DnsPacket | undefined;
    let last: DnsPacket | undefined;
    for (const n of names) {
      const p = await this.#ask(call, n, type, cls);
      if (answers(p, n, type.name)) return p;
      if (n === name) asIs = p;
      last = p;
    }
    // Nothing anywhere: what the servers said of the name as it was given (the C library does the same).
    return asIs ?? last!;
  }

  /**
   * One name to the servers: rounds of tries, each server once per round. With EDNS on, a server that
   * answers FORMERR is asked again at once without EDNS (and without it from then on), as the C library.
   */
  async #ask(call: Call, name: string, type: Code, cls: Code): Promise<DnsPacket> {
    const s = this.#s;
    const edns = s.edns0 ? encodeQuery(randomInt(0x10000), name, type.n, cls.n, EDNS_PAYLOAD) : undefined;
    let plain: Buffer | undefined; // a new id: a late answer to the EDNS query cannot pass for its answer
    const plainQuery = (): Buffer => (plain ??= encodeQuery(randomInt(0x10000), name, type.n, cls.n));
    const noEdns = new Set<Server>();
    let start = 0;
    if (s.rotate) {
      start = s.rotation.next % s.servers.length;
      s.rotation.next = (start + 1) % s.servers.length;
    }
    const servers = [...s.servers.slice(start), ...s.servers.slice(0, start)];
    const refused = new Set<Server>();
    let fallback: DnsPacket | undefined; // a truncated answer, or a server's SERVFAIL/NOTIMP/REFUSED
    let timedOut = false;
    let lastErr: SystemError | undefined;
    for (let round = 0; round < s.attempts; round++) {
      for (const server of servers) {
        if (refused.has(server)) continue; // ICMP said nobody listens there
        try {
          let p = await this.#try(call, server, edns !== undefined && !noEdns.has(server) ? edns : plainQuery(), (t) => (fallback = t));
          if (edns !== undefined && !noEdns.has(server) && p.flags.rcode === 'FORMERR') {
            noEdns.add(server);
            p = await this.#try(call, server, plainQuery(), (t) => (fallback = t));
          }
          if (!RETRY_RCODES.has(p.flags.rcode)) return p;
          fallback = p;
        } catch (err) {
          this.#usable();
          call.check();
          if (!(err instanceof SystemError)) throw err;
          if (call.deadline <= monotime()) throw timeoutError('query');
          if (err.code === 'ETIMEDOUT') timedOut = true;
          else lastErr = new SystemError(err.errno, 'query', { address: server.address, port: server.port, cause: err });
          if (err.code === 'ECONNREFUSED') refused.add(server);
        }
      }
    }
    if (fallback !== undefined) return fallback;
    if (timedOut || lastErr === undefined) throw timeoutError('query');
    throw lastErr;
  }

  /** One query to one server: over UDP, then TCP if the answer was truncated (as `tcp` says); `truncated` is told of a TC answer. */
  async #try(call: Call, server: Server, query: Buffer, truncated: (p: DnsPacket) => void): Promise<DnsPacket> {
    const tcp = this.#s.tcp;
    const p = await this.#exchange(call, server, query, tcp === 'only');
    if (!p.flags.tc || tcp !== 'auto') return p;
    truncated(p);
    return this.#exchange(call, server, query, true);
  }

  /** One try at one server, within the try's timeout and the call's deadline. */
  #exchange(call: Call, server: Server, query: Buffer, tcp: boolean): Promise<DnsPacket> {
    const deadline = Math.min(call.deadline, monotime() + this.#s.timeoutMs);
    if (call.deadline <= monotime()) throw timeoutError('query');
    const x = { server, query, deadline, controller: this.#s.controller, track: (sock: Socket | undefined) => call.track(sock) };
    return tcp ? tcpExchange(x) : udpExchange(x);
  }

  /**
   * Closes the resolver: a query in progress rejects with ERR_HANDLE_CLOSED and its socket is closed;
   * queries waiting their turn reject too. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#call?.stop(closedError());
    this.#free.signal();
  }

  get closed(): boolean {
    return this.#closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  #usable(): void {
    if (this.#closed) throw closedError();
  }
}

// The settings resolverWith() hands to the constructor it calls.
let handoff: Settings | undefined;

/** @internal A resolver with settings computed once (the resolvers of a pool share theirs). */
export function resolverWith(s: Settings): Resolver {
  handoff = s;
  try {
    return new Resolver();
  } finally {
    handoff = undefined;
  }
}

/** One query() in progress: its deadline, its socket, and why it must stop (abort, close). */
class Call {
  readonly deadline: number;
  readonly #stopped: Condition;
  #socket: Socket | undefined;
  #reason: Error | undefined;

  constructor(deadline: number, ctl: Controller) {
    this.deadline = deadline;
    this.#stopped = new Condition({ controller: ctl });
  }

  /** The socket in use, closed at once if the call was stopped meanwhile. */
  track(s: Socket | undefined): void {
    this.#socket = s;
    if (s !== undefined && this.#reason !== undefined) s.destroy();
  }

  /** Stops the call: its socket closes (its I/O rejects) and its waits wake. */
  stop(reason: Error): void {
    this.#reason ??= reason;
    this.#socket?.destroy();
    this.#stopped.signal();
  }

  /** @throws why the call was stopped, if it was */
  check(): void {
    if (this.#reason !== undefined) throw this.#reason;
  }

  /** Waits for `cv`, a stop, or the deadline. @throws SystemError ETIMEDOUT */
  async wait(cv: Condition): Promise<void> {
    const left = this.deadline - monotime();
    if (left <= 0) throw timeoutError('query');
    await cv.wait(this.#stopped, ...(left === Infinity ? [] : [left]));
  }
}

/** Checks query()'s last argument: a timeout in ms, or { timeoutMs, signal }. */
export function queryOptions(opts: number | QueryOptions | undefined): QueryOptions {
  if (opts === undefined || typeof opts === 'number') return { timeoutMs: validateTimeout('timeoutMs', opts) };
  if (opts === null || typeof opts !== 'object') throw invalidArgType('opts', 'a number of milliseconds or an object', opts);
  if (opts.signal !== undefined && !(opts.signal instanceof AbortSignal)) throw invalidArgType('opts.signal', 'an instance of AbortSignal', opts.signal);
  return { timeoutMs: validateTimeout('opts.timeoutMs', opts.timeoutMs), signal: opts.signal };
}

/** Whether a packet answers the question: a record of the type (or a CNAME) for the name. */
function answers(p: DnsPacket, name: string, type: string): boolean {
  const n = name.toLowerCase();
  return p.answer.some((r) => r.name.toLowerCase() === n && (r.type === type || r.type === 'CNAME' || type === 'ANY'));
}

function servfail(name: string, type: string, cls: string): DnsPacket {
  return {
    id: 0,
    flags: { qr: true, opcode: 'QUERY', aa: false, tc: false, rd: true, ra: false, z: false, ad: false, cd: false, rcode: 'SERVFAIL' },
    question: [{ name, type, class: cls }],
    answer: [],
    authority: [],
    additional: [],
  };
}

function closedError(): RuntimeError {
  return new RuntimeError('ERR_HANDLE_CLOSED', 'resolver is closed');
}
