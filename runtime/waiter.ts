// A pending poll(): which objects it waits on, which have fired, and how to let go of all of them.
import type { TimerEntry } from './timer-wheel.js';

/** Anything that can be waited on, as cqueues' polling protocol: a descriptor, a wait queue, or nothing. */
export interface Pollable {
  /** A descriptor to wait on, a wait queue (Condition), or undefined for none. */
  pollfd(): number | WaitQueue | undefined;
  /** Which readiness to wait for; absent means 'r', '' means none (the object is then only timed). */
  events?(): 'r' | 'w' | 'rw' | '' | string;
  /** Ms until this object counts as ready even if its fd is not; undefined for no limit. */
  timeout?(): number | undefined;
}

/** The part of a controller a waiter needs: where to report that it became ready. */
export interface WaiterHost {
  readonly closed: boolean;
  /** Queues a woken waiter for resolution on the host's next pass. */
  wake(w: Waiter): void;
}

/** An fd registration shared by every waiter of one controller waiting on that fd. */
export interface FdWatch {
  readonly fd: number;
  /** The mask the kernel holds for fd (the native shadow mask, mirrored so a wait costs no native call). */
  kernel: number;
  waiters: Waiter[];
  /** Per waiter: (argument index << 3) | event mask. */
  slots: number[];
}

/** Resolve with the ready arguments (poll) or with whether argument 0 is ready (Condition.wait). */
export const AS_LIST = 0;
export const AS_FIRST = 1;
const QUEUED = 2;
const DONE = 4;
// Bits from MARK0 on: argument i < MARKS is ready. Later arguments are marked in `extra`.
const MARK0 = 3;
const MARKS = 28;

type Link = FdWatch | WaitQueue;

/**
 * One call to poll(). It is a timer entry itself (the earliest of its numeric and per-object timeouts),
 * is linked into the fd watches and wait queues of its arguments, and resolves once with the ready
 * subset of its arguments in argument order.
 *
 * NB: a million idle tasks each hold one of these, so it stays small: rarely used parts (more than one
 * timeout, more than 31 arguments) live in `extra`.
 */
export class Waiter implements TimerEntry {
  /** The earliest timeout, or -1 for none. */
  deadline = -1;
  slot = -1;
  pos = -1;
  /**
   * AS_LIST or AS_FIRST, QUEUED (later readiness only adds marks), DONE (resolved or abandoned), and from
   * bit MARK0 on one bit per ready argument.
   */
  #flags: number;
  readonly host: WaiterHost;
  /** The arguments, kept only when the result lists them. */
  readonly objs: unknown[] | undefined;
  resolve: (value: any) => void = noop;
  /** Rejects the poll: only when its controller closes under it. */
  reject: (err: unknown) => void = noop;
  /** The fd watch or wait queue this waiter is linked into, or an array of them. */
  #links: Link | Link[] | undefined = undefined;
  /** (index, deadline) pairs of its timeouts, and marks of arguments from MARKS on as (index, -1). */
  extra: number[] | undefined = undefined;

  constructor(host: WaiterHost, objs: unknown[], as: number) {
    this.host = host;
    this.objs = as === AS_LIST ? objs : undefined;
    this.#flags = as;
  }

