// A bounded mailbox: FIFO delivery, selective receive, and an explicit policy for when it is full.
import { RuntimeError, SystemError } from 'troupe';

/** What a full mailbox does with one more message: make the sender wait, refuse it, or drop the oldest. */
export type Overflow = 'wait' | 'fail' | 'drop-oldest';

/** Options of {@link Mailbox}. */
export interface MailboxOptions {
  /** Messages held at most. Default 1024. */
  capacity?: number;
  /** Default 'wait' (backpressure). */
  overflow?: Overflow;
}

/** Options of one receive. */
export interface ReceiveOptions<M> {
  timeoutMs?: number;
  match?: (m: M) => boolean;
  /** Resolve null when the time runs out, rather than reject ETIMEDOUT. */
  nullOnTimeout?: boolean;
}

const ETIMEDOUT = -110;
const RESOLVED = Promise.resolve();

// A waiting receiver (an actor has one at most; a bare mailbox may have several) or sender.
interface Receiver<M> {
  match: ((m: M) => boolean) | undefined;
  resolve(v: unknown): void;
  reject(e: unknown): void;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Settle with an iterator result ({ done, value }) rather than the message. */
  iter: boolean;
}

/** A mailbox's rarely used state (see Mailbox.#w). */
class Waits<M> {
  /** The first receiver waiting with a match or a timeout (more: receivers). */
  receiver: Receiver<M> | undefined = undefined;
  receivers: Receiver<M>[] | undefined = undefined;
  senders: Sender<M>[] | undefined = undefined;
  rooms: (() => void)[] | undefined = undefined;
  dropped = 0;
}

const NONE: unknown[] = [];

/** A mailbox's capacity and overflow policy: one shared object for the default ones. */
interface Limits {
  readonly capacity: number;
  readonly overflow: Overflow;
}

const DEFAULT_LIMITS: Limits = Object.freeze({ capacity: 1024, overflow: 'wait' });

// Mailbox.#bits
const CLOSED = 1;
const WAKE_ITER = 2;

// NB: one executor for every idle wait rather than a closure per receive: it leaves the resolve function
// here for the caller to take at once.
let taken: ((v: unknown) => void) | undefined;
function takeResolve(resolve: (v: unknown) => void): void {
  taken = resolve;
}

interface Sender<M> {
  msg: M;
  resolve(): void;
  reject(e: unknown): void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Messages for one actor. Memory stays bounded whatever the senders do: with 'wait' a sender waits for
 * room (one deadline per call), with 'fail' it gets ERR_MAILBOX_FULL, with 'drop-oldest' the oldest
 * message goes. receive() takes the oldest message, or the oldest one that `match` accepts (the others stay,
 * in order). After close(), receivers get null and senders ERR_ACTOR_EXITED.
 *
 * Waiting costs nothing until it happens: a message for a waiting receiver goes straight to it, and a
 * sender waiting for room has its message moved in as soon as one is taken (senders keep their order).
 */
export class Mailbox<M> {
  // NB: every field counts a million times over in a system of idle actors: the limits are one shared
  // object unless set, the flags share one number, and the rare waits are out of line.
  #limits: Limits;
  // NB: the shared empty array until a message is queued: an actor that only ever had messages handed
  // straight to it has none of its own.
  #items: M[] = NONE as M[];
  #head = 0;
  /** CLOSED, WAKE_ITER. */
  #bits = 0;
  // NB: a plain waiting receiver (no match, no timeout: an idle actor) is just its resolve function;
  // others waiting (with a match or a timeout) are in Waits.
  #wake: ((v: unknown) => void) | undefined;
  // Receivers with a match or a timeout, waiting senders, room waiters and the drop count: rare, so out
  // of line (see Waits).
  #w: Waits<M> | undefined;

  /** @internal */
  constructor(opts?: MailboxOptions) {
    this.#limits = opts === undefined || (opts.capacity === undefined && opts.overflow === undefined) ? DEFAULT_LIMITS : limitsOf(opts);
  }

