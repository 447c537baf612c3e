// A bounded mailbox: FIFO delivery, selective receive, and an explicit policy for when it is full.
import { Condition, RuntimeError, SystemError, type Controller } from 'troupe';

/** What a full mailbox does with one more message: make the sender wait, refuse it, or drop the oldest. */
export type Overflow = 'wait' | 'fail' | 'drop-oldest';

/** Options of {@link Mailbox}. */
export interface MailboxOptions {
  /** Messages held at most. Default 1024. */
  capacity?: number;
  /** Default 'wait' (backpressure). */
  overflow?: Overflow;
  /** The controller receivers and waiting senders wait through. Default: the thread's root. */
  controller?: Controller;
}

const ETIMEDOUT = -110;

/**
 * Messages for one actor. Memory stays bounded whatever the senders do: with 'wait' a sender waits for
 * room (one deadline per call), with 'fail' it gets ERR_MAILBOX_FULL, with 'drop-oldest' the oldest
 * message goes. receive() takes the oldest message, or the oldest one that `match` accepts (the others stay,
 * in order). After close(), receivers get null and senders ERR_ACTOR_EXITED.
 */
export class Mailbox<M> {
  readonly capacity: number;
  readonly overflow: Overflow;
  #items: M[] = [];
  #head = 0;
  #closed = false;
  #dropped = 0;
  readonly #arrived: Condition;
  readonly #room: Condition;

  constructor(opts: MailboxOptions = {}) {
    const capacity = opts.capacity ?? 1024;
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw Object.assign(new RangeError(`The value of "capacity" is out of range. It must be an integer >= 1. Received ${capacity}`), { code: 'ERR_OUT_OF_RANGE' });
    }
    const overflow = opts.overflow ?? 'wait';
    if (overflow !== 'wait' && overflow !== 'fail' && overflow !== 'drop-oldest') {
      throw Object.assign(new TypeError(`The "overflow" option must be 'wait', 'fail' or 'drop-oldest'. Received ${String(overflow)}`), { code: 'ERR_INVALID_ARG_VALUE' });
    }
    this.capacity = capacity;
    this.overflow = overflow;
    this.#arrived = new Condition({ controller: opts.controller });
    this.#room = new Condition({ controller: opts.controller });
  }

  /** Messages waiting. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Messages dropped by the 'drop-oldest' policy so far. */
  get dropped(): number {
    return this.#dropped;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Enqueues msg, applying the overflow policy when full.
   * @throws RuntimeError ERR_MAILBOX_FULL ('fail'), ERR_ACTOR_EXITED (closed); SystemError ETIMEDOUT ('wait')
   */
  async post(msg: M, timeoutMs?: number): Promise<void> {
    const deadline = timeoutMs === undefined ? Infinity : performance.now() + Math.max(0, timeoutMs);
    for (;;) {
      if (this.tryPost(msg)) return;
      if (this.#closed) throw exited();
      if (this.overflow === 'fail') throw new RuntimeError('ERR_MAILBOX_FULL', `mailbox full (${this.capacity} messages)`);
      const left = deadline - performance.now();
      if (left <= 0) throw new SystemError(ETIMEDOUT, 'post');
      await this.#room.wait(...(left === Infinity ? [] : [left]));
    }
  }

  /** Enqueues msg if there is room (or by dropping the oldest, with 'drop-oldest'); false otherwise. */
  tryPost(msg: M): boolean {
    if (this.#closed) return false;
    if (this.size >= this.capacity) {
      if (this.overflow !== 'drop-oldest') return false;
      this.#take(this.#head);
      this.#dropped++;
    }
    this.#items.push(msg);
    this.#arrived.signal(); // all: a selective receiver may want this one
    return true;
  }

  /** The oldest message (that `match` accepts) if there is one now, else `none`. */
  tryReceive<T>(match: ((m: M) => boolean) | undefined, none: T): M | T {
    const k = this.#find(match);
    return k >= 0 ? this.#take(k) : none;
  }

  /**
   * Puts msg in whatever the capacity (system messages: exits, monitors' notices must not be lost).
   * @returns false once closed
   */
  force(msg: M): boolean {
    if (this.#closed) return false;
    this.#items.push(msg);
    this.#arrived.signal();
    return true;
  }

  /**
   * The oldest message (that `match` accepts), waiting for one up to timeoutMs; null once the mailbox is
   * closed and holds nothing that matches.
   * @throws SystemError ETIMEDOUT
   */
  async receive(opts: { timeoutMs?: number; match?: (m: M) => boolean } = {}): Promise<M | null> {
    const deadline = opts.timeoutMs === undefined ? Infinity : performance.now() + Math.max(0, opts.timeoutMs);
    for (;;) {
      const k = this.#find(opts.match);
      if (k >= 0) return this.#take(k);
      if (this.#closed) return null;
      const left = deadline - performance.now();
      if (left <= 0) throw new SystemError(ETIMEDOUT, 'receive');
      await this.#arrived.wait(...(left === Infinity ? [] : [left]));
    }
  }

  /** Closes the mailbox: waiting receivers get null (after what matches is taken), senders ERR_ACTOR_EXITED. */
  close(): M[] {
    if (this.#closed) return [];
    this.#closed = true;
    const left = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    this.#arrived.signal();
    this.#room.signal();
    return left;
  }

  #find(match: ((m: M) => boolean) | undefined): number {
    if (this.#head === this.#items.length) return -1;
    if (match === undefined) return this.#head;
    for (let k = this.#head; k < this.#items.length; k++) if (match(this.#items[k]!)) return k;
    return -1;
  }

  #take(k: number): M {
    const items = this.#items;
    const m = items[k]!;
    if (k === this.#head) {
      items[k] = undefined as M;
      this.#head++;
      // NB: compact once the consumed prefix dominates, so a long-lived mailbox does not grow.
      if (this.#head > 64 && this.#head * 2 > items.length) {
        this.#items = items.slice(this.#head);
        this.#head = 0;
      }
    } else {
      items.splice(k, 1); // selective receive: the others stay in order
    }
    this.#room.signal(1);
    return m;
  }
}

function exited(): RuntimeError {
  return new RuntimeError('ERR_ACTOR_EXITED', 'the actor has exited');
}
