// Threads as cqueues' thread.start: a Node Worker with its own root controller and a socketpair to it.
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, isMainThread, threadId } from 'node:worker_threads';
import { Condition } from './condition.js';
import { addon } from './native.js';
import { Controller } from './controller.js';
import { RuntimeError, invalidArgType, timeoutError, validateTimeout } from './errors.js';
import { fromWire, type WireError } from './error-wire.js';
import { Socket, type Detached } from './socket/socket.js';
import type { Pollable } from './waiter.js';

/** What a thread runs: a module (its default export), or a function without closures (sent as source). */
export type ThreadEntry = string | URL | ((sock: Socket, ...args: any[]) => unknown);

/** @internal What the bootstrap receives. */
export interface BootData {
  entry: { module: string } | { source: string };
  channel: Detached;
  args: unknown[];
  sockets: Detached[];
}

/** @internal Marks where a moved Socket stood among the arguments. */
export const SOCKET_ARG = '\0troupe:socket';

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

const BOOT = new URL('./thread-boot.js', import.meta.url);

/**
 * A running (or finished) thread. Pollable: ready once it has exited.
 */
export class Thread implements Pollable {
  readonly id: number;
  readonly #worker: Worker | undefined;
  readonly #exit = new Condition();
  #outcome: Outcome | undefined;
  #exited = false;

  /** @internal */
  constructor(id: number, worker?: Worker) {
    this.id = id;
    this.#worker = worker;
    if (worker === undefined) return;
    worker.on('message', (m: { ok?: boolean; value?: unknown; error?: WireError }) => {
      if (m.ok === true) this.#outcome ??= { ok: true, value: m.value };
      else if (m.ok === false) this.#outcome ??= { ok: false, error: fromWire(m.error!) };
    });
    worker.on('error', (err) => {
      this.#outcome ??= { ok: false, error: died(this.id, `an uncaught error`, err) };
    });
    worker.on('exit', (code) => {
      this.#outcome ??= { ok: false, error: died(this.id, `exit code ${code}`) };
      this.#exited = true;
      this.#exit.signal();
    });
  }

  /**
   * Waits for the thread to end: its entry's return value.
   * @throws what the entry threw (its code kept); ERR_THREAD_DIED if it ended otherwise; ETIMEDOUT.
   */
  async join(timeoutMs?: number): Promise<unknown> {
    const t = validateTimeout('timeoutMs', timeoutMs);
    if (this.#worker === undefined) throw new RuntimeError('ERR_THREAD_JOIN_SELF', 'a thread cannot join itself');
    if (!this.#exited) await Controller.root().poll<unknown>(this.#exit, ...(t === undefined ? [] : [t]));
    if (!this.#exited) throw timeoutError('join');
    const o = this.#outcome!;
    if (o.ok) return o.value;
    throw o.error;
  }

  /** Stops the thread at once; its sockets' descriptors are closed. join() then rejects ERR_THREAD_DIED. */
  async terminate(): Promise<void> {
    if (this.#worker === undefined || this.#exited) return;
    this.#outcome ??= { ok: false, error: died(this.id, 'terminated') };
    await this.#worker.terminate();
    while (!this.#exited) await Controller.root().poll(this.#exit);
  }

  /** While running, its exit condition; afterwards nothing to wait for. */
  pollfd(): Condition | undefined {
    return this.#exited ? undefined : this.#exit;
  }

  /** 0 once exited, so a poll returns at once. */
  timeout(): number | undefined {
    return this.#exited ? 0 : undefined;
  }
}

function died(id: number, how: string, cause?: unknown): RuntimeError {
  return new RuntimeError('ERR_THREAD_DIED', `thread ${id} died: ${how}`, cause !== undefined ? { cause } : undefined);
}

/**
 * Starts `entry(sock, ...args)` on a new worker thread with its own root controller; `sock` is one end of a
 * socketpair whose other end is returned. Arguments are structured-cloned; Sockets among them move (with
 * their state). Resolves once the thread runs.
 * @throws RuntimeError ERR_THREAD_DIED if the thread could not start.
 */
async function start(entry: ThreadEntry, ...args: unknown[]): Promise<[Thread, Socket]> {
  let spec: BootData['entry'];
  if (typeof entry === 'function') spec = { source: entry.toString() };
  else if (entry instanceof URL) spec = { module: entry.href };
  else if (typeof entry === 'string') spec = { module: /^[a-z]+:/i.test(entry) ? entry : pathToFileURL(isAbsolute(entry) ? entry : resolve(entry)).href };
  else throw invalidArgType('entry', 'a module path or URL, or a function', entry);
  // Every Socket argument must be movable before anything moves: a failure half way would strand fds.
  const moving = args.filter((a): a is Socket => a instanceof Socket);
  for (const [k, s] of moving.entries()) {
    if (s.closed) throw new RuntimeError('ERR_HANDLE_CLOSED', `socket argument ${k} is closed`);
    if (typeof s.pollfd() !== 'number') throw new RuntimeError('ERR_INVALID_STATE', `socket argument ${k} is still connecting`);
    Socket.movable(s);
    if (moving.indexOf(s) !== k) throw invalidArgType('args', 'distinct sockets', s);
  }
  const [mine, theirs] = Socket.pair();
  const sockets: Detached[] = [];
  const wired = args.map((a) => (a instanceof Socket ? { [SOCKET_ARG]: sockets.push(Socket.detach(a)) - 1 } : a));
  const boot: BootData = { entry: spec, channel: Socket.detach(theirs), args: wired, sockets };
  const fds = [boot.channel.fd, ...sockets.map((s) => s.fd)];
  let worker: Worker;
  try {
    worker = new Worker(BOOT, { workerData: boot });
  } catch (err) {
    closeAll(fds);
    mine.close();
    throw died(-1, 'could not start', err);
  }
  const thread = new Thread(worker.threadId, worker);
  // NB: the worker adopts the descriptors first thing and then says so; if it dies before that, they are
  // still nobody's, and closed here.
  const started = await new Promise<boolean>((res) => {
    const onMessage = (m: { started?: boolean }): void => {
      if (m.started) done(true);
    };
    const onExit = (): void => done(false);
    const done = (ok: boolean): void => {
      worker.off('message', onMessage);
      worker.off('exit', onExit);
      res(ok);
    };
    worker.on('message', onMessage);
    worker.on('exit', onExit);
  });
  if (!started) {
    closeAll(fds);
    mine.close();
    throw await thread.join().then(() => died(thread.id, 'exited before it started'), (err: unknown) => err);
  }
  return [thread, mine];
}

function closeAll(fds: number[]): void {
  for (const fd of fds) if (fd >= 0) addon.close(fd);
}

let me: Thread | undefined;

/** The thread running this code, or undefined on the main thread. */
function self(): Thread | undefined {
  if (isMainThread) return undefined;
  return (me ??= new Thread(threadId));
}

/** Threads: `thread.start(entry, ...args)` and `thread.self()`. */
export const thread = { start, self };
