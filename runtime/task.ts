// Task: one async function a controller runs, its outcome and done promise; TaskError: how it failed.
import type { Controller } from './controller.js';
import { RuntimeError } from './errors.js';

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
