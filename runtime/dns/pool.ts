// ResolverPool: resolvers handed out up to a limit, waited for with a deadline; dns.query() on a default pool.
import { Condition } from '../condition.js';
import { Controller, monotime } from '../controller.js';
import { AbortError, RuntimeError, invalidArgType, timeoutError, validateTimeout } from '../errors.js';
import { checkInt } from './config.js';
import { parseClass, parseName, parseType, invalidArgValue, type DnsPacket } from './packet.js';
import { Resolver, queryOptions, resolverWith, settings, type QueryOptions, type ResolverOptions, type Settings } from './resolver.js';

/** Options of {@link ResolverPool}: those of its resolvers, and its limits. */
export interface ResolverPoolOptions extends ResolverOptions {
  /** The most resolvers out at once, i.e. queries in flight (the original's `hiwat`, 32). */
  max?: number;
  /** Idle resolvers kept for reuse; others are closed when put back (the original's `lowat`, 1). */
  maxIdle?: number;
}

/**
 * A pool of {@link Resolver}s, as cqueues' `dns.resolvers`: each resolver runs one query at a time, so
 * the pool runs up to `max` side by side; past that, get() and query() wait, within their deadline.
 * resolv.conf and the hosts file are read once, when the pool is made.
 */
export class ResolverPool implements AsyncDisposable {
  readonly #s: Settings;
  readonly #max: number;
  readonly #maxIdle: number;
  readonly #idle: Resolver[] = [];
  readonly #out = new Set<Resolver>();
  readonly #freed: Condition;
  #waiting = 0;
  #closed = false;

  /** @throws TypeError/RangeError for bad options; the fs error of an explicitly named file */
  constructor(opts: ResolverPoolOptions = {}) {
    this.#s = settings(opts);
    this.#max = opts.max === undefined ? 32 : checkInt('opts.max', opts.max, 1, 2 ** 31 - 1);
    this.#maxIdle = opts.maxIdle === undefined ? 1 : checkInt('opts.maxIdle', opts.maxIdle, 0, 2 ** 31 - 1);
    this.#freed = new Condition({ controller: this.#s.controller ?? Controller.root() });
  }

  /**
   * Takes a resolver: an idle one, a new one while fewer than `max` are out, else the next one put back.
   * Give it back with put().
   * @rejects SystemError ETIMEDOUT; RuntimeError ERR_HANDLE_CLOSED when the pool is (or gets) closed.
   */
  get(timeoutMs?: number): Promise<Resolver> {
    const t = validateTimeout('timeoutMs', timeoutMs);
    if (this.#closed) return Promise.reject(closedError());
    return this.#get(t === undefined ? Infinity : monotime() + t, undefined);
  }

  async #get(deadline: number, signal: AbortSignal | undefined): Promise<Resolver> {
    const wake = (): number => this.#freed.signal();
    signal?.addEventListener('abort', wake, { once: true });
    this.#waiting++;
    try {
      for (;;) {
        this.#usable();
        if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
        const r = this.#idle.pop() ?? (this.#out.size < this.#max ? resolverWith(this.#s) : undefined);
        if (r !== undefined) {
          this.#out.add(r);
          return r;
        }
        const left = deadline - monotime();
        if (left <= 0) throw timeoutError('get');
        await this.#freed.wait(...(left === Infinity ? [] : [left]));
      }
    } finally {
      this.#waiting--;
      signal?.removeEventListener('abort', wake);
    }
  }

  /**
   * Gives back a resolver from get(): kept while fewer than `maxIdle` are idle, else closed; a waiter gets
   * its turn. @throws TypeError ERR_INVALID_ARG_VALUE for a resolver that is not out of this pool
   */
  put(r: Resolver): void {
    if (!(r instanceof Resolver)) throw invalidArgType('r', 'an instance of Resolver', r);
    if (!this.#out.delete(r)) throw invalidArgValue('r', r, 'a resolver taken from this pool with get()');
    if (this.#closed || r.closed || this.#idle.length >= this.#maxIdle) r.close();
    else this.#idle.push(r);
    this.#freed.signal();
  }

  /**
   * get(), Resolver.query(), put(): the deadline covers the wait for a resolver too.
   * @throws TypeError/RangeError synchronously for bad arguments. @rejects as get() and Resolver.query().
   */
  query(name: string, type: string | number = 'A', cls: string | number = 'IN', opts?: number | QueryOptions): Promise<DnsPacket> {
    parseName(name);
    parseType(type);
    parseClass(cls);
    const { timeoutMs, signal } = queryOptions(opts);
    if (this.#closed) return Promise.reject(closedError());
    return this.#query(name, type, cls, timeoutMs === undefined ? Infinity : monotime() + timeoutMs, signal);
  }

  async #query(name: string, type: string | number, cls: string | number, deadline: number, signal: AbortSignal | undefined): Promise<DnsPacket> {
    const r = await this.#get(deadline, signal);
    try {
      const left = deadline === Infinity ? undefined : Math.max(0, deadline - monotime());
      return await r.query(name, type, cls, { timeoutMs: left, signal });
    } finally {
      if (this.#out.has(r)) this.put(r);
    }
  }

  /** Resolvers out, idle, and callers waiting for one. */
  stats(): { out: number; idle: number; waiting: number } {
    return { out: this.#out.size, idle: this.#idle.length, waiting: this.#waiting };
  }

  /** Closes every resolver (queries in progress reject with ERR_HANDLE_CLOSED) and wakes waiters. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const r of [...this.#idle, ...this.#out]) r.close();
    this.#idle.length = 0;
    this.#freed.signal();
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

function closedError(): RuntimeError {
  return new RuntimeError('ERR_HANDLE_CLOSED', 'resolver pool is closed');
}

let defaultPool: ResolverPool | undefined;

/** This thread's default pool (made on first use from resolv.conf and the hosts file). */
export function getPool(): ResolverPool {
  if (defaultPool === undefined || defaultPool.closed) defaultPool = new ResolverPool();
  return defaultPool;
}

/** Replaces this thread's default pool; returns the previous one (undefined if none was made). */
export function setPool(pool: ResolverPool): ResolverPool | undefined {
  if (!(pool instanceof ResolverPool)) throw invalidArgType('pool', 'an instance of ResolverPool', pool);
  const prev = defaultPool;
  defaultPool = pool;
  return prev;
}

/**
 * Resolves a question with this thread's default pool, as cqueues' `dns.query`.
 * @example
 * const p = await dns.query('example.com', 'AAAA', 'IN', 3000);
 */
export function query(name: string, type: string | number = 'A', cls: string | number = 'IN', opts?: number | QueryOptions): Promise<DnsPacket> {
  return getPool().query(name, type, cls, opts);
}