  /** @internal */
  get capacity(): number {
    return this.#limits.capacity;
  }

  /** @internal */
  get overflow(): Overflow {
    return this.#limits.overflow;
  }

  get #wakeIter(): boolean {
    return (this.#bits & WAKE_ITER) !== 0;
  }

  set #wakeIter(on: boolean) {
    this.#bits = on ? this.#bits | WAKE_ITER : this.#bits & ~WAKE_ITER;
  }

  get #receiver(): Receiver<M> | undefined {
    return this.#w?.receiver;
  }

  set #receiver(v: Receiver<M> | undefined) {
    if (v !== undefined || this.#w !== undefined) (this.#w ??= new Waits()).receiver = v;
  }

  get #receivers(): Receiver<M>[] | undefined {
    return this.#w?.receivers;
  }

  set #receivers(v: Receiver<M>[] | undefined) {
    if (v !== undefined || this.#w !== undefined) (this.#w ??= new Waits()).receivers = v;
  }

  get #senders(): Sender<M>[] | undefined {
    return this.#w?.senders;
  }

  set #senders(v: Sender<M>[] | undefined) {
    if (v !== undefined || this.#w !== undefined) (this.#w ??= new Waits()).senders = v;
  }

  get #roomWaiters(): (() => void)[] | undefined {
    return this.#w?.rooms;
  }

  set #roomWaiters(v: (() => void)[] | undefined) {
    if (v !== undefined || this.#w !== undefined) (this.#w ??= new Waits()).rooms = v;
  }

  #push(msg: M): void {
    if (this.#items === NONE) this.#items = [];
    this.#items.push(msg);
  }

  /** @internal Messages waiting. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** @internal Messages dropped by the 'drop-oldest' policy so far. */
  get dropped(): number {
    return this.#w?.dropped ?? 0;
  }

  /** @internal */
  get closed(): boolean {
    return (this.#bits & CLOSED) !== 0;
  }

  /** @internal What a receiver is given for a message it takes (a subclass may unwrap it). */
  protected opened(item: M): unknown {
    return item;
  }

  /**
   * @internal
   * Enqueues msg, applying the overflow policy when full.
   * @throws RuntimeError ERR_MAILBOX_FULL ('fail'), ERR_ACTOR_EXITED (closed); SystemError ETIMEDOUT ('wait')
   */
  post(msg: M, timeoutMs?: number): Promise<void> {
    if (this.tryPost(msg)) return RESOLVED;
    if ((this.#bits & CLOSED) !== 0) return Promise.reject(exited());
    if (this.overflow === 'fail') return Promise.reject(new RuntimeError('ERR_MAILBOX_FULL', `mailbox full (${this.capacity} messages)`));
    return new Promise<void>((resolve, reject) => {
      const s: Sender<M> = { msg, resolve, reject, timer: undefined };
      (this.#senders ??= []).push(s);
      if (timeoutMs !== undefined) {
        s.timer = setTimeout(() => {
          this.#senders?.splice(this.#senders.indexOf(s), 1);
          reject(new SystemError(ETIMEDOUT, 'post'));
        }, Math.max(0, timeoutMs));
      }
    });
  }

  /** @internal Enqueues msg if there is room (or by dropping the oldest, with 'drop-oldest'); false otherwise. */
  tryPost(msg: M): boolean {
    if ((this.#bits & CLOSED) !== 0) return false;
    // Straight to a waiting receiver that wants it: every one waiting has found nothing it wants so far.
    if (this.#waiting() && this.#handOff(msg)) return true;
    if (this.size >= this.#limits.capacity || (this.#senders !== undefined && this.#senders.length > 0)) {
      if (this.#limits.overflow !== 'drop-oldest') return false;
      this.#items[this.#head] = undefined as M;
      this.#head++;
      (this.#w ??= new Waits()).dropped++;
    }
    this.#push(msg);
    return true;
  }

  /** @internal Puts msg in whatever the capacity (system messages: exits, monitors' notices must not be lost). */
  force(msg: M): boolean {
    if ((this.#bits & CLOSED) !== 0) return false;
    if (!this.#waiting() || !this.#handOff(msg)) this.#push(msg);
    return true;
  }

  /**
   * @internal
   * The oldest message (that `match` accepts), waiting for one up to timeoutMs; null once the mailbox is
   * closed and holds nothing that matches.
   * @throws SystemError ETIMEDOUT (unless nullOnTimeout)
   */
  receive(opts: ReceiveOptions<M> = {}): Promise<M | null> {
    return this.#receive(opts.match, opts.timeoutMs, opts.nullOnTimeout === true, false) as Promise<M | null>;
  }

  /** @internal receive() as an async iterator's next(): { done: true } once closed. */
  next(): Promise<IteratorResult<unknown>> {
    // NB: the hot path of every actor's `for await`: the oldest message, with nothing else to decide.
    if (this.#head < this.#items.length) return Promise.resolve({ done: false, value: this.opened(this.#take(this.#head)) });
    return this.#receive(undefined, undefined, false, true) as Promise<IteratorResult<unknown>>;
  }

  /**
   * @internal
   * Resolves once the mailbox is at most half full (or closed): a sender with many messages for it can
   * then hand over a run of them at once, rather than waiting for each slot.
   */
  room(): Promise<void> {
    if ((this.#bits & CLOSED) !== 0 || this.size <= this.#limits.capacity >> 1) return RESOLVED;
    return new Promise((res) => (this.#roomWaiters ??= []).push(res));
  }

  /** @internal Closes the mailbox: waiting receivers get null, senders ERR_ACTOR_EXITED; returns what was left. */
  close(): M[] {
    if ((this.#bits & CLOSED) !== 0) return [];
    this.#bits |= CLOSED;
    const left = this.#items.slice(this.#head);
    this.#items = NONE as M[];
    this.#head = 0;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.(this.#wakeIter ? { done: true, value: undefined } : null);
    const receivers = this.#receiver === undefined ? [] : [this.#receiver, ...(this.#receivers ?? [])];
    const senders = this.#senders ?? [];
    this.#receiver = undefined;
    this.#receivers = undefined;
    this.#senders = undefined;
    for (const r of receivers) {
      if (r.timer !== undefined) clearTimeout(r.timer);
      r.resolve(r.iter ? { done: true, value: undefined } : null);
    }
    for (const s of senders) {
      if (s.timer !== undefined) clearTimeout(s.timer);
      s.reject(exited());
    }
    const rooms = this.#roomWaiters ?? [];
    this.#roomWaiters = undefined;
    for (const res of rooms) res();
    return left;
  }

  #receive(match: ((m: M) => boolean) | undefined, timeoutMs: number | undefined, nullOnTimeout: boolean, iter: boolean): Promise<unknown> {
    const k = this.#find(match);
    if (k >= 0) {
      const v = this.opened(this.#take(k));
      return Promise.resolve(iter ? { done: false, value: v } : v);
    }
    if ((this.#bits & CLOSED) !== 0) return Promise.resolve(iter ? { done: true, value: undefined } : null);
    if (match === undefined && timeoutMs === undefined && !this.#waiting()) {
      const p = new Promise(takeResolve);
      this.#wake = taken;
      taken = undefined;
      this.#wakeIter = iter;
      return p;
    }
    return new Promise((resolve, reject) => {
      const r: Receiver<M> = { match, resolve, reject, timer: undefined, iter };
      if (this.#receiver === undefined) this.#receiver = r;
      else (this.#receivers ??= []).push(r);
      if (timeoutMs !== undefined) {
        r.timer = setTimeout(() => {
          this.#unlist(r);
          if (nullOnTimeout) resolve(null);
          else reject(new SystemError(ETIMEDOUT, 'receive'));
        }, Math.max(0, timeoutMs));
      }
    });
  }

  #waiting(): boolean {
    return this.#wake !== undefined || this.#w?.receiver !== undefined;
  }

  #handOff(msg: M): boolean {
    const wake = this.#wake;
    if (wake !== undefined) {
      this.#wake = undefined;
      const v = this.opened(msg);
      wake((this.#bits & WAKE_ITER) !== 0 ? { done: false, value: v } : v);
      return true;
    }
    let r = this.#receiver!;
    let i = -1;
    while (r.match !== undefined && !r.match(msg)) {
      r = this.#receivers?.[++i] as Receiver<M>;
      if (r === undefined) return false;
    }
    this.#unlist(r);
    if (r.timer !== undefined) clearTimeout(r.timer);
    const v = this.opened(msg);
    r.resolve(r.iter ? { done: false, value: v } : v);
    return true;
  }

  /** Takes r off the waiting list (the next one moves into the field). */
  #unlist(r: Receiver<M>): void {
    const rs = this.#receivers;
    if (this.#receiver === r) {
      this.#receiver = rs?.shift();
    } else if (rs !== undefined) {
      const i = rs.indexOf(r);
      if (i >= 0) rs.splice(i, 1);
    }
    if (rs !== undefined && rs.length === 0) this.#receivers = undefined;
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
      if (this.#head === items.length) {
        items.length = 0;
        this.#head = 0;
      } else if (this.#head > 64 && this.#head * 2 > items.length) {
        // NB: compact once the consumed prefix dominates, so a long-lived mailbox does not grow.
        this.#items = items.slice(this.#head);
        this.#head = 0;
      }
    } else {
      items.splice(k, 1); // selective receive: the others stay in order
    }
    // NB: room is given at half empty, not per slot: a sender blocked on a full mailbox then goes on with
    // a run of sends that fit, instead of waiting again for every message (as a stream's 'drain').
    if (this.size <= this.#limits.capacity >> 1) {
      if (this.#roomWaiters !== undefined) {
        const rooms = this.#roomWaiters;
        this.#roomWaiters = undefined;
        for (const res of rooms) res();
      }
      if (this.#senders !== undefined) this.#admit();
    }
    return m;
  }

  /** Moves waiting senders' messages in, longest-waiting first, while they fit (senders keep their order). */
  #admit(): void {
    const senders = this.#senders!;
    let k = 0;
    while (k < senders.length && this.size < this.#limits.capacity) {
      const s = senders[k++]!;
      if (s.timer !== undefined) clearTimeout(s.timer);
      if (!this.#waiting() || !this.#handOff(s.msg)) this.#push(s.msg);
      s.resolve();
    }
    senders.splice(0, k);
    if (senders.length === 0) this.#senders = undefined;
  }
}

/** The limits opts asks for. @throws ERR_OUT_OF_RANGE, ERR_INVALID_ARG_VALUE */
function limitsOf(opts: MailboxOptions): Limits {
  const capacity = opts.capacity ?? 1024;
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw Object.assign(new RangeError(`The value of "capacity" is out of range. It must be an integer >= 1. Received ${capacity}`), { code: 'ERR_OUT_OF_RANGE' });
  }
  const overflow = opts.overflow ?? 'wait';
  if (overflow !== 'wait' && overflow !== 'fail' && overflow !== 'drop-oldest') {
    throw Object.assign(new TypeError(`The "overflow" option must be 'wait', 'fail' or 'drop-oldest'. Received ${String(overflow)}`), { code: 'ERR_INVALID_ARG_VALUE' });
  }
  return { capacity, overflow };
}

function exited(): RuntimeError {
  return new RuntimeError('ERR_ACTOR_EXITED', 'the actor has exited');
}
