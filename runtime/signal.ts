// Signal listeners: process signals as waitable, pollable events on any thread (cqueues.signal).
//
// Design. A listener is one eventfd (its pollfd) and, per signal it listens to, a libuv uv_signal_t on the
// calling thread's loop (native/binding/signal.cc). libuv's signal handling is process-wide: its handler
// writes every delivery to each loop with a watcher of that signal, and each loop runs the watcher's
// callback on its own thread, which marks the signal pending in the listener's latch and makes the eventfd
// readable. So a signal sent to the process reaches every listener on every thread (main or worker), and
// Node's own process.on handlers, which are uv_signal_t watchers too, keep firing alongside. cqueues on
// Linux used signalfd, which needs the signal blocked in every thread of the process: Node's threads exist
// before we load, and a blocked signal never reaches Node's handlers, so signalfd is not usable here.
//
// Semantics. wait() reports one signal per call, the lowest-numbered pending one first; repeats of a
// signal before a wait coalesce into one (as signalfd). Every listener sees every delivery (as cqueues'
// kqueue backend; its signalfd one gave each delivery to one listener only). An idle listener does not
// keep the thread alive (as process.on); a pending wait() does.
//
// Limits.
// - While any listener (or process.on handler) of a signal exists, the signal does not take its default
//   action or Node's own (SIGINT/SIGTERM end the process, SIGUSR1 starts the inspector, SIGPIPE is
//   ignored), as with process.on. When the process's last listener of ours closes and no other watcher
//   remains, the disposition from before our first listener is put back (Node's process.off leaves the
//   default action instead). A listener that outlives a process.on handler of the same signal cannot
//   know Node's original disposition, and leaves libuv's choice (the default action).
// - SIGKILL and SIGSTOP cannot be caught: listen() refuses them. SIGSEGV, SIGBUS, SIGFPE and SIGILL are
//   refused too (Node's process.on allows them): they report faults, and V8 catches SIGSEGV/SIGBUS itself to
//   turn a WebAssembly out-of-bounds access into a RuntimeError. libuv's handler would replace V8's, and as
//   it only records the signal and returns, the faulting instruction would run again, forever (a spin, not
//   an error or a crash). A listener could never see these signals usefully anyway.
// - Signal names are Node's (os.constants.signals); real-time signals have none and are not offered.
// - At thread exit (the entry returns, process.exit, terminate()) the listeners still open on that thread
//   are closed by the addon's cleanup hook; their uv handles close before the thread's loop does.
import { constants } from 'node:os';
import { Controller, cancelFd, monotime } from './controller.js';
import { RuntimeError, SystemError, check, invalidArgType, invalidArgValue, validateTimeout } from './errors.js';
import { EPOLLIN, addon } from './native.js';
import type { Pollable } from './waiter.js';

const NUMBERS = constants.signals as Readonly<Record<string, number>>;
const UNCATCHABLE = new Set(['SIGKILL', 'SIGSTOP']);
// Synchronous fault signals: see the module's notes (listening would hang a WebAssembly trap).
const FAULTS = new Set(['SIGSEGV', 'SIGBUS', 'SIGFPE', 'SIGILL']);

/** The number of a signal name, checked. */
function signalNumber(name: unknown, argName: string, listening: boolean): number {
  if (typeof name !== 'string') throw invalidArgType(argName, 'of type string', name);
  const n = Object.hasOwn(NUMBERS, name) ? NUMBERS[name] : undefined;
  if (n === undefined) throw invalidArgValue(argName, name, "must be a signal name such as 'SIGTERM'");
  if (listening && UNCATCHABLE.has(name)) {
    throw invalidArgValue(argName, name, 'cannot be listened to: SIGKILL and SIGSTOP cannot be caught');
  }
  if (listening && FAULTS.has(name)) {
    throw invalidArgValue(
      argName,
      name,
      'cannot be listened to: SIGSEGV, SIGBUS, SIGFPE and SIGILL report faults; a listener would replace ' +
        "V8's trap handler, and a fault (such as a WebAssembly out-of-bounds access, normally a catchable " +
        'RuntimeError) would then repeat forever',
    );
  }
  return n;
}

function handleClosed(): RuntimeError {
  return new RuntimeError('ERR_HANDLE_CLOSED', 'signal listener is closed');
}