  /** True once resolved or abandoned. */
  get done(): boolean {
    return (this.#flags & DONE) !== 0;
  }

  /** Marks the waiter resolved or abandoned. */
  finish(): void {
    this.#flags |= DONE;
  }

  /** Marks argument i ready and queues the waiter with its host (once). */
  mark(i: number): void {
    const f = this.#flags;
    if (f & DONE) return;
    if (i < MARKS) this.#flags = f | QUEUED | (1 << (MARK0 + i));
    else {
      (this.extra ??= []).push(i, -1);
      this.#flags = f | QUEUED;
    }
    if ((f & QUEUED) === 0) this.host.wake(this);
  }

  /** Links the waiter into a watch or queue. */
  link(l: Link): void {
    const ls = this.#links;
    if (ls === undefined) this.#links = l;
    else if (Array.isArray(ls)) ls.push(l);
    else this.#links = [ls, l];
  }

  /** Removes one link (the queue that woke it must not be told to forget it). */
  unlink(l: Link): void {
    const ls = this.#links;
    if (ls === l) this.#links = undefined;
    else if (Array.isArray(ls)) {
      const k = ls.indexOf(l);
      if (k >= 0) {
        ls[k] = ls[ls.length - 1]!;
        ls.pop();
      }
    }
  }

  /** Calls fn for each link and drops them all. */
  unlinkAll(fn: (l: Link, w: Waiter) => void): void {
    const ls = this.#links;
    if (ls === undefined) return;
    this.#links = undefined;
    if (Array.isArray(ls)) for (let k = 0; k < ls.length; k++) fn(ls[k]!, this);
    else fn(ls, this);
  }

  /** Adds a timeout for argument i. */
  addTimeout(i: number, deadline: number): void {
    (this.extra ??= []).push(i, deadline);
    const whole = Math.ceil(deadline);
    if (this.deadline < 0 || whole < this.deadline) this.deadline = whole;
  }

  /** Marks every argument whose timeout has passed. */
  expire(now: number): void {
    const t = this.extra!;
    for (let k = 0; k < t.length; k += 2) if (t[k + 1]! >= 0 && t[k + 1]! <= now) this.mark(t[k]!);
  }

  /** What the poll resolves with: the ready arguments in argument order, or whether argument 0 is. */
  result(): unknown {
    if (this.#flags & AS_FIRST) return (this.#flags & (1 << MARK0)) !== 0;
    const out: unknown[] = [];
    const objs = this.objs!;
    for (let i = 0; i < objs.length; i++) if (this.#isMarked(i)) out.push(objs[i]);
    return out;
  }

  #isMarked(i: number): boolean {
    if (i < MARKS) return (this.#flags & (1 << (MARK0 + i))) !== 0;
    const x = this.extra;
    if (x === undefined) return false;
    for (let k = 0; k < x.length; k += 2) if (x[k] === i && x[k + 1] === -1) return true;
    return false;
  }
}

function noop(): void {}

/**
 * A list of waiters woken by signal(): the base of Condition and of the controller's own wake-ups.
 * Signals are not remembered: a signal with nobody waiting is lost, as in the original.
 *
 * NB: the arrays are never truncated (that frees their storage, which the next push allocates again):
 * #head and #tail bound the live part, and consumed slots are cleared so nothing stays reachable.
 */
export class WaitQueue {
  #waiters: (Waiter | undefined)[] = [];
  #index: number[] = [];
  #head = 0;
  #tail = 0;
  #dead = 0;

  /** Links waiter w, waiting with argument index i. */
  enlist(w: Waiter, i: number): void {
    this.#waiters[this.#tail] = w;
    this.#index[this.#tail] = i;
    this.#tail++;
    w.link(this);
  }

  /** Called by a waiter that lets go of this queue without being signalled. */
  forget(): void {
    // Dead links are skipped by signal() and compacted once they dominate.
    if (++this.#dead > 32 && this.#dead * 2 > this.#tail - this.#head) this.#compact();
  }

  /** Number of live waiters. */
  get waiting(): number {
    let n = 0;
    for (let k = this.#head; k < this.#tail; k++) if (live(this.#waiters[k]!)) n++;
    return n;
  }

  /** Wakes up to n waiters (all by default), oldest first or, with lifo, newest first; returns how many. */
  protected wakeWaiters(n: number, lifo: boolean): number {
    let woken = 0;
    const ws = this.#waiters;
    while (woken < n && this.#head < this.#tail) {
      const k = lifo ? --this.#tail : this.#head++;
      const w = ws[k]!;
      ws[k] = undefined;
      if (!live(w)) {
        if (this.#dead > 0) this.#dead--;
        continue;
      }
      w.unlink(this);
      w.mark(this.#index[k]!);
      woken++;
    }
    if (this.#head === this.#tail) {
      this.#head = this.#tail = this.#dead = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#tail) {
      this.#compact();
    }
    return woken;
  }

  #compact(): void {
    const ws = this.#waiters;
    const ix = this.#index;
    let to = 0;
    for (let k = this.#head; k < this.#tail; k++) {
      const w = ws[k]!;
      ws[k] = undefined;
      if (!live(w)) continue;
      ws[to] = w;
      ix[to] = ix[k]!;
      to++;
    }
    this.#head = 0;
    this.#tail = to;
    this.#dead = 0;
  }
}

function live(w: Waiter): boolean {
  return !w.done && !w.host.closed;
}

/** A wait queue whose signal() always wakes everyone (a controller's own wake-ups). */
export class Signal extends WaitQueue {
  signal(): number {
    return this.wakeWaiters(Infinity, false);
  }
}
