// The actor system, from the main thread: worker threads (each a node), placement, names, thread
// supervision (death by EOF, hangs by a watchdog), comlink proxies, piscina offload, serving.
import { availableParallelism } from 'node:os';
import { AbortError, Controller, RuntimeError, Socket, busyWait, thread as threads, type Thread } from 'troupe';
import type { Remote } from 'comlink';
import type { Watcher } from './cell.js';
import { isDefinition, load, specOf } from './define.js';
import { K, type Link } from './link.js';
import { ActorNode, type SpawnOptions } from './node.js';
import { installExposer, proxy } from './proxy.js';
import type { ActorRef } from './ref.js';
import { Supervisor, type SupervisorRef, type SupervisorSpec } from './supervisor.js';
import { Meter, STAT, type WorkerBoot } from './worker.js';
import { serveActors, type ServeOptions, type Server } from './serve.js';

/** Options of {@link ActorSystem.start}. */
export interface SystemOptions {
  /** Worker threads; default os.availableParallelism(). 0 runs every actor on the main thread. */
  threads?: number;
  /** A piscina pool for offload() (its options; `filename` names the task module). */
  offload?: Record<string, unknown>;
  /** A worker whose controller has work but makes no progress for this long is hung and restarted. Default 5000. */
  watchdogMs?: number;
  /**
   * How long (µs) each of the system's threads, the main one included while the system runs, polls for
   * work before it sleeps, when its waits have lately been that short (see busyWait in troupe). Default 50
   * with more than one CPU available, 0 (off) with one.
   */
  busyWaitUs?: number;
}

/** One thread's figures in {@link ActorSystem.stats}. */
export interface ThreadStats {
  thread: number;
  actors: number;
  mailboxDepth: number;
  msgsInPerSec: number;
  msgsOutPerSec: number;
  /** Event-loop utilisation, 0..1. */
  utilization: number;
  /** Restarts of this thread (crashed or hung). */
  restarts: number;
}

export interface SystemStats {
  threads: ThreadStats[];
}

interface Slot {
  index: number;
  gen: number;
  thread: Thread | undefined;
  stats: Float64Array;
  /** Settles once this incarnation runs. */
  ready: Promise<void>;
  restarting: boolean;
  restarts: number;
  lastBeat: number;
  lastChange: number;
  placed: number;
  placedAt: number;
}

/** Default busy wait of a system's threads with more than one CPU (SystemOptions.busyWaitUs). */
const DEFAULT_BUSY_WAIT_US = 50;
const WORKER = new URL('./worker.js', import.meta.url);
const EPOLLIN = 1;

function badOpt(name: string, want: string, got: unknown): TypeError {
  return Object.assign(new TypeError(`The "${name}" option must be ${want}. Received ${String(got)}`), { code: 'ERR_INVALID_ARG_VALUE' });
}

/**
 * Actors over a pool of threads. One system per process at a time.
 * @example
 * const system = await ActorSystem.start({ threads: 2 });
 * const ref = await system.spawn(counter);
 * await ref.send(1);
 */
export class ActorSystem {
  static #live: ActorSystem | undefined;
  readonly #node = new ActorNode(0, 0);
  readonly #slots: Slot[] = [];
  readonly #names = new Map<string, ActorRef | null>();
  readonly #supervisors = new Set<Supervisor>();
  readonly #aborts = new Map<string, AbortController>();
  readonly #meter = new Meter();
  readonly #mainStats = new Float64Array(STAT.SIZE);
  readonly #watchdogMs: number;
  readonly #busyWaitUs: number;
  /** The main thread's busy wait before the system set its own: put back at shutdown. */
  #busyWaitBefore = 0;
  #pool: { run(task: unknown, opts?: object): Promise<unknown>; destroy(): Promise<void> } | undefined;
  #closing: Promise<void> | undefined;
  #next = 0;

