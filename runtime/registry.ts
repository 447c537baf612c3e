// A controller's registrations: fds in its kernel set, timers in its wheel, and the waiters linked to them.
import { EPOLLERR, EPOLLHUP, EPOLLIN, EPOLLOUT, EPOLLPRI, type NativePoller } from './native.js';
import { SystemError, invalidArgType } from './errors.js';
import { TimerWheel, type TimerEntry } from './timer-wheel.js';
import { WaitQueue, Waiter, type FdWatch, type Pollable } from './waiter.js';

/** Monotonic milliseconds (a float), the clock of every troupe deadline. */
export const monotime: () => number = performance.now.bind(performance);

const EINTR = -4;
const MAX_EVENTS = 256;

/** A sleep(): a timer entry that resolves a promise. */
export class Sleeper implements TimerEntry {
  deadline = 0;
  slot = -1;
  pos = -1;
  constructor(
    readonly resolve: () => void,
    readonly reject: (err: unknown) => void,
  ) {}
}

// NB: fd -> the registries that hold it in their kernel set. close() of any handle calls cancelFd() first,
// so no controller keeps a registration for a descriptor number that is about to be reused.
const fdOwners = new Map<number, Set<Registry>>();

/**
 * Wakes every task that polls `fd` in any controller of this thread, as if the fd were ready, and removes
 * it from every kernel set. Handles call this before they close their descriptor.
 */
export function cancelFd(fd: number): void {
  const owners = fdOwners.get(fd);
  if (owners === undefined) return;
  for (const r of [...owners]) r.cancel(fd);
}

/**
 * What one controller waits on. Kernel registrations are level-triggered with the kernel's mask mirrored
 * per fd, so only real ADD/MOD/DEL changes cross to native code; an fd a woken waiter no longer wants stays
 * registered until it fires unwanted once (a socket that waits again at once costs no epoll_ctl).
 */
export class Registry {
  readonly #poller: NativePoller;
  readonly #wheel: TimerWheel<Sleeper | Waiter>;
  readonly #watches = new Map<number, FdWatch>();
  readonly #events = new Int32Array(MAX_EVENTS * 2);
  readonly #changed: () => void;
  // NB: every wait not yet settled, so that a closing controller can settle them all: waits linked only
  // into a Condition (a loop() on the root, a task's cond.wait()) are reachable from nowhere else.
  readonly #live = new Set<Waiter | Sleeper>();
  #watching = 0;
  #armed: number | undefined;

  /** `changed` is called when a wait on an fd or a timer is added (the root's keep-alive follows that). */
  constructor(poller: NativePoller, changed: () => void) {
    this.#poller = poller;
    this.#wheel = new TimerWheel(monotime());
    this.#changed = changed;
  }

  /** Waits on fds right now. */
  get watching(): number {
    return this.#watching;
  }

  get timers(): number {
    return this.#wheel.size;
  }

  get fds(): number {
    return this.#watches.size;
  }

  /** The next tick holding a timer, on the monotime() clock, or undefined. */
  nextTick(): number | undefined {
    return this.#wheel.nextTick();
  }

  /** Links a poll's waiter to everything it waits on. @throws on bad arguments or a refused fd */
  enlist(w: Waiter, objs: unknown[]): void {
    let now = -1;
    for (let i = 0; i < objs.length; i++) {
      const o = objs[i];
      if (typeof o === 'number') {
        if (Number.isNaN(o)) continue; // NaN: no timeout, as the original
        if (o <= 0) w.mark(i);
        else {
          if (now < 0) now = monotime();
          w.addTimeout(i, now + o);
        }
        continue;
      }
      if (o === undefined || o === null) continue;
      if (o instanceof WaitQueue) {
        o.enlist(w, i);
        continue;
      }
      if (typeof o !== 'object' && typeof o !== 'function') throw invalidArgType(`objs[${i}]`, 'a Pollable or a number', o);
      const p = o as Partial<Pollable> & { pollfd?: unknown };
      const fd = typeof p.pollfd === 'function' ? p.pollfd() : p.pollfd;
      if (fd instanceof WaitQueue) fd.enlist(w, i);
      else if (typeof fd === 'number') {
        if (fd >= 0) {
          const mask = eventMask(p);
          if (mask !== 0) this.watch(fd, mask, w, i);
        }
      } else if (fd !== undefined && fd !== null) {
        throw invalidArgType(`objs[${i}].pollfd()`, 'a number, a Condition or undefined', fd);
      }
      const t = typeof p.timeout === 'function' ? p.timeout() : undefined;
      if (typeof t === 'number' && !Number.isNaN(t)) {
        if (t <= 0) w.mark(i);
        else {
          if (now < 0) now = monotime();
          w.addTimeout(i, now + t);
        }
      }
    }
    if (w.deadline >= 0 && w.deadline !== Infinity) this.addTimer(w, w.deadline);
  }