/**
 * Deliveries of a set of signals to the process, waited on one at a time. Made by {@link signal.listen}.
 * Pollable: readable while a signal is pending, so it can be polled along with sockets and timeouts.
 *
 * @example
 * const sl = signal.listen('SIGINT', 'SIGTERM');
 * const sig = await sl.wait(); // 'SIGTERM'
 * sl.close();
 */
export class SignalListener implements Pollable, AsyncDisposable {
  readonly #fd: number;
  readonly #names: ReadonlyMap<number, NodeJS.Signals>;
  readonly #ctl: Controller;
  #closed = false;

  /** @internal Use {@link signal.listen}. */
  constructor(fd: number, names: ReadonlyMap<number, NodeJS.Signals>) {
    this.#fd = fd;
    this.#names = names;
    this.#ctl = Controller.root();
  }

  /** The signals listened to, as given (duplicates dropped). */
  get signals(): NodeJS.Signals[] {
    return [...this.#names.values()];
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Waits for a signal: its name, the lowest-numbered first when several are pending; repeats of one
   * signal since the last wait count once. Resolves null when timeoutMs passes first (0: only look).
   * @throws RuntimeError ERR_HANDLE_CLOSED (also when closed while waiting); TypeError/RangeError for a
   *   bad timeoutMs (synchronously).
   */
  wait(timeoutMs?: number): Promise<NodeJS.Signals | null> {
    // NB: not async itself: a bad argument throws synchronously (API.md).
    return this.#wait(validateTimeout('timeoutMs', timeoutMs));
  }

  async #wait(t: number | undefined): Promise<NodeJS.Signals | null> {
    const deadline = t === undefined ? Infinity : monotime() + t;
    for (;;) {
      const sig = this.#take();
      if (sig !== null) return sig;
      const left = deadline - monotime();
      if (left <= 0) return null;
      // A wake may be spurious (a close, a delivery another task took first): look again.
      await this.#ctl.waitFd(this.#fd, EPOLLIN, left === Infinity ? undefined : left);
    }
  }

  #take(): NodeJS.Signals | null {
    if (this.#closed) throw handleClosed();
    const n = addon.signalTake(this.#fd);
    if (n < 0) throw new SystemError(n, 'signalTake');
    return n === 0 ? null : this.#names.get(n)!;
  }

  /**
   * Stops listening: the signals' watchers are removed (see the module's notes on dispositions), the
   * descriptor is closed, and pending waits reject with ERR_HANDLE_CLOSED. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // NB: deregister from every controller before the descriptor number can be reused.
    cancelFd(this.#fd);
    addon.signalClose(this.#fd);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  /** The eventfd, readable while a signal is pending; undefined once closed. */
  pollfd(): number | undefined {
    return this.#closed ? undefined : this.#fd;
  }

  events(): 'r' {
    return 'r';
  }

  /** 0 once closed (a poll returns it at once, and wait() reports the closed state); else no limit. */
  timeout(): number | undefined {
    return this.#closed ? 0 : undefined;
  }
}

/**
 * Starts listening to signals on the calling thread (main or worker). Every listener sees every delivery.
 * @throws TypeError ERR_INVALID_ARG_TYPE (not a string), ERR_INVALID_ARG_VALUE (unknown name, SIGKILL,
 *   SIGSTOP, or a fault signal: SIGSEGV, SIGBUS, SIGFPE, SIGILL), ERR_MISSING_ARGS (no signal); SystemError
 *   (EMFILE…) when the kernel objects cannot be made.
 */
function listen(...sigs: NodeJS.Signals[]): SignalListener {
  if (sigs.length === 0) {
    const err = new TypeError('The "sigs" argument must be specified');
    (err as TypeError & { code: string }).code = 'ERR_MISSING_ARGS';
    throw err;
  }
  const names = new Map<number, NodeJS.Signals>();
  for (const [k, name] of sigs.entries()) {
    const n = signalNumber(name, `sigs[${k}]`, true);
    if (!names.has(n)) names.set(n, name);
  }
  const fd = check(addon.signalListen(Int32Array.from(names.keys())), 'uv_signal_start');
  return new SignalListener(fd, names);
}

/**
 * Sends a signal to the calling thread (raise(3)). Listeners on every thread see it; without any
 * listener or handler the signal takes its default action (SIGTERM ends the process).
 * @throws TypeError ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE for a bad name.
 */
function raise(sig: NodeJS.Signals): void {
  check(addon.raise(signalNumber(sig, 'sig', false)), 'raise');
}

/** Signals: `signal.listen(...sigs)` and `signal.raise(sig)`. */
export const signal = { listen, raise };