  private constructor(watchdogMs: number, busyWaitUs: number) {
    this.#watchdogMs = watchdogMs;
    this.#busyWaitUs = busyWaitUs;
    installExposer(this.#node);
    this.#node.spawner = (def, init, opts) => this.spawn(def, init, opts);
    this.#node.services.set('spawn', ([spec, init, opts]) => this.spawn(spec, init, opts as SpawnOptions));
    this.#node.services.set('offload', ([task, opts], from, id) => this.#offloadFor(task, opts as { name?: string; signal?: AbortSignal }, from, id));
    this.#node.services.set('abort', ([id], from) => this.#aborts.get(`${from}.${String(id)}`)?.abort());
    this.#node.onLinkClosed = (link, err) => this.#linkClosed(link, err);
  }

  /** Starts the worker threads; resolves once every one runs. */
  static async start(opts: SystemOptions = {}): Promise<ActorSystem> {
    if (opts === null || typeof opts !== 'object') throw badOpt('opts', 'an object', opts);
    const n = opts.threads ?? availableParallelism();
    if (!Number.isInteger(n) || n < 0) throw Object.assign(new RangeError(`The "threads" option must be an integer >= 0. Received ${n}`), { code: 'ERR_OUT_OF_RANGE' });
    const watchdogMs = opts.watchdogMs ?? 5000;
    if (typeof watchdogMs !== 'number' || !(watchdogMs >= 20)) throw Object.assign(new RangeError(`The "watchdogMs" option must be >= 20. Received ${watchdogMs}`), { code: 'ERR_OUT_OF_RANGE' });
    const busyWaitUs = opts.busyWaitUs ?? (availableParallelism() > 1 ? DEFAULT_BUSY_WAIT_US : 0);
    if (typeof busyWaitUs !== 'number' || !(busyWaitUs >= 0 && busyWaitUs <= 10_000)) throw Object.assign(new RangeError(`The "busyWaitUs" option must be >= 0 and <= 10000. Received ${String(busyWaitUs)}`), { code: 'ERR_OUT_OF_RANGE' });
    if (ActorSystem.#live !== undefined) throw new RuntimeError('ERR_INVALID_STATE', 'an actor system already runs in this process');
    const sys = new ActorSystem(watchdogMs, busyWaitUs);
    ActorSystem.#live = sys;
    sys.#busyWaitBefore = busyWait(busyWaitUs);
    try {
      if (opts.offload !== undefined) {
        const { Piscina } = await import('piscina');
        sys.#pool = new Piscina(opts.offload as never) as never;
      }
      // Every pair of workers gets a socketpair; each worker also gets one to the main thread.
      const ends: [number, Socket][][] = Array.from({ length: n + 1 }, () => []);
      for (let i = 1; i <= n; i++) {
        for (let j = i + 1; j <= n; j++) {
          const [a, b] = Socket.pair();
          ends[i]!.push([j, a]);
          ends[j]!.push([i, b]);
        }
      }
      for (let k = 1; k <= n; k++) {
        const slot: Slot = { index: k, gen: 0, thread: undefined, stats: new Float64Array(new SharedArrayBuffer(8 * STAT.SIZE)), ready: Promise.resolve(), restarting: false, restarts: 0, lastBeat: -1, lastChange: performance.now(), placed: 0, placedAt: 0 };
        sys.#slots[k] = slot;
        slot.ready = sys.#launch(slot, ends[k]!);
        await slot.ready;
      }
      if (n > 0) Controller.root().wrap(() => sys.#watchdog());
    } catch (err) {
      await sys.shutdown({ timeoutMs: 1000 });
      throw err;
    }
    return sys;
  }

  /** Worker threads (1..threads). */
  get threads(): number {
    return this.#slots.length === 0 ? 0 : this.#slots.length - 1;
  }

  async #launch(slot: Slot, peers: [number, Socket][]): Promise<void> {
    const boot: WorkerBoot = {
      thread: slot.index,
      gen: slot.gen,
      stats: slot.stats.buffer as SharedArrayBuffer,
      beatMs: Math.max(5, Math.min(250, this.#watchdogMs / 4)),
      busyWaitUs: this.#busyWaitUs,
      peers: peers.map(([t]) => [t, this.#slots[t]?.gen ?? 0]),
    };
    try {
      const [t, chan] = await threads.start(WORKER, boot, ...peers.map(([, s]) => s));
      slot.thread = t;
      slot.lastBeat = -1;
      slot.lastChange = performance.now();
      this.#node.addLink(chan, slot.index, slot.gen);
    } finally {
      for (const [, s] of peers) if (!s.closed) s.close();
    }
  }

  /** The main thread's watchdog: a worker whose beat stands still while its controller fd is ready is hung. */
  async #watchdog(): Promise<void> {
    const root = Controller.root();
    const period = Math.max(5, this.#watchdogMs / 4);
    while (this.#closing === undefined) {
      await root.sleep(period);
      const now = performance.now();
      for (const slot of this.#slots) {
        if (slot === undefined || slot.restarting || slot.thread === undefined) continue;
        const beat = slot.stats[STAT.BEAT]!;
        if (beat !== slot.lastBeat) {
          slot.lastBeat = beat;
          slot.lastChange = now;
          continue;
        }
        if (now - slot.lastChange < this.#watchdogMs) continue;
        const fd = slot.stats[STAT.CTLFD]!;
        const ready = fd > 0 && (await root.waitFd(fd, EPOLLIN, 1).catch(() => false));
        if (ready && slot.stats[STAT.BEAT] === beat && this.#closing === undefined) {
          void this.#restart(slot, new RuntimeError('ERR_THREAD_DIED', `thread ${slot.index} hung: no progress for ${Math.round(now - slot.lastChange)} ms`));
        }
      }
    }
  }

  #linkClosed(link: Link, err: unknown): void {
    const slot = this.#slots[link.peer];
    if (slot === undefined || slot.gen !== link.peerGen || slot.restarting || this.#closing !== undefined) return;
    void this.#restart(slot, new RuntimeError('ERR_THREAD_DIED', `thread ${slot.index} died`, err !== undefined ? { cause: err } : undefined));
  }

  /** Replaces a dead or hung worker with a new incarnation, linked to every live thread. */
  async #restart(slot: Slot, why: RuntimeError): Promise<void> {
    slot.restarting = true;
    let ready!: () => void;
    let failed!: (e: unknown) => void;
    slot.ready = new Promise<void>((res, rej) => ((ready = res), (failed = rej)));
    slot.ready.catch(() => {});
    try {
      const old = slot.thread;
      slot.thread = undefined;
      // This thread's asks learn why first (a hang is no EOF); then the old thread's descriptors close with
      // it: every peer sees EOF, rejects its asks and fires its watches.
      this.#node.links.get(slot.index)?.close(why);
      await old?.terminate();
      slot.gen++;
      slot.restarts++;
      const peers: [number, Socket][] = [];
      for (const other of this.#slots) {
        if (other === undefined || other === slot || other.restarting || other.thread === undefined) continue;
        const link = this.#node.links.get(other.index);
        if (link === undefined) continue;
        const [a, b] = Socket.pair();
        link.send([K.PEER, slot.index, slot.gen], [a]);
        peers.push([other.index, b]);
      }
      await this.#launch(slot, peers);
      slot.restarting = false;
      ready();
    } catch (err) {
      slot.restarting = false;
      failed(err);
    }
  }

  /**
   * Starts an actor: on the calling thread ('local' or 0), a given worker (1..threads), or the worker with
   * fewest actors ('least-loaded', the default).
   * @throws TypeError/RangeError for bad arguments; RuntimeError ERR_NAME_TAKEN; what loading the module throws
   */
  async spawn<M = unknown, I = unknown>(def: unknown, init?: I, opts: SpawnOptions = {}): Promise<ActorRef<M>> {
    return (await this.spawnNamed(def, init, opts, false)) as ActorRef<M>;
  }

  /**
   * @internal spawn(), where a supervisor may take over its child's name from the old incarnation, and
   * hear of its exit (onExit, watching from before it runs: ActorNode.spawnWatched).
   */
  async spawnNamed(def: unknown, init: unknown, opts: SpawnOptions, replace: boolean, onExit?: (ref: ActorRef, reason: unknown) => void): Promise<ActorRef> {
    if (this.#closing !== undefined) throw new RuntimeError('ERR_INVALID_STATE', 'the actor system is shut down');
    if (!isDefinition(def) && (typeof def !== 'object' || def === null || !('module' in def))) {
      throw Object.assign(new TypeError('spawn() takes an actor definition or { module, export? }'), { code: 'ERR_INVALID_ARG_TYPE' });
    }
    if (opts === null || typeof opts !== 'object') throw badOpt('opts', 'an object', opts);
    const thread = this.#place(opts.thread);
    const name = opts.name;
    if (name !== undefined) {
      if (typeof name !== 'string' || name === '') throw badOpt('name', 'a non-empty string', name);
      if (!replace && this.#names.has(name)) throw new RuntimeError('ERR_NAME_TAKEN', `an actor named '${name}' exists`);
      this.#names.set(name, null); // reserved while it starts
    }
    try {
      const local = { mailbox: opts.mailbox };
      const start = async (watchers?: Watcher[]): Promise<ActorRef> => {
        if (thread === 0) return this.#node.spawnLocal(isDefinition(def) ? def : await load(await specOf(def)), init, local, watchers);
        const spec = await specOf(def);
        const slot = this.#slots[thread]!;
        await slot.ready;
        return (await this.#node.call(thread, 'spawn', [spec, init, local, watchers])) as ActorRef;
      };
      const ref = onExit === undefined ? await start() : await this.#node.spawnWatched(onExit, start);
      if (name !== undefined) {
        this.#names.set(name, ref);
        this.#node.monitorWith(ref, () => {
          if (this.#names.get(name) === ref) this.#names.delete(name);
        });
      }
      return ref;
    } catch (err) {
      if (name !== undefined && this.#names.get(name) === null) this.#names.delete(name);
      throw err;
    }
  }

  #place(want: SpawnOptions['thread']): number {
    const n = this.threads;
    if (want === 'local' || want === 0) return 0;
    if (typeof want === 'number') {
      if (!Number.isInteger(want) || want < 0 || want > n) throw Object.assign(new RangeError(`The "thread" option must be 'local', 'least-loaded' or 0..${n}. Received ${want}`), { code: 'ERR_OUT_OF_RANGE' });
      if (want > 0) this.#slots[want]!.placed++;
      return want;
    }
    if (want !== undefined && want !== 'least-loaded') throw badOpt('thread', "'local', 'least-loaded' or a thread number", want);
    if (n === 0) return 0;
    return this.leastLoaded(n);
  }

  /**
   * @internal Of workers 1..n, the one with fewest actors: what it reported, plus what was placed there
   * since its last report (each pick counts as one); ties go round.
   */
  leastLoaded(n: number): number {
    let best = 0;
    let bestLoad = Infinity;
    for (let k = 0; k < n; k++) {
      const slot = this.#slots[((this.#next + k) % n) + 1]!;
      const refresh = slot.stats[STAT.REFRESH]!;
      if (refresh !== slot.placedAt) {
        slot.placedAt = refresh;
        slot.placed = 0;
      }
      const load = slot.stats[STAT.ACTORS]! + slot.placed;
      if (load < bestLoad) {
        bestLoad = load;
        best = slot.index;
      }
    }
    this.#next = best % n;
    this.#slots[best]!.placed++;
    return best;
  }

  /** Starts a supervisor (on the main thread) over its children; resolves once they all run. */
  async supervise(spec: SupervisorSpec): Promise<SupervisorRef> {
    if (this.#closing !== undefined) throw new RuntimeError('ERR_INVALID_STATE', 'the actor system is shut down');
    const sup = new Supervisor(spec, {
      spawn: (def, init, opts, onExit) => this.spawnNamed(def, init, opts, true, onExit),
      kill: (ref, reason) => this.#node.kill(ref, reason),
    });
    this.#supervisors.add(sup);
    void sup.done.then(
      () => this.#supervisors.delete(sup),
      () => this.#supervisors.delete(sup),
    );
    await sup.start();
    return sup;
  }

  /** A comlink Remote over ref (an actor that called ctx.expose()). */
  proxy<T>(ref: ActorRef<unknown>): Remote<T> {
    return proxy<T>(ref);
  }

  /** Runs task on the piscina pool given at start (`offload` option). */
  offload<T>(task: unknown, opts: { name?: string; signal?: AbortSignal } = {}): Promise<T> {
    if (this.#pool === undefined) return Promise.reject(new RuntimeError('ERR_INVALID_STATE', 'offload(): start the system with the offload option'));
    const signal = opts.signal;
    // NB: piscina's own AbortError has no code; reject as Node's APIs do (code 'ABORT_ERR', cause the reason).
    return (this.#pool.run(task, { name: opts.name, signal }) as Promise<T>).catch((err: unknown) => {
      throw signal?.aborted === true ? new AbortError(undefined, { cause: signal.reason }) : err;
    });
  }

  #offloadFor(task: unknown, opts: { name?: string; signal?: AbortSignal }, from: number, id: number): Promise<unknown> {
    if (from === 0) return this.offload(task, opts);
    const ac = new AbortController();
    const key = `${from}.${id}`;
    this.#aborts.set(key, ac);
    return this.offload(task, { name: opts.name, signal: ac.signal }).finally(() => this.#aborts.delete(key));
  }

  /** Serves connections: each one to a new actor as a Socket, or to a Node http handler (ServeOptions). */
  serve(opts: ServeOptions): Promise<Server> {
    return serveActors(this, opts);
  }

  /** The live actor registered under name (spawn's `name`, a supervisor child's id). */
  whereis(name: string): ActorRef<unknown> | undefined {
    return this.#names.get(name) ?? undefined;
  }

  /** Per thread: actors, mailbox depth, messages in/out per second, event-loop utilisation, restarts. */
  stats(): SystemStats {
    this.#meter.sample(this.#node, this.#mainStats);
    const row = (thread: number, s: Float64Array, restarts: number): ThreadStats => ({
      thread,
      actors: s[STAT.ACTORS]!,
      mailboxDepth: s[STAT.DEPTH]!,
      msgsInPerSec: s[STAT.IN_RATE]!,
      msgsOutPerSec: s[STAT.OUT_RATE]!,
      utilization: s[STAT.UTIL]!,
      restarts,
    });
    const out = [row(0, this.#mainStats, 0)];
    for (const slot of this.#slots) if (slot !== undefined) out.push(row(slot.index, slot.stats, slot.restarts));
    return { threads: out };
  }

  /**
   * Stops supervisors and actors, ends the worker threads (terminated past timeoutMs) and the offload pool.
   * The process may then start another system.
   */
  shutdown(opts: { timeoutMs?: number } = {}): Promise<void> {
    this.#closing ??= (async () => {
      const timeoutMs = opts.timeoutMs ?? 5000;
      await Promise.allSettled([...this.#supervisors].map((s) => s.stop()));
      for (const cell of [...this.#node.cells.values()]) this.#node.retire(cell, 'shutdown');
      for (const link of [...this.#node.links.values()]) link.close();
      await Promise.all(
        this.#slots.map(async (slot) => {
          if (slot === undefined) return;
          await slot.ready.catch(() => {});
          // NB: a restart under way when shutdown began links its new incarnation only now: end that link too.
          this.#node.links.get(slot.index)?.close();
          await slot.thread?.join(timeoutMs).catch(() => slot.thread?.terminate());
        }),
      );
      await this.#pool?.destroy();
      this.#node.detach();
      busyWait(this.#busyWaitBefore);
      if (ActorSystem.#live === this) ActorSystem.#live = undefined;
    })();
    return this.#closing;
  }
}
