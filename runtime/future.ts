// Future: cqueues' promise — a settle-once value that tasks can poll, get with a timeout, or await.
import { Condition } from './condition.js';
import { Controller } from './controller.js';
import { RuntimeError, invalidArgType, timeoutError, validateTimeout } from './errors.js';
import type { Pollable } from './waiter.js';

type State = 'pending' | 'fulfilled' | 'rejected';

/**
 * A value that is settled once, from anywhere. Pollable (ready once settled) and a PromiseLike (await it).
 * Given a function, runs it as a task on the root controller and settles with its outcome.
 *
 * @example
 * const f = new Future(async () => fetchSomething());
 * const v = await f.get(1000); // rejects ETIMEDOUT after 1 s
 */
export class Future<T> implements Pollable, PromiseLike<T> {
  #state: State = 'pending';
  #value: unknown;
  readonly #cond = new Condition();
  #promise: Promise<T> | undefined;

  constructor(fn?: (...args: any[]) => T | Promise<T>, ...args: any[]) {
    if (fn === undefined) return;
    if (typeof fn !== 'function') throw invalidArgType('fn', 'of type function', fn);
    Controller.root().wrap(async () => {
      // NB: someone may have settled the future first: then fn's outcome is dropped, not thrown.
      let ok = true;
      let value: unknown;
      try {
        value = await fn(...args);
      } catch (err) {
        ok = false;
        value = err;
      }
      if (this.#state === 'pending') this.#settle(ok ? 'fulfilled' : 'rejected', value);
    });
  }

  /** Fulfils the future. @throws RuntimeError ERR_FUTURE_SETTLED if already settled. */
  resolve(value: T): void {
    this.#settle('fulfilled', value);
  }

  /** Rejects the future. @throws RuntimeError ERR_FUTURE_SETTLED if already settled. */
  reject(reason: unknown): void {
    this.#settle('rejected', reason);
  }

  status(): State {
    return this.#state;
  }

  /**
   * The value, waiting up to timeoutMs for it.
   * @throws the rejection reason; SystemError ETIMEDOUT if still pending at the timeout.
   */
  get(timeoutMs?: number): Promise<T> {
    // NB: the timeout is checked before the async part: a bad one throws synchronously (API.md).
    return this.#get(validateTimeout('timeoutMs', timeoutMs));
  }

  async #get(t: number | undefined): Promise<T> {
    if (!(await this.#wait(t))) throw timeoutError('future.get');
    if (this.#state === 'rejected') throw this.#value;
    return this.#value as T;
  }

  /** Waits up to timeoutMs; true once settled, false at the timeout. */
  wait(timeoutMs?: number): Promise<boolean> {
    return this.#wait(validateTimeout('timeoutMs', timeoutMs));
  }

  async #wait(t: number | undefined): Promise<boolean> {
    if (this.#state !== 'pending') return true;
    await Controller.root().poll<unknown>(this, ...(t === undefined ? [] : [t]));
    return this.#state !== 'pending';
  }

  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    if (this.#promise === undefined) {
      this.#promise =
        this.#state === 'fulfilled'
          ? Promise.resolve(this.#value as T)
          : this.#state === 'rejected'
            ? Promise.reject(this.#value)
            : this.get();
    }
    return this.#promise.then(onfulfilled, onrejected);
  }

  /** Its condition while pending; poll() returns the future once settled. */
  pollfd(): Condition {
    return this.#cond;
  }

  /** 0 once settled, so a poll returns at once. */
  timeout(): number | undefined {
    return this.#state === 'pending' ? undefined : 0;
  }

  #settle(state: State, value: unknown): void {
    if (this.#state !== 'pending') throw new RuntimeError('ERR_FUTURE_SETTLED', `future already ${this.#state}`);
    this.#state = state;
    this.#value = value;
    this.#cond.signal();
  }
}