  /** Waiter w (argument i) waits for `mask` on fd. @throws SystemError when the kernel refuses the fd */
  watch(fd: number, mask: number, w: Waiter, i: number): void {
    let watch = this.#watches.get(fd);
    if (watch === undefined) {
      watch = { fd, kernel: 0, waiters: [], slots: [] };
      this.#watches.set(fd, watch);
      let owners = fdOwners.get(fd);
      if (owners === undefined) fdOwners.set(fd, (owners = new Set()));
      owners.add(this);
    }
    const have = watch.kernel;
    if ((have & mask) !== mask) {
      const rc = this.#poller.set(fd, have | mask, fd);
      if (rc < 0) {
        if (watch.waiters.length === 0) this.#unwatch(fd);
        throw nestingAware(rc, fd);
      }
      watch.kernel = have | mask;
    }
    watch.waiters.push(w);
    watch.slots.push((i << 3) | mask);
    w.link(watch);
    this.#watching++;
    this.#changed();
  }

  addTimer(e: Sleeper | Waiter, deadline: number): void {
    const tick = this.#wheel.insert(e, deadline);
    if (this.#armed === undefined || tick < this.#armed) {
      this.#armed = tick;
      this.#poller.arm(tick - monotime());
    }
    this.#changed();
  }

  /** Starts tracking a wait until it settles. */
  track(e: Waiter | Sleeper): void {
    this.#live.add(e);
  }

