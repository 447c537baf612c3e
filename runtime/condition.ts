// Condition: a wait queue of tasks, woken FIFO or LIFO, across any number of controllers.
import { Controller } from './controller.js';
import { invalidArgType } from './errors.js';
import { WaitQueue, type Pollable } from './waiter.js';

/** Options of {@link Condition}. */
export interface ConditionOptions {
  /** Wake the newest waiters first. Default false (oldest first). */
  lifo?: boolean;
  /** The controller wait() polls through. Default: the thread's root controller. */
  controller?: Controller;
}

/**
 * A condition variable, as cqueues': tasks wait() and are woken by signal(). Signals are not remembered: a
 * signal with nobody waiting wakes nobody. Waiters may belong to any controllers of the thread; each wakes
 * on its own controller's next pass. A Condition is pollable: pass it to poll() along with other objects.
 *
 * @example
 * const cv = new Condition();
 * wrap(async () => { if (await cv.wait(1000)) console.log('signalled'); });
 * cv.signal();
 */
export class Condition extends WaitQueue implements Pollable {
  readonly #lifo: boolean;
  readonly #controller: Controller | undefined;

  constructor(opts: ConditionOptions = {}) {
    super();
    if (opts === null || typeof opts !== 'object') throw invalidArgType('opts', 'of type object', opts);
    if (opts.controller !== undefined && !(opts.controller instanceof Controller)) {
      throw invalidArgType('opts.controller', 'an instance of Controller', opts.controller);
    }
    this.#lifo = opts.lifo === true;
    this.#controller = opts.controller;
  }

  /**
   * Waits for a signal, polling `also` (pollables, timeouts in ms) at the same time.
   * @returns true if woken by this condition, false if by something else (a timeout, another object).
   */
  wait(...also: (Pollable | number)[]): Promise<boolean> {
    // NB: not an async function: a million idle waiters would each hold its frame.
    return (this.#controller ?? Controller.root()).pollFirst([this, ...also]);
  }

  /** Wakes up to n waiters (default all); returns how many were woken. */
  signal(n = Infinity): number {
    if (typeof n !== 'number' || Number.isNaN(n)) throw invalidArgType('n', 'a number', n);
    return n <= 0 ? 0 : this.wakeWaiters(n, this.#lifo);
  }

  /** Tasks waiting now. */
  get waiters(): number {
    return this.waiting;
  }

  /** The condition itself: poll() treats it as a wait queue. */
  pollfd(): this {
    return this;
  }
}
