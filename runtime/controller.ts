// Controller: tasks, waits and timers on one native poller whose own fd is readable exactly when it has work.
import { EPOLLERR, EPOLLHUP, EPOLLIN, EPOLLOUT, EPOLLPRI, addon, type NativePoller } from './native.js';
import { RuntimeError, SystemError, check, invalidArgType, validateTimeout } from './errors.js';
import { TimerWheel, type TimerEntry } from './timer-wheel.js';
import { AS_FIRST, AS_LIST, WaitQueue, Waiter, type FdWatch, type Pollable, type WaiterHost } from './waiter.js';

/** Monotonic milliseconds (a float), the clock of every troupe deadline. */
export const monotime: () => number = performance.now.bind(performance);

const EINTR = -4;
// NB: microtask passes are queued as reactions of one settled promise: queueMicrotask costs an
// AsyncResource and a bound function per call on Node 20.
const SETTLED = Promise.resolve();
const MAX_EVENTS = 256;
// Passes run from microtasks before the controller goes back through the kernel (and Node's loop) once.
const BURST = 64;

/** Options of {@link Controller}'s constructor. */
export interface ControllerOptions {
  /**
   * The controller this one is stacked on: loop() and step() wait for work by polling this controller's
   * fd through it. Defaults to the thread's root controller.
   */
  controller?: Controller;
}

/** Counters of {@link Controller.stats}. */
export interface ControllerStats {
  /** Tasks not yet finished. */
  tasks: number;
  /** Descriptors registered with the kernel. */
  fds: number;
  /** Timers (sleeps and poll timeouts) scheduled. */
  timers: number;
  /** Passes made (full steps through the kernel and microtask passes). */
  steps: number;
  /** Waiters and new tasks queued for the next pass. */
  pending: number;
  /** Task failures not yet reported by step/loop/errors. */
  failures: number;
}

interface Deferred {
  promise: Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** How a task ended, kept until someone asks for its done promise. */
interface Outcome {
  ok: boolean;
  value: unknown;
}

/** A task: an async function the controller started (or will start) on a later pass. */
export class Task {
  readonly id: number;
  readonly controller: Controller;
  #fn: ((...args: any[]) => unknown) | undefined;
  #args: unknown[] | undefined;
  // NB: one field for state, value and the done promise: a million idle tasks each carry it.
  #done: Deferred | Outcome | undefined;

  /** @internal */
  constructor(id: number, controller: Controller, fn: (...args: any[]) => unknown, args: unknown[]) {
    this.id = id;
    this.controller = controller;
    this.#fn = fn;
    this.#args = args;
  }

  /** Settles with the task's return value, or rejects with what it threw. */
  get done(): Promise<unknown> {
    const d = this.#done;
    if (d !== undefined && 'promise' in d) return d.promise;
    let resolve!: (v: unknown) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // NB: the failure is also reported by step/loop/errors; this promise must not count as unhandled.
    promise.catch(() => {});
    this.#done = { promise, resolve, reject };
    if (d !== undefined) (d.ok ? resolve : reject)(d.value);
    else this.controller.observe(this);
    return promise;
  }

  /** @internal Whether someone holds the done promise (and so sees a failure). */
  get observed(): boolean {
    return this.#done !== undefined && 'promise' in this.#done;
  }

  /** @internal Runs the function; returns what it returned. */
  start(): unknown {
    const fn = this.#fn!;
    const args = this.#args!;
    this.#fn = undefined;
    this.#args = undefined;
    return fn(...args);
  }

  /** @internal Records the outcome once; later calls are ignored. */
  settle(ok: boolean, value: unknown): void {
    const d = this.#done;
    if (d === undefined) this.#done = { ok, value };
    else if ('promise' in d) {
      (ok ? d.resolve : d.reject)(value);
      // Later settles (a close after the end) must not reach the promise again.
      this.#done = { promise: d.promise, resolve: noop, reject: noop };
    }
  }

  get [Symbol.toStringTag](): string {
    return `Task ${this.id}`;
  }
}

function noop(): void {}

/** A task failed: `task` is the Task, `cause` what it threw. The controller stays usable. */
export class TaskError extends RuntimeError {
  declare readonly code: 'ERR_TASK_FAILED';
  readonly task: Task;
  declare readonly cause: unknown;