  /** Rejects every wait not yet settled with err (the controller is closing). */
  abandonAll(err: unknown): void {
    const live = [...this.#live];
    this.#live.clear();
    for (const e of live) {
      if (e instanceof Waiter) this.release(e);
      else if (e.slot >= 0) this.#wheel.cancel(e);
      e.reject(err);
    }
  }

  /** Lets go of everything a waiter is linked into; it will not be resolved. */
  release(w: Waiter): void {
    this.#live.delete(w);
    w.finish();
    if (w.slot >= 0) this.#wheel.cancel(w);
    w.unlinkAll(this.#unlink);
  }

  readonly #unlink = (link: FdWatch | WaitQueue, w: Waiter): void => {
    if (link instanceof WaitQueue) {
      link.forget();
      return;
    }
    // NB: the kernel registration stays (level-triggered, lazily dropped on the next unwanted event).
    const j = link.waiters.indexOf(w);
    if (j < 0) return;
    const last = link.waiters.length - 1;
    link.waiters[j] = link.waiters[last]!;
    link.slots[j] = link.slots[last]!;
    link.waiters.pop();
    link.slots.pop();
    this.#watching--;
  };

  /** Wakes the waiters of fd as if it were ready, and forgets fd. */
  cancel(fd: number): void {
    const watch = this.#watches.get(fd);
    if (watch !== undefined) {
      for (let k = 0; k < watch.waiters.length; k++) watch.waiters[k]!.mark(watch.slots[k]! >>> 3);
    }
    this.#unwatch(fd);
  }

  /** Forgets every fd (the poller is closing; the kernel set goes with it). */
  forgetAll(): void {
    for (const fd of this.#watches.keys()) this.#dropOwner(fd);
    this.#watches.clear();
  }

  /** Marks the waiters of ready fds and expired timers; one native wait per MAX_EVENTS fds. */
  collect(): void {
    const buf = this.#events;
    for (;;) {
      const n = this.#poller.wait(0, buf);
      if (n < 0) {
        if (n === EINTR) continue;
        throw new SystemError(n, 'epoll_wait');
      }
      for (let k = 0; k < n; k++) this.#onEvent(buf[2 * k]!, buf[2 * k + 1]!);
      if (n < MAX_EVENTS) break;
    }
    if (this.#wheel.size > 0) {
      const now = monotime();
      if (this.#armed !== undefined && this.#armed <= now) this.#armed = undefined;
      this.#wheel.expire(now, (e) => {
        if (e instanceof Waiter) e.expire(now);
        else {
          this.#live.delete(e);
          e.resolve();
        }
      });
    } else {
      this.#armed = undefined;
    }
  }

  /** Arms the timerfd for the next tick holding a timer (if it changed). */
  rearm(): void {
    const next = this.#wheel.nextTick();
    if (next === this.#armed) return;
    if (next === undefined) {
      this.#poller.disarm();
      this.#armed = undefined;
      return;
    }
    this.#armed = next;
    this.#poller.arm(next - monotime());
  }

  #onEvent(fd: number, ev: number): void {
    const watch = this.#watches.get(fd);
    if (watch === undefined) {
      this.#poller.set(fd, 0, 0); // stale: nobody here knows this fd any more
      return;
    }
    const fired = firedMask(ev);
    let want = 0;
    let hit = false;
    for (let k = 0; k < watch.waiters.length; k++) {
      const slot = watch.slots[k]!;
      want |= slot & 7;
      if (slot & fired) {
        watch.waiters[k]!.mark(slot >>> 3);
        hit = true;
      }
    }
    if (!hit) {
      // Level-triggered and unwanted: narrow the kernel mask to what is still wanted (or drop the fd).
      if (want === 0) this.#unwatch(fd);
      else {
        this.#poller.set(fd, want, fd);
        watch.kernel = want;
      }
    }
  }

  #unwatch(fd: number): void {
    if (!this.#watches.has(fd)) return;
    this.#watches.delete(fd);
    this.#poller.set(fd, 0, 0);
    this.#dropOwner(fd);
  }

  #dropOwner(fd: number): void {
    const owners = fdOwners.get(fd);
    if (owners === undefined) return;
    owners.delete(this);
    if (owners.size === 0) fdOwners.delete(fd);
  }
}

function eventMask(o: { events?: () => unknown }): number {
  if (typeof o.events !== 'function') return EPOLLIN;
  const e = o.events();
  if (typeof e === 'number') return e & (EPOLLIN | EPOLLPRI | EPOLLOUT);
  if (e === undefined || e === null) return 0;
  if (typeof e !== 'string') throw invalidArgType('events()', "a string of 'r', 'w' and 'p'", e);
  let m = 0;
  for (let k = 0; k < e.length; k++) {
    const ch = e.charCodeAt(k);
    if (ch === 114 /* r */) m |= EPOLLIN;
    else if (ch === 119 /* w */) m |= EPOLLOUT;
    else if (ch === 112 /* p */) m |= EPOLLPRI;
  }
  return m;
}

function firedMask(ev: number): number {
  let m = ev & (EPOLLIN | EPOLLPRI | EPOLLOUT);
  // NB: errors and hang-ups wake both directions: the next read or write reports them.
  if (ev & (EPOLLERR | EPOLLHUP)) m |= EPOLLIN | EPOLLOUT | EPOLLPRI;
  return m;
}

function nestingAware(rc: number, fd: number): SystemError {
  const err = new SystemError(rc, 'epoll_ctl');
  if (err.code === 'ELOOP') {
    err.message = `epoll_ctl ELOOP: controllers stacked deeper than the kernel allows epoll sets to nest (fd ${fd})`;
  }
  return err;
}
