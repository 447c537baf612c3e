// Controller: tasks, waits and timers on one native poller whose own fd is readable exactly when it has work.
import { addon, type NativePoller } from './native.js';
import { RuntimeError, check, controllerClosed, invalidArgType, outOfRange, validateTimeout } from './errors.js';
import { Registry, Sleeper, cancelFd, monotime } from './registry.js';
import { Task, TaskError } from './task.js';
import { AS_FIRST, AS_LIST, Signal, Waiter, type Pollable, type WaiterHost } from './waiter.js';

export { cancelFd, monotime, Task, TaskError };

// NB: microtask passes are queued as reactions of one settled promise: queueMicrotask costs an
// AsyncResource and a bound function per call on Node 20.
const SETTLED = Promise.resolve();
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

let finishTask: (t: Task, v: unknown) => void;
let failTask: (t: Task, e: unknown) => void;
function taskFulfilled(this: Task, v: unknown): void {
  finishTask(this, v);
}
function taskRejected(this: Task, e: unknown): void {
  failTask(this, e);
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
  readonly #reg: Registry;
  // NB: never truncated (that frees the storage the next push allocates again): #runLen is the live part.
  #runq: (Task | Waiter | undefined)[] = [];
  #runLen = 0;
  #spare: (Task | Waiter | undefined)[] = [];
  #failures: TaskError[] = [];
  // Signalled when the task count drops to 0, a task fails, or a full pass ends.
  readonly #idle = new Signal();
  #tasks = 0;
  #steps = 0;
  #scheduled = false;
  #alerted = false;
  #burst = 0;
  #driven = 0;
  #consumers = 0;
  #refed = false;
  #closed = false;
  // True while a pass runs synchronously (tasks start inside it).
  #sync = false;
  // Until the microtask hop after the last pass, in which the tasks it resumed run (non-root only).
  #running = false;
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
    this.#reg = new Registry(this.#poller, () => this.#keepAlive());
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
  step(timeoutMs?: number): Promise<void> {
    // NB: arguments are checked before the async part, so a bad one throws synchronously (API.md).
    return this.#step(validateTimeout('timeoutMs', timeoutMs));
  }

  async #step(t: number | undefined): Promise<void> {
    this.#checkOpen();
    this.#checkNotRunning('step');
    this.#consumers++;
    try {
      if (this.#failures.length === 0) {
        if (this.#parent === undefined) {
          // The root is stepped by Node's loop: wait for its next full pass.
          if (t !== 0) await this.#waitIdle(t);
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
      this.#running = false;
    }
  }

  /**
   * Runs passes until no task is left or timeoutMs has elapsed (tasks may then still be pending).
   * @throws TaskError for the first task that fails; ERR_CONTROLLER_RUNNING; ERR_CONTROLLER_CLOSED.
   */
  loop(timeoutMs?: number): Promise<void> {
    return this.#loop(validateTimeout('timeoutMs', timeoutMs));
  }

  async #loop(t: number | undefined): Promise<void> {
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
          await this.#waitIdle(left === Infinity ? undefined : left);
          if (this.#closed) return;
        } else {
          await this.#parent.poll<unknown>(this, this.#idle, ...limit);
          if (this.#closed) return;
          this.#pass(true);
        }
      }
    } finally {
      this.#driven--;
      this.#consumers--;
      this.#running = false;
    }
  }

  /** Loops, yielding each task failure in order; ends when no task is left or at the timeout. */
  errors(timeoutMs?: number): AsyncIterableIterator<TaskError> {
    return this.#errors(validateTimeout('timeoutMs', timeoutMs));
  }

  async *#errors(t: number | undefined): AsyncIterableIterator<TaskError> {
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
    if (typeof ms !== 'number') throw invalidArgType('ms', 'of type number', ms);
    if (Number.isNaN(ms)) throw outOfRange('ms', 'a number of milliseconds', ms);
    if (this.#closed) return Promise.reject(controllerClosed());
    return new Promise<void>((resolve, reject) => {
      const s = new Sleeper(resolve, reject);
      this.#reg.track(s);
      this.#reg.addTimer(s, monotime() + (ms > 0 ? ms : 0));
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
    if (this.#closed) return Promise.reject(controllerClosed());
    const w = new Waiter(this, NO_ARGS, AS_FIRST);
    const p = this.#track(w);
    try {
      this.#reg.watch(fd, events, w, 0);
    } catch (err) {
      this.#reg.release(w);
      return Promise.reject(err);
    }
    if (timeoutMs !== undefined) {
      // Argument 1 stands for the timeout: only argument 0, the fd, makes the result true.
      if (timeoutMs <= 0) w.mark(1);
      else {
        w.addTimeout(1, monotime() + timeoutMs);
        this.#reg.addTimer(w, w.deadline);
      }
    }
    return p as Promise<boolean>;
  }

  #wait(objs: unknown[], as: number): Promise<unknown> {
    if (this.#closed) return Promise.reject(controllerClosed());
    const w = new Waiter(this, objs, as);
    const p = this.#track(w);
    try {
      this.#reg.enlist(w, objs);
    } catch (err) {
      this.#reg.release(w);
      return Promise.reject(err);
    }
    return p;
  }

  /** The waiter's promise; the registry tracks it until it settles. */
  #track(w: Waiter): Promise<unknown> {
    const p = new Promise<unknown>((resolve, reject) => {
      w.resolve = resolve;
      w.reject = reject;
    });
    this.#reg.track(w);
    return p;
  }


  /** The root's wait for its next pass (or for idleness); settles quietly if the root closes meanwhile. */
  async #waitIdle(timeoutMs: number | undefined): Promise<void> {
    try {
      await this.poll(this.#idle, ...(timeoutMs === undefined ? [] : [timeoutMs]));
    } catch (err) {
      if (!this.#closed) throw err;
    }
  }

  /** Wakes whoever polls these (fds or pollables with an fd) as if ready, and forgets the fds. */
  cancel(...objs: (Pollable | number)[]): void {
    for (const o of objs) {
      const fd = typeof o === 'number' ? o : typeof o?.pollfd === 'function' ? o.pollfd() : undefined;
      if (typeof fd !== 'number' || fd < 0) continue;
      this.#reg.cancel(fd);
    }
  }

  /**
   * Closes the controller: every wait pending on it rejects with ERR_CONTROLLER_CLOSED (its tasks unwind),
   * tasks not yet started never start, done promises of unfinished tasks reject with ERR_CONTROLLER_CLOSED,
   * tasks of other controllers polling it wake, and its kernel objects are released. Idempotent.
   * @throws RuntimeError ERR_CONTROLLER_RUNNING when called from the controller's own pass.
   */
  close(): void {
    if (this.#closed) return;
    this.#checkNotRunning('close');
    this.#closed = true;
    // Wake pollers of this controller first (they get it back as ready); then every wait still pending
    // here rejects with ERR_CONTROLLER_CLOSED (tasks unwind through their finally blocks); then drop
    // our registrations.
    cancelFd(this.#fd);
    this.#reg.abandonAll(controllerClosed());
    this.#reg.forgetAll();
    for (let k = 0; k < this.#runLen; k++) {
      const item = this.#runq[k];
      if (item instanceof Task) item.settle(false, controllerClosed());
    }
    for (const task of this.#observed) task.settle(false, controllerClosed());
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
    const next = this.#reg.nextTick();
    return next === undefined ? undefined : Math.max(0, next - monotime());
  }

  stats(): ControllerStats {
    return {
      tasks: this.#tasks,
      fds: this.#reg.fds,
      timers: this.#reg.timers,
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
    else task.settle(false, controllerClosed());
  }

  // ---- registration -------------------------------------------------------------------------------------

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
    this.#running = false;
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
        if (!this.#running) void SETTLED.then(this.#endRunning);
        this.#running = true;
      }
    }
  }

  #passBody(full: boolean): void {
    if (full) {
      this.#scheduled = false;
      this.#alerted = false;
      this.#burst = 0;
      this.#reg.collect();
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
      this.#reg.rearm();
      this.#idle.signal();
    }
    this.#keepAlive();
  }

  #resolve(w: Waiter): void {
    if (w.done) return;
    const result = w.result();
    this.#reg.release(w);
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

  /**
   * The root keeps Node's loop alive while it waits on timers or fds, or has raised its alert. Work queued
   * for a microtask pass needs no ref: pending microtasks always run before the process can exit.
   */
  #keepAlive(): void {
    if (this.#parent !== undefined || this.#closed) return;
    const want = this.#reg.timers > 0 || this.#reg.watching > 0 || this.#alerted;
    if (want !== this.#refed) {
      this.#refed = want;
      this.#poller.ref(want);
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw controllerClosed();
  }

  #checkNotRunning(what: string): void {
    if (this.#sync || this.#running) {
      throw new RuntimeError('ERR_CONTROLLER_RUNNING', `cannot ${what} a controller from its own pass`);
    }
  }
}


/** Sleeps on this thread's root controller. */
export function sleep(ms: number): Promise<void> {
  return Controller.root().sleep(ms);
}

/** Polls on this thread's root controller; see {@link Controller.poll}. */
export function poll<T>(...objs: (T | number)[]): Promise<(T | number)[]> {
  return Controller.root().poll(...objs);
}