  constructor(task: Task, cause: unknown) {
    const what = cause instanceof Error ? cause.message : String(cause);
    super('ERR_TASK_FAILED', `task ${task.id} failed: ${what}`, { cause });
    this.task = task;
  }

  override get name(): string {
    return 'TaskError';
  }
}

/** A sleep(): a timer entry that resolves a promise. */
class Sleeper implements TimerEntry {
  deadline = 0;
  slot = -1;
  pos = -1;
  constructor(readonly resolve: () => void) {}
}

// NB: fd -> the controllers that hold it in their kernel set. close() of any handle calls cancelFd()
// first, so no controller keeps a registration for a descriptor number that is about to be reused.
const fdOwners = new Map<number, Set<Controller>>();
let nextTaskId = 1;
const NO_ARGS: unknown[] = [];
let root: Controller | undefined;

// NB: without AsyncLocalStorage (too slow, see DESIGN.md) no code knows which task it runs in. A pass marks
// its controller as running while it runs synchronously (tasks start there) and for one microtask hop
// after it: the continuations of `await` on the promises it resolved (sleep, poll) are queued ahead of
// that hop, anything reached through further promises (a task's done, an async wrapper) runs after it.
// So a close() right after `await c.sleep()` in a task of c is refused, and a close() from outside is
// never refused by mistake; a close() from deeper inside a task's async calls goes through, which is
// harmless: the controller closes and its tasks end.
const RUNNING_HOPS = 1;

/**
 * Wakes every task that polls `fd` in any controller of this thread, as if the fd were ready, and removes
 * it from every kernel set. Handles call this before they close their descriptor.
 */
export function cancelFd(fd: number): void {
  const owners = fdOwners.get(fd);
  if (owners === undefined) return;
  for (const c of [...owners]) c.cancel(fd);
}

let finishTask: (t: Task, v: unknown) => void;
let failTask: (t: Task, e: unknown) => void;
function taskFulfilled(this: Task, v: unknown): void {
  finishTask(this, v);
}
function taskRejected(this: Task, e: unknown): void {
  failTask(this, e);
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

/**
 * A controller: schedules tasks (async functions) and wakes them when what they poll is ready. Its own fd
 * is readable exactly when it has work, so it can be polled by another controller (stacking) or, for the
 * thread's root controller, by Node's event loop.
 *
 * @example
 * const c = new Controller();
 * c.wrap(async () => { await c.sleep(10); console.log('later'); });
 * await c.loop();
 */
export class Controller implements Pollable, WaiterHost, AsyncDisposable {
  #poller: NativePoller;
  readonly #fd: number;
  readonly #parent: Controller | undefined;
  readonly #wheel: TimerWheel<Sleeper | Waiter>;
  readonly #events = new Int32Array(MAX_EVENTS * 2);
  readonly #watches = new Map<number, FdWatch>();
  // NB: never truncated (that frees the storage the next push allocates again): #runLen is the live part.
  #runq: (Task | Waiter | undefined)[] = [];
  #runLen = 0;
  #spare: (Task | Waiter | undefined)[] = [];
  #failures: TaskError[] = [];
  // Signalled when the task count drops to 0, a task fails, or a full pass ends.
  readonly #idle = new Signal();
  #tasks = 0;
  #steps = 0;
  #watching = 0;
  #scheduled = false;
  #alerted = false;
  #burst = 0;
  #driven = 0;
  #consumers = 0;
  #armed: number | undefined;
  #refed = false;
  #closed = false;
  // True while a pass runs synchronously (tasks start inside it).
  #sync = false;
  // Microtask hops left in which the tasks resumed by the last pass may still run (non-root only).
  #running = 0;
  // Tasks whose done promise was handed out: close() must settle them.
  readonly #observed = new Set<Task>();

  static {
    finishTask = (t, v) => t.controller.#finish(t, v);
    failTask = (t, e) => t.controller.#fail(t, e);
  }

  /** This thread's controller, embedded in Node's event loop. Created on first use. */
  static root(): Controller {
    if (root === undefined || root.#closed) {
      const c = new Controller(undefined, true);
      check(c.#poller.embed(c.#onReadable), 'uv_poll_start');
      // NB: a started uv_poll keeps the loop alive; #keepAlive refs it only while something waits.
      c.#poller.ref(false);
      root = c;
    }
    return root;
  }

  /**
   * A controller with its own poller.
   * @throws SystemError (EMFILE, ENFILE, ENOMEM) when the kernel objects cannot be created.
   */
  constructor(opts?: ControllerOptions);
  /** @internal */
  constructor(opts: ControllerOptions | undefined, isRoot: boolean);
  constructor(opts: ControllerOptions = {}, isRoot = false) {
    if (opts === null || typeof opts !== 'object') throw invalidArgType('opts', 'of type object', opts);
    if (opts.controller !== undefined && !(opts.controller instanceof Controller)) {
      throw invalidArgType('opts.controller', 'an instance of Controller', opts.controller);
    }
    this.#parent = isRoot ? undefined : (opts.controller ?? Controller.root());
    this.#poller = new addon.Poller();
    check(this.#poller.open(), 'epoll_create1');
    this.#fd = this.#poller.fd();
    this.#wheel = new TimerWheel(monotime());
    if (isRoot) this.#driven = 1;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Number of tasks not yet finished. */
  get count(): number {
    return this.#tasks;
  }

  /** True when no task is left. */
  empty(): boolean {
    return this.#tasks === 0;
  }

  /**
   * Starts `fn(...args)` as a task on a later pass; never runs it synchronously.
   * @throws RuntimeError ERR_CONTROLLER_CLOSED
   */
  wrap<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): Task {
    this.#checkOpen();
    if (typeof fn !== 'function') throw invalidArgType('fn', 'of type function', fn);
    // NB: an empty argument list is not kept: a million tasks would each hold one.
    const task = new Task(nextTaskId++, this, fn as (...args: any[]) => unknown, args.length === 0 ? NO_ARGS : args);
    this.#tasks++;
    this.#runq[this.#runLen++] = task;
    this.#schedule();
    return task;
  }

  /**
   * One pass: waits up to timeoutMs (undefined: no limit) for work unless some is ready, runs what is
   * runnable once, and lets it run until it blocks again.
   * @throws TaskError when a task failed (the controller stays usable); ERR_CONTROLLER_RUNNING when called
   *   from the controller's own pass; ERR_CONTROLLER_CLOSED.
   */
  async step(timeoutMs?: number): Promise<void> {
    const t = validateTimeout('timeoutMs', timeoutMs);
    this.#checkOpen();
    this.#checkNotRunning('step');
    this.#consumers++;
    try {
      if (this.#failures.length === 0) {
        if (this.#parent === undefined) {
          // The root is stepped by Node's loop: wait for its next full pass.
          if (t !== 0) await this.poll(this.#idle, ...(t === undefined ? [] : [t]));
        } else {
          if (t !== 0 && this.#tasks > 0 && !this.#runnable()) await this.#parent.poll<unknown>(this, ...(t === undefined ? [] : [t]));
          this.#checkOpen();
          this.#pass(true);
        }
        // Let the tasks resumed by this pass run until they block again.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      const failure = this.#failures.shift();
      if (failure !== undefined) throw failure;
    } finally {
      this.#consumers--;
      if (this.#parent !== undefined) this.#running = 0;
    }
  }

  /**
   * Runs passes until no task is left or timeoutMs has elapsed (tasks may then still be pending).
   * @throws TaskError for the first task that fails; ERR_CONTROLLER_RUNNING; ERR_CONTROLLER_CLOSED.
   */
  async loop(timeoutMs?: number): Promise<void> {
    const t = validateTimeout('timeoutMs', timeoutMs);
    this.#checkOpen();
    this.#checkNotRunning('loop');
    const deadline = t === undefined ? Infinity : monotime() + t;
    this.#consumers++;
    this.#driven++;
    try {
      for (;;) {
        const failure = this.#failures.shift();
        if (failure !== undefined) throw failure;
        if (this.#tasks === 0) return;
        const left = deadline - monotime();
        if (left <= 0) return;
        const limit = left === Infinity ? [] : [left];
        if (this.#parent === undefined) {
          await this.poll(this.#idle, ...limit);
        } else {
          await this.#parent.poll<unknown>(this, this.#idle, ...limit);
          if (this.#closed) return;
          this.#pass(true);
        }
      }
    } finally {
      this.#driven--;
      this.#consumers--;
      if (this.#parent !== undefined) this.#running = 0;
    }
  }

  /** Loops, yielding each task failure in order; ends when no task is left or at the timeout. */
  async *errors(timeoutMs?: number): AsyncIterableIterator<TaskError> {
    const t = validateTimeout('timeoutMs', timeoutMs);
    const deadline = t === undefined ? Infinity : monotime() + t;
    for (;;) {
      const left = deadline === Infinity ? undefined : Math.max(0, deadline - monotime());
      try {
        await this.loop(left);
        return;
      } catch (err) {
        if (err instanceof TaskError && err.task.controller === this) yield err;
        else throw err;
      }
    }
  }

  /** Resolves after at least ms milliseconds (0: on the next pass). */
  sleep(ms: number): Promise<void> {
    if (typeof ms !== 'number' || Number.isNaN(ms)) return Promise.reject(invalidArgType('ms', 'a number', ms));
    if (this.#closed) return Promise.reject(closedError());
    return new Promise<void>((resolve) => {
      const s = new Sleeper(resolve);
      this.#addTimer(s, monotime() + (ms > 0 ? ms : 0));
    });
  }

  /**
   * Waits until at least one argument is ready and returns the ready ones in argument order. A number is
   * a timeout in ms and is returned itself when it fires; an object's own timeout() firing returns it as
   * if ready. May return [] (a spurious wake): callers retry their operation.
   * @throws SystemError when the kernel refuses a descriptor (EBADF, EPERM, ELOOP for nesting too deep).
   */
  poll<T>(...objs: (T | number)[]): Promise<(T | number)[]> {
    return this.#wait(objs, AS_LIST) as Promise<(T | number)[]>;
  }

  /** @internal Like poll(), but resolves with whether objs[0] is ready (Condition.wait). */
  pollFirst(objs: unknown[]): Promise<boolean> {
    return this.#wait(objs, AS_FIRST) as Promise<boolean>;
  }

  /**
   * @internal A socket's wait, without the pollable protocol: resolves true once fd is ready for `events`
   * (EPOLLIN / EPOLLOUT bits) or is cancelled, false when timeoutMs passes first.
   */
  waitFd(fd: number, events: number, timeoutMs?: number): Promise<boolean> {
    if (this.#closed) return Promise.reject(closedError());
    const w = new Waiter(this, NO_ARGS, AS_FIRST);
    const p = new Promise<boolean>((resolve) => {
      w.resolve = resolve;
    });
    try {
      this.#watch(fd, events, w, 0);
    } catch (err) {
      this.#release(w);
      return Promise.reject(err);
    }
    if (timeoutMs !== undefined) {
      // Argument 1 stands for the timeout: only argument 0, the fd, makes the result true.
      if (timeoutMs <= 0) w.mark(1);
      else {
        w.addTimeout(1, monotime() + timeoutMs);
        this.#addTimer(w, w.deadline);
      }
    }
    return p;
  }

  #wait(objs: unknown[], as: number): Promise<unknown> {
    if (this.#closed) return Promise.reject(closedError());
    const w = new Waiter(this, objs, as);
    const p = new Promise<unknown>((resolve) => {
      w.resolve = resolve;
    });
    try {
      this.#enlist(w, objs);
    } catch (err) {
      this.#release(w);
      return Promise.reject(err);
    }
    return p;
  }

  /** Wakes whoever polls these (fds or pollables with an fd) as if ready, and forgets the fds. */
  cancel(...objs: (Pollable | number)[]): void {
    for (const o of objs) {
      const fd = typeof o === 'number' ? o : typeof o?.pollfd === 'function' ? o.pollfd() : undefined;
      if (typeof fd !== 'number' || fd < 0) continue;
      const watch = this.#watches.get(fd);
      if (watch !== undefined) {
        for (let k = 0; k < watch.waiters.length; k++) watch.waiters[k]!.mark(watch.slots[k]! >>> 3);
      }
      this.#unwatch(fd);
    }
  }

  /**
   * Closes the controller: its tasks are abandoned (their done promises reject with ERR_CONTROLLER_CLOSED),
   * tasks of other controllers polling it wake, and its kernel objects are released. Idempotent.
   * @throws RuntimeError ERR_CONTROLLER_RUNNING when called from the controller's own pass.
   */
  close(): void {
    if (this.#closed) return;
    this.#checkNotRunning('close');
    this.#closed = true;
    // Wake pollers of this controller first (they get it back as ready), then drop our own registrations.
    cancelFd(this.#fd);
    for (const fd of [...this.#watches.keys()]) this.#dropOwner(fd);
    this.#watches.clear();
    for (let k = 0; k < this.#runLen; k++) {
      const item = this.#runq[k];
      if (item instanceof Task) item.settle(false, closedError());
    }
    for (const task of this.#observed) task.settle(false, closedError());
    this.#observed.clear();
    this.#runq = [];
    this.#runLen = 0;
    this.#idle.signal();
    this.#poller.close();
    if (root === this) root = undefined;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  /** The poller's fd: readable exactly when this controller has work. */
  pollfd(): number {
    this.#checkOpen();
    return this.#fd;
  }

  events(): 'r' {
    return 'r';
  }

  /** 0 when something is runnable, else ms to the next timer, else undefined. */
  timeout(): number | undefined {
    if (this.#closed) return 0;
    if (this.#runnable()) return 0;
    const next = this.#wheel.nextTick();
    return next === undefined ? undefined : Math.max(0, next - monotime());
  }

  stats(): ControllerStats {
    return {
      tasks: this.#tasks,
      fds: this.#watches.size,
      timers: this.#wheel.size,
      steps: this.#steps,
      pending: this.#runLen,
      failures: this.#failures.length,
    };
  }

  /** @internal WaiterHost: queue a woken waiter for the next pass. */
  wake(w: Waiter): void {
    this.#runq[this.#runLen++] = w;
    this.#schedule();
  }

  /** @internal A task's done promise was handed out. */
  observe(task: Task): void {
    if (!this.#closed) this.#observed.add(task);
    else task.settle(false, closedError());
  }

  // ---- registration -------------------------------------------------------------------------------------

  #enlist(w: Waiter, objs: unknown[]): void {
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
          if (mask !== 0) this.#watch(fd, mask, w, i);
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
    if (w.deadline >= 0 && w.deadline !== Infinity) this.#addTimer(w, w.deadline);
  }

  #watch(fd: number, mask: number, w: Waiter, i: number): void {
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
    this.#keepAlive();
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

  #addTimer(e: Sleeper | Waiter, deadline: number): void {
    const tick = this.#wheel.insert(e, deadline);
    if (this.#armed === undefined || tick < this.#armed) {
      this.#armed = tick;
      this.#poller.arm(tick - monotime());
    }
    this.#keepAlive();
  }

  /** Lets go of everything a waiter is linked into; it will not be resolved. */
  #release(w: Waiter): void {
    w.finish();
    if (w.slot >= 0) this.#wheel.cancel(w);
    w.unlinkAll(this.#unlink);
  }

  readonly #unlink = (link: FdWatch | WaitQueue, w: Waiter): void => {
    if (link instanceof WaitQueue) {
      link.forget();
      return;
    }
    // NB: the kernel registration stays (level-triggered, lazily dropped on the next unwanted event): a
    // socket that waits again right after being woken costs no epoll_ctl.
    const j = link.waiters.indexOf(w);
    if (j < 0) return;
    const last = link.waiters.length - 1;
    link.waiters[j] = link.waiters[last]!;
    link.slots[j] = link.slots[last]!;
    link.waiters.pop();
    link.slots.pop();
    this.#watching--;
  };

  // ---- passes ---------------------------------------------------------------------------------------------

  #runnable(): boolean {
    return this.#runLen > 0 || this.#alerted;
  }

  #schedule(): void {
    if (this.#scheduled || this.#closed) return;
    this.#scheduled = true;
    if (this.#driven > 0 && this.#burst < BURST) {
      this.#burst++;
      void SETTLED.then(this.#microPass);
    } else if (!this.#alerted) {
      // NB: the alert makes the poller fd readable, which wakes whoever polls this controller.
      this.#alerted = true;
      this.#poller.alert();
      this.#keepAlive();
    }
  }

  readonly #endRunning = (): void => {
    if (this.#running > 0 && --this.#running > 0) void SETTLED.then(this.#endRunning);
  };

  readonly #microPass = (): void => {
    if (!this.#scheduled || this.#closed || this.#alerted) return;
    this.#scheduled = false;
    try {
      this.#pass(false);
    } catch (err) {
      process.nextTick(() => {
        throw err;
      });
    }
  };

  /** The root's uv_poll callback: the poller fd became readable. */
  readonly #onReadable = (): void => {
    if (this.#closed) return;
    try {
      this.#pass(true);
    } catch (err) {
      // The loop must survive anything a pass throws; report it as Node reports an uncaught error.
      process.nextTick(() => {
        throw err;
      });
    }
  };

  /**
   * One pass. With `full`, first collects kernel events and expired timers; then resolves every queued
   * waiter and starts every queued task once. What they queue meanwhile runs on the next pass.
   */
  #pass(full: boolean): void {
    this.#steps++;
    this.#sync = true;
    try {
      this.#passBody(full);
    } finally {
      this.#sync = false;
      // Counted from here: the continuations this pass resolved are queued ahead of the first hop.
      if (this.#parent !== undefined) {
        if (this.#running === 0) void SETTLED.then(this.#endRunning);
        this.#running = RUNNING_HOPS;
      }
    }
  }

  #passBody(full: boolean): void {
    if (full) {
      this.#scheduled = false;
      this.#alerted = false;
      this.#burst = 0;
      this.#collect();
    }
    const q = this.#runq;
    const n = this.#runLen;
    if (n > 0) {
      this.#runq = this.#spare;
      this.#runLen = 0;
      for (let k = 0; k < n; k++) {
        const item = q[k]!;
        q[k] = undefined;
        if (item instanceof Waiter) this.#resolve(item);
        else this.#start(item);
      }
      this.#spare = q;
    }
    if (full) {
      this.#rearm();
      this.#idle.signal();
    }
    this.#keepAlive();
  }

  #collect(): void {
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
        else e.resolve();
      });
    } else {
      this.#armed = undefined;
    }
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

  #resolve(w: Waiter): void {
    if (w.done) return;
    const result = w.result();
    this.#release(w);
    w.resolve(result);
  }

  #start(task: Task): void {
    let result: unknown;
    try {
      result = task.start();
    } catch (err) {
      this.#fail(task, err);
      return;
    }
    if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
      // NB: two bound functions take less memory per task than two closures and their context.
      (result as PromiseLike<unknown>).then(taskFulfilled.bind(task), taskRejected.bind(task));
    } else {
      this.#finish(task, result);
    }
  }

  #finish(task: Task, value: unknown): void {
    if (this.#closed) return;
    this.#tasks--;
    task.settle(true, value);
    if (task.observed) this.#observed.delete(task);
    if (this.#tasks === 0) this.#idle.signal();
  }

  #fail(task: Task, err: unknown): void {
    if (this.#closed) return;
    task.settle(false, err);
    if (task.observed) this.#observed.delete(task);
    this.#tasks--;
    const failure = new TaskError(task, err);
    if (this.#parent === undefined && this.#consumers === 0 && !task.observed) {
      // A root task failing with nobody looping over the root is an unhandled rejection, as for any
      // floating async function.
      void Promise.reject(failure);
      return;
    }
    this.#failures.push(failure);
    this.#idle.signal();
  }

  #rearm(): void {
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

  /**
   * The root keeps Node's loop alive while it waits on timers or fds, or has raised its alert. Work queued
   * for a microtask pass needs no ref: pending microtasks always run before the process can exit.
   */
  #keepAlive(): void {
    if (this.#parent !== undefined || this.#closed) return;
    const want = this.#wheel.size > 0 || this.#watching > 0 || this.#alerted;
    if (want !== this.#refed) {
      this.#refed = want;
      this.#poller.ref(want);
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw closedError();
  }

  #checkNotRunning(what: string): void {
    if (this.#sync || (this.#parent !== undefined && this.#running > 0)) {
      throw new RuntimeError('ERR_CONTROLLER_RUNNING', `cannot ${what} a controller from its own pass`);
    }
  }
}

/** The controller's internal wake-up queue: a WaitQueue that always wakes everyone. */
class Signal extends WaitQueue {
  signal(): number {
    return this.wakeWaiters(Infinity, false);
  }
}

function closedError(): RuntimeError {
  return new RuntimeError('ERR_CONTROLLER_CLOSED', 'controller is closed');
}

function nestingAware(rc: number, fd: number): SystemError {
  const err = new SystemError(rc, 'epoll_ctl');
  if (err.code === 'ELOOP') {
    err.message = `epoll_ctl ELOOP: controllers stacked deeper than the kernel allows epoll sets to nest (fd ${fd})`;
  }
  return err;
}

/** Sleeps on this thread's root controller. */
export function sleep(ms: number): Promise<void> {
  return Controller.root().sleep(ms);
}

/** Polls on this thread's root controller; see {@link Controller.poll}. */
export function poll<T>(...objs: (T | number)[]): Promise<(T | number)[]> {
  return Controller.root().poll(...objs);
}
