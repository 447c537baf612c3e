// OTP supervision: restart strategies, restart intensity per period, restart types.
import { RuntimeError } from 'troupe';
import type { SpawnOptions } from './node.js';
import { isNormal, type ActorRef } from './ref.js';

/** A supervised child: started in order, registered under its id (ActorSystem.whereis). */
export interface ChildSpec {
  id: string;
  actor: unknown;
  init?: unknown;
  /** permanent: always restarted; transient: restarted after an abnormal exit; temporary: never. */
  restart: 'permanent' | 'transient' | 'temporary';
  thread?: SpawnOptions['thread'];
  mailbox?: SpawnOptions['mailbox'];
}

export interface SupervisorSpec {
  strategy: 'one_for_one' | 'one_for_all' | 'rest_for_one';
  /** Restarts allowed within periodMs; one more and the supervisor gives up. */
  intensity: number;
  periodMs: number;
  children: ChildSpec[];
}

export interface SupervisorRef {
  /** Resolves when stopped; rejects with ERR_SUPERVISOR_GAVE_UP when intensity is exceeded. */
  readonly done: Promise<void>;
  /** Stops the children (last first) and the supervisor. */
  stop(): Promise<void>;
}

/** What a supervisor needs from the system. */
export interface SupervisorHost {
  /** Starts a child; onExit hears of its exit, however soon (watched from before it runs). */
  spawn(def: unknown, init: unknown, opts: SpawnOptions, onExit: (ref: ActorRef, reason: unknown) => void): Promise<ActorRef>;
  kill(ref: ActorRef, reason: unknown): void;
}

interface Child {
  spec: ChildSpec;
  ref: ActorRef | undefined;
  /** Bumped whenever the supervisor itself stops this child: that exit is not a failure. */
  incarnation: number;
}

const STRATEGIES = ['one_for_one', 'one_for_all', 'rest_for_one'];
const RESTARTS = ['permanent', 'transient', 'temporary'];

function invalid(what: string, got: unknown): TypeError {
  return Object.assign(new TypeError(`Invalid supervisor spec: ${what}. Received ${typeof got === 'string' ? got : JSON.stringify(got)}`), { code: 'ERR_INVALID_ARG_VALUE' });
}

/** A supervisor on the main thread: monitors its children and restarts them per its spec. */
export class Supervisor implements SupervisorRef {
  readonly done: Promise<void>;
  readonly #spec: SupervisorSpec;
  readonly #host: SupervisorHost;
  readonly #children: Child[];
  readonly #restarts: number[] = [];
  #resolve!: () => void;
  #reject!: (e: unknown) => void;
  #stopped = false;
  // Restarts run one at a time, in the order exits arrive.
  #queue: Promise<void> = Promise.resolve();

  constructor(spec: SupervisorSpec, host: SupervisorHost) {
    if (spec === null || typeof spec !== 'object') throw invalid('spec must be an object', spec);
    if (!STRATEGIES.includes(spec.strategy)) throw invalid('strategy', spec.strategy);
    if (!Number.isInteger(spec.intensity) || spec.intensity < 0) throw invalid('intensity must be an integer >= 0', spec.intensity);
    if (typeof spec.periodMs !== 'number' || !(spec.periodMs > 0)) throw invalid('periodMs must be > 0', spec.periodMs);
    if (!Array.isArray(spec.children)) throw invalid('children must be an array', spec.children);
    const ids = new Set<string>();
    for (const c of spec.children) {
      if (typeof c?.id !== 'string' || c.id === '' || ids.has(c.id)) throw invalid('each child needs a distinct id', c?.id);
      if (!RESTARTS.includes(c.restart)) throw invalid(`child ${c.id}: restart`, c.restart);
      ids.add(c.id);
    }
    this.#spec = spec;
    this.#host = host;
    this.#children = spec.children.map((c) => ({ spec: c, ref: undefined, incarnation: 0 }));
    this.done = new Promise<void>((res, rej) => ((this.#resolve = res), (this.#reject = rej)));
    this.done.catch(() => {}); // NB: a caller that never looks at done must not see an unhandled rejection
  }

  async start(): Promise<void> {
    try {
      for (const c of this.#children) await this.#startChild(c);
    } catch (err) {
      await this.#stopAll('shutdown');
      this.#finish(err);
      throw err;
    }
  }

  stop(): Promise<void> {
    if (!this.#stopped) {
      this.#queue = this.#queue.then(async () => {
        await this.#stopAll('shutdown');
        this.#finish();
      });
    }
    return this.done.catch(() => {});
  }

  async #startChild(c: Child): Promise<void> {
    const s = c.spec;
    const inc = ++c.incarnation;
    let gone = false;
    // NB: watched from before it runs: a child that ends at once (a transient one doing its job) is seen
    // to end with its own reason, not as one that was not there, which would count as a crash.
    const ref = await this.#host.spawn(s.actor, s.init, { thread: s.thread, name: s.id, mailbox: s.mailbox }, (_r, reason) => {
      gone = true;
      if (this.#stopped || c.incarnation !== inc) return;
      c.ref = undefined;
      this.#queue = this.#queue.then(() => this.#exited(c, reason)).catch((err: unknown) => this.#giveUp(err));
    });
    if (c.incarnation !== inc) this.#host.kill(ref, 'shutdown'); // stopped while it started
    else if (!gone) c.ref = ref;
  }

  async #exited(c: Child, reason: unknown): Promise<void> {
    if (this.#stopped) return;
    const type = c.spec.restart;
    if (type === 'temporary' || (type === 'transient' && isNormal(reason))) return;
    const now = performance.now();
    this.#restarts.push(now);
    while (this.#restarts.length > 0 && now - this.#restarts[0]! > this.#spec.periodMs) this.#restarts.shift();
    if (this.#restarts.length > this.#spec.intensity) return this.#giveUp(reason);
    const i = this.#children.indexOf(c);
    const affected =
      this.#spec.strategy === 'one_for_one' ? [c] : this.#spec.strategy === 'one_for_all' ? this.#children : this.#children.slice(i);
    // The others go first, last started first; then all start again in order.
    for (const o of [...affected].reverse()) if (o !== c) this.#stopChild(o);
    for (const o of affected) {
      // NB: a temporary sibling stopped by the strategy is not restarted (OTP).
      if (o !== c && o.spec.restart === 'temporary') continue;
      await this.#startChild(o);
    }
  }

  #stopChild(c: Child): void {
    c.incarnation++;
    if (c.ref !== undefined) this.#host.kill(c.ref, 'shutdown');
    c.ref = undefined;
  }

  async #stopAll(reason: unknown): Promise<void> {
    this.#stopped = true;
    for (const c of [...this.#children].reverse()) {
      c.incarnation++;
      if (c.ref !== undefined) this.#host.kill(c.ref, reason);
      c.ref = undefined;
    }
  }

  async #giveUp(cause: unknown): Promise<void> {
    if (this.#stopped) return;
    await this.#stopAll('shutdown');
    this.#finish(new RuntimeError('ERR_SUPERVISOR_GAVE_UP', `supervisor gave up: more than ${this.#spec.intensity} restarts in ${this.#spec.periodMs} ms`, { cause }));
  }

  #finish(err?: unknown): void {
    this.#stopped = true;
    if (err === undefined) this.#resolve();
    else this.#reject(err);
  }
}
