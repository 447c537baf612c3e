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
  waiters: Waiter[];
  /** Per waiter: (argument index << 3) | event mask. */
  slots: number[];
}

/**
 * One call to poll(). It is a timer entry itself (the earliest of its numeric and per-object timeouts),
 * is linked into the fd watches and wait queues of its arguments, and resolves once with the ready
 * subset of its arguments in argument order.
 */
export class Waiter implements TimerEntry {
  deadline = Infinity;
  slot = -1;
  pos = -1;
  /** Set once queued for resolution: later readiness only adds marks. */
  queued = false;
  /** Set once resolved or abandoned: queues and watches skip it. */
  done = false;
  readonly host: WaiterHost;
  readonly objs: unknown[];
  resolve!: (ready: unknown[]) => void;
  #marks = 0;
  #marksHigh: Set<number> | undefined;
  /** (index, deadline) pairs when more than one argument carries a timeout. */
  timeouts: number[] | undefined;
  watches: FdWatch[] | undefined;
  queues: WaitQueue[] | undefined;

  constructor(host: WaiterHost, objs: unknown[]) {
    this.host = host;
    this.objs = objs;
  }

  /** Marks argument i ready and queues the waiter with its host (once). */
  mark(i: number): void {
    if (this.done) return;
    if (i < 31) this.#marks |= 1 << i;
    else (this.#marksHigh ??= new Set()).add(i);
    if (!this.queued) {
      this.queued = true;
      this.host.wake(this);
    }
  }

  /** Adds a timeout for argument i. */
  addTimeout(i: number, deadline: number): void {
    if (this.deadline === Infinity && this.timeouts === undefined) {
      this.deadline = deadline;
      this.timeouts = [i, deadline];
      return;
    }
    this.timeouts!.push(i, deadline);
    if (deadline < this.deadline) this.deadline = deadline;
  }

  /** Marks every argument whose timeout has passed. */
  expire(now: number): void {
    const t = this.timeouts!;
    for (let k = 0; k < t.length; k += 2) if (t[k + 1]! <= now) this.mark(t[k]!);
  }

  /** The ready arguments in argument order. */
  ready(): unknown[] {
    const out: unknown[] = [];
    const objs = this.objs;
    for (let i = 0; i < objs.length; i++) {
      if (i < 31 ? (this.#marks & (1 << i)) !== 0 : this.#marksHigh?.has(i) === true) out.push(objs[i]);
    }
    return out;
  }
}

/**
 * A list of waiters woken by signal(): the base of Condition and of the controller's own wake-ups.
 * Signals are not remembered: a signal with nobody waiting is lost, as in the original.
 */
export class WaitQueue {
  #waiters: Waiter[] = [];
  #index: number[] = [];
  #head = 0;
  #dead = 0;

  /** Links waiter w, waiting with argument index i. */
  enlist(w: Waiter, i: number): void {
    this.#waiters.push(w);
    this.#index.push(i);
    (w.queues ??= []).push(this);
  }

  /** Called by a waiter that lets go of this queue without being signalled. */
  forget(): void {
    // Dead links are skipped by signal() and compacted once they dominate.
    if (++this.#dead > 32 && this.#dead * 2 > this.#waiters.length - this.#head) this.#compact();
  }

  /** Number of live waiters. */
  get waiting(): number {
    let n = 0;
    for (let k = this.#head; k < this.#waiters.length; k++) if (!this.#waiters[k]!.done && !this.#waiters[k]!.host.closed) n++;
    return n;
  }

  /** Wakes up to n waiters (all by default), oldest first or, with lifo, newest first; returns how many. */
  protected wakeWaiters(n: number, lifo: boolean): number {
    let woken = 0;
    const ws = this.#waiters;
    const ix = this.#index;
    while (woken < n && this.#head < ws.length) {
      let w: Waiter;
      let i: number;
      if (lifo) {
        w = ws.pop()!;
        i = ix.pop()!;
      } else {
        w = ws[this.#head]!;
        i = ix[this.#head]!;
        ws[this.#head] = undefined as unknown as Waiter;
        this.#head++;
      }
      if (w.done || w.host.closed) {
        if (this.#dead > 0) this.#dead--;
        continue;
      }
      removeQueue(w, this);
      w.mark(i);
      woken++;
    }
    if (this.#head === ws.length) {
      ws.length = 0;
      ix.length = 0;
      this.#head = 0;
      this.#dead = 0;
    } else if (this.#head > 1024 && this.#head * 2 > ws.length) {
      this.#compact();
    }
    return woken;
  }

  #compact(): void {
    const ws: Waiter[] = [];
    const ix: number[] = [];
    for (let k = this.#head; k < this.#waiters.length; k++) {
      const w = this.#waiters[k]!;
      if (w.done || w.host.closed) continue;
      ws.push(w);
      ix.push(this.#index[k]!);
    }
    this.#waiters = ws;
    this.#index = ix;
    this.#head = 0;
    this.#dead = 0;
  }
}

function removeQueue(w: Waiter, q: WaitQueue): void {
  const qs = w.queues!;
  const k = qs.indexOf(q);
  if (k >= 0) qs.splice(k, 1);
}
