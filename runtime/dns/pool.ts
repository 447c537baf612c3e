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
 * resolv.conf and the hosts file are read when the pool is made (from the thread's cache of them while
 * they are unchanged); its resolvers share those settings, and `rotate`'s turn.
 */
export class ResolverPool implements AsyncDisposable {
  readonly #s: Settings;
  readonly #max: number;
  readonly #maxIdle: number;
  readonly #ctl: Controller;
  readonly #idle: Resolver[] = [];
  readonly #out = new Set<Resolver>();
  /** Callers waiting for a resolver, oldest first: put() hands the resolver to the oldest. */
  readonly #waiters = new Set<Waiter>();
  #closed = false;

  /** @throws TypeError/RangeError for bad options; the fs error of an explicitly named file */
  constructor(opts: ResolverPoolOptions = {}) {
    this.#s = settings(opts);
    this.#max = opts.max === undefined ? 32 : checkInt('opts.max', opts.max, 1, 2 ** 31 - 1);
    this.#maxIdle = opts.maxIdle === undefined ? 1 : checkInt('opts.maxIdle', opts.maxIdle, 0, 2 ** 31 - 1);
    this.#ctl = this.#s.controller ?? Controller.root();
  }

  /**
   * Takes a resolver: an idle one, a new one while fewer than `max` are out, else the next one put back
   * (callers waiting are served in the order they came). Give it back with put().
   * @rejects SystemError ETIMEDOUT; RuntimeError ERR_HANDLE_CLOSED when the pool is (or gets) closed.
   */
  get(timeoutMs?: number): Promise<Resolver> {
    const t = validateTimeout('timeoutMs', timeoutMs);
    if (this.#closed) return Promise.reject(closedError());
    return this.#get(t === undefined ? Infinity : monotime() + t, undefined);
  }

  async #get(deadline: number, signal: AbortSignal | undefined): Promise<Resolver> {
    this.#usable();
    if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
    // Nobody waits when a resolver is idle or another may be made: put() serves waiters first.
    if (this.#waiters.size === 0) {
      const r = this.#idle.pop() ?? (this.#out.size < this.#max ? resolverWith(this.#s) : undefined);
      if (r !== undefined) {
        this.#out.add(r);
        return r;
      }
    }
    const w = new Waiter(this.#ctl);
    const wake = (): void => void w.cv.signal();
    signal?.addEventListener('abort', wake, { once: true });
    this.#waiters.add(w);
    try {
      for (;;) {
        this.#usable();
        // A resolver handed over is taken even if the deadline or an abort came at the same time.
        if (w.resolver !== undefined) return w.resolver;
        if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
        const left = deadline - monotime();
        if (left <= 0) throw timeoutError('get');
        await w.cv.wait(...(left === Infinity ? [] : [left]));
      }
    } finally {
      this.#waiters.delete(w); // leaving the queue wakes nobody else
      signal?.removeEventListener('abort', wake);
    }
  }

  /**
   * Gives back a resolver from get(): handed to the oldest caller waiting, if any; else kept while fewer
   * than `maxIdle` are idle, else closed.
   * @throws TypeError ERR_INVALID_ARG_VALUE for a resolver that is not out of this pool
   */
  put(r: Resolver): void {
    if (!(r instanceof Resolver)) throw invalidArgType('r', 'an instance of Resolver', r);
    if (!this.#out.has(r)) throw invalidArgValue('r', r, 'a resolver taken from this pool with get()');
    const next = this.#closed ? undefined : this.#oldestWaiter();
    if (next !== undefined && !r.closed) {
      next.take(r); // stays out, now the waiter's
      return;
    }
    this.#out.delete(r);
    if (next !== undefined) {
      // r was closed by its user: a new one for the waiter, in its place.
      const fresh = resolverWith(this.#s);
      this.#out.add(fresh);
      next.take(fresh);
      return;
    }
    if (this.#closed || r.closed || this.#idle.length >= this.#maxIdle) r.close();
    else this.#idle.push(r);
  }

  /** The oldest waiter not yet served, out of the queue. */
  #oldestWaiter(): Waiter | undefined {
    for (const w of this.#waiters) {
      this.#waiters.delete(w);
      if (w.resolver === undefined) return w;
    }
    return undefined;
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
    return { out: this.#out.size, idle: this.#idle.length, waiting: this.#waiters.size };
  }

  /** Closes every resolver (queries in progress reject with ERR_HANDLE_CLOSED) and wakes waiters. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const r of [...this.#idle, ...this.#out]) r.close();
    this.#idle.length = 0;
    for (const w of this.#waiters) w.cv.signal();
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

/** One caller of get() waiting its turn: woken once, by put() (with a resolver), close() or an abort. */
class Waiter {
  readonly cv: Condition;
  resolver: Resolver | undefined;

  constructor(ctl: Controller) {
    this.cv = new Condition({ controller: ctl });
  }

  take(r: Resolver): void {
    this.resolver = r;
    this.cv.signal();
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
