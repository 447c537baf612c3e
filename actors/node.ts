// A thread's actor node: its actors, its links to the other threads, routing, asks, watches.
import { Controller, RuntimeError, SystemError, type Socket } from 'troupe';
import { ASK_TIMEOUT_MS, AskTable } from './asks.js';
import { PeerGens } from './peers.js';
import { Cell, OpenAsks, Special, WatchKind, type AskToken, type CellHost, type Watcher } from './cell.js';
import { CellTable } from './cells.js';
import { isDefinition, load, specOf, type ActorDefinition } from './define.js';
import { K, Link, type Envelope, type LinkOwner } from './link.js';
import type { MailboxOptions } from './mailbox.js';
import { ActorRef, Down, ExitSignal, isNormal, setRefHost, type RefHost } from './ref.js';

/** Where and how spawn() starts an actor. */
export interface SpawnOptions {
  /** A worker thread (1..threads), 0 or 'local' for the calling thread, or 'least-loaded' (the default). */
  thread?: number | 'local' | 'least-loaded';
  /** Registers the actor under this name (ActorSystem.whereis) while it lives. */
  name?: string;
  mailbox?: Pick<MailboxOptions, 'capacity' | 'overflow'>;
}

/** Requests a node serves for other threads (CALL envelopes). */
export type Service = (args: unknown[], from: number, id: number) => unknown;

/** A comlink call: an ask whose message is `{ [COMLINK]: message }`. */
export const COMLINK = '\0troupe:comlink';
const RESOLVED = Promise.resolve();
const ETIMEDOUT = -110;

export function exited(ref: ActorRef, cause?: unknown): RuntimeError {
  return new RuntimeError('ERR_ACTOR_EXITED', `actor ${ref.id} has exited`, cause !== undefined ? { cause } : undefined);
}

function mailboxFull(ref: ActorRef): RuntimeError {
  return new RuntimeError('ERR_MAILBOX_FULL', `the mailbox of actor ${ref.id} is full`);
}

function closeHandles(item: unknown): void {
  if (item instanceof Special && item.handles !== undefined) for (const s of item.handles) s.close();
}

/**
 * One per thread of a system. Same-thread messages go straight into the mailbox; others into the link to
 * the target's thread (one per thread pair, per incarnation of the peer).
 */
export class ActorNode implements RefHost, LinkOwner, CellHost {
  readonly thread: number;
  readonly gen: number;
  readonly cells = new CellTable();
  readonly links = new Map<number, Link>();
  /** CALL handlers, by method. */
  readonly services = new Map<string, Service>();
  /** spawn() of actors (main: the system's placement; workers: local or through the main thread). */
  spawner: (def: unknown, init: unknown, opts: SpawnOptions) => Promise<ActorRef>;
  /** Runs comlink calls for an exposed cell (set by proxy.ts). */
  exposer: ((cell: Cell, obj: object) => void) | undefined;
  /** Told when a link ends (the main thread supervises threads with it). */
  onLinkClosed: ((link: Link, err: unknown) => void) | undefined;
  msgsIn = 0;
  msgsOut = 0;
  #serial = 0;
  #cbSeq = 0;
  readonly #asks = new AskTable();
  readonly #peers = new PeerGens();
  readonly #callbacks = new Map<number, (ref: ActorRef, reason: unknown) => void>();
  // Watches held on actors of other threads, by thread: fired here if that thread dies.
  readonly #remote = new Map<number, Map<string, [ActorRef, Watcher]>>();

  constructor(thread: number, gen: number) {
    this.thread = thread;
    this.gen = gen;
    this.spawner = (def, init, opts) => this.#spawnRemote(def, init, opts);
    this.services.set('spawn', async ([spec, init, opts, watchers]) => this.spawnLocal(await load(spec as never), init, opts as SpawnOptions, (watchers ?? undefined) as Watcher[] | undefined));
    setRefHost(this);
  }

  /** Stops being this thread's node (refs stop working here). */
  detach(): void {
    setRefHost(undefined);
    this.#peers.clear();
  }

  addLink(sock: Socket, peer: number, peerGen: number): Link {
    const link = new Link(sock, peer, peerGen, this);
    this.links.set(peer, link);
    this.#peers.linked(peer, peerGen);
    return link;
  }

  // ---- actors

  /** Starts an actor on this thread; `watchers` hear of its exit (in place before it runs: see spawnWatched). */
  spawnLocal(def: ActorDefinition<any, any>, init: unknown, opts: SpawnOptions = {}, watchers?: Watcher[]): ActorRef {
    const ref = new ActorRef(this.thread, this.gen, ++this.#serial);
    const cell = new Cell(ref, this, opts.mailbox);
    ActorRef.setLocal(ref, cell);
    if (watchers !== undefined) cell.watchers = [...watchers];
    this.cells.set(ref.serial, cell);
    this.#run(cell, def, init);
    return ref;
  }

  // NB: the behaviour's own promise and one reaction on it, rather than a controller Task or an async
  // frame around it: an idle actor is its cell, its behaviour's frame and that reaction. The reaction has
  // one handler for both outcomes (one function per actor, not two); that handler, once the behaviour is
  // over, asks the promise (kept on the cell) which outcome it was. The behaviour starts on a microtask,
  // after spawn has returned its ref.
  #run(cell: Cell, def: ActorDefinition<any, any>, init: unknown): void {
    queueMicrotask(() => {
      let done: Promise<unknown>;
      try {
        done = Promise.resolve(def.behavior(cell, init));
      } catch (err) {
        return behaviourFailed.call(cell, err);
      }
      cell.done = done;
      const over = behaviourOver.bind(cell);
      done.then(over, over);
    });
  }

  spawn(def: unknown, init: unknown, opts: unknown): Promise<ActorRef> {
    return this.spawner(def, init, (opts ?? {}) as SpawnOptions);
  }

  async #spawnRemote(def: unknown, init: unknown, opts: SpawnOptions): Promise<ActorRef> {
    const thread = opts.thread === 'local' ? this.thread : opts.thread;
    if (thread === this.thread && opts.name === undefined) {
      return this.spawnLocal(isDefinition(def) ? def : await load(await specOf(def)), init, opts);
    }
    // Elsewhere, or named: the main thread places and registers it.
    return (await this.call(0, 'spawn', [await specOf(def), init, { ...opts, thread }])) as ActorRef;
  }

  /** Ends cell with reason: its mailbox closes, its asks reject, its watchers hear. */
  retire(cell: Cell, reason: unknown): void {
    if (cell.exited) return;
    // NB: closing the mailbox is what marks the cell exited; refs kept after the exit no longer hold it.
    const left = cell.mailbox.close();
    ActorRef.setLocal(cell.ref, undefined);
    this.cells.delete(cell.ref.serial);
    const err = exited(cell.ref, isNormal(reason) ? undefined : reason);
    for (const item of left) {
      if (item instanceof Special && item.isAsk) this.reply(item, false, err);
      closeHandles(item);
    }
    if (cell.openAsks !== undefined) for (const token of cell.openAsks) this.reply(token, false, err);
    cell.openAsks = undefined;
    if (cell.watchers !== undefined) for (const w of cell.watchers) this.#notify(w, cell.ref, reason);
    cell.watchers = undefined;
    cell.onExit?.();
  }

  /** Stops the actor ref names, wherever it lives, with reason. */
  kill(ref: ActorRef, reason: unknown): void {
    if (ref.thread === this.thread) {
      const cell = this.#live(ref);
      if (cell !== undefined) this.retire(cell, reason);
      return;
    }
    this.#linkFor(ref)?.send([K.KILL, ref.serial, ref.gen, reason]);
  }

  expose(cell: Cell, obj: object): void {
    if (this.exposer === undefined) throw new RuntimeError('ERR_INVALID_STATE', 'comlink is not loaded');
    this.exposer(cell, obj);
  }

  offload(task: unknown, opts?: { name?: string; signal?: AbortSignal }): Promise<unknown> {
    // NB: on the main thread the call stays local: the signal goes along to the pool itself.
    if (this.thread === 0) return this.call(0, 'offload', [task, opts ?? {}]);
    return this.call(0, 'offload', [task, { name: opts?.name }], opts?.signal);
  }

  #live(ref: ActorRef): Cell | undefined {
    const c = ActorRef.localOf(ref) as Cell | undefined;
    if (c !== undefined) return c.host === this && !c.exited ? c : undefined;
    return ref.gen === this.gen ? this.cells.get(ref.serial) : undefined;
  }

  #linkFor(ref: ActorRef): Link | undefined {
    const l = this.links.get(ref.thread);
    return l !== undefined && l.peerGen === ref.gen && !l.closed ? l : undefined;
  }

  // ---- messages (RefHost)

  send(ref: ActorRef, msg: unknown, handles: Socket[] | undefined, timeoutMs: number | undefined): Promise<void> {
    this.msgsOut++;
    if (ref.thread === this.thread) {
      const cell = this.#live(ref);
      const item = handles !== undefined && handles.length > 0 ? new Special(msg, -1, -1, [...handles]) : msg;
      if (cell === undefined) {
        closeHandles(item);
        return Promise.reject(exited(ref));
      }
      if (cell.mailbox.tryPost(item)) return RESOLVED;
      return cell.mailbox.post(item, timeoutMs);
    }
    const link = this.#linkFor(ref);
    if (link === undefined) {
      const retry = (): Promise<void> => {
        this.msgsOut--; // counted again
        return this.send(ref, msg, handles, timeoutMs);
      };
      return this.#whenLinked(ref, retry, () => handles?.forEach((s) => s.close()));
    }
    if (link.congested) return this.#sendWhenDrained(link, ref, msg, handles, timeoutMs);
    try {
      if (handles === undefined || handles.length === 0) link.sendMsg(ref.serial, ref.gen, msg);
      else link.send([K.SEND, ref.serial, ref.gen, msg], handles);
    } catch (err) {
      return Promise.reject(err);
    }
    return RESOLVED;
  }

  /**
   * For a ref whose thread has no channel here: if it names an incarnation newer than any linked so far
   * (restarted, its channel on its way), `go` once linked; else, or if none comes in PEER_WAIT_MS,
   * ERR_ACTOR_EXITED (and `dropped`).
   */
  #whenLinked(ref: ActorRef, go: () => Promise<void>, dropped?: () => void): Promise<void> {
    const gone = (): Promise<void> => {
      dropped?.();
      return Promise.reject(exited(ref));
    };
    if (!this.#peers.ahead(ref.thread, ref.gen)) return gone();
    return this.#peers.wait(ref.thread, ref.gen).then((linked) => {
      if (!linked || this.#linkFor(ref) === undefined) return gone();
      return go();
    });
  }

  /** Backpressure across threads: waits (up to timeoutMs) for the congested link to drain, then sends. */
  async #sendWhenDrained(link: Link, ref: ActorRef, msg: unknown, handles: Socket[] | undefined, timeoutMs: number | undefined): Promise<void> {
    const deadline = timeoutMs === undefined ? Infinity : performance.now() + timeoutMs;
    while (link.congested && !link.closed) {
      const left = deadline - performance.now();
      if (left <= 0) throw new SystemError(ETIMEDOUT, 'send');
      const drained = link.drained();
      if (left === Infinity) await drained;
      else await Promise.race([drained, Controller.root().sleep(left)]);
    }
    if (link.closed) throw exited(ref);
    if (handles === undefined || handles.length === 0) link.sendMsg(ref.serial, ref.gen, msg);
    else link.send([K.SEND, ref.serial, ref.gen, msg], handles);
  }

  trySend(ref: ActorRef, msg: unknown): boolean {
    if (ref.thread === this.thread) {
      const ok = this.#live(ref)?.mailbox.tryPost(msg) === true;
      if (ok) this.msgsOut++;
      return ok;
    }
    const link = this.#linkFor(ref);
    if (link === undefined || link.congested) return false;
    link.sendMsg(ref.serial, ref.gen, msg);
    this.msgsOut++;
    return true;
  }

  ask(ref: ActorRef, msg: unknown, timeoutMs: number | undefined): Promise<unknown> {
    const bad = badTimeout(timeoutMs);
    if (bad !== undefined) return Promise.reject(bad);
    this.msgsOut++;
    const p = this.#asks.expect(ref.thread, ref.gen, timeoutMs ?? ASK_TIMEOUT_MS, undefined);
    const id = p.id;
    const promise = p.promise!;
    try {
      if (ref.thread !== this.thread) {
        const link = this.#linkFor(ref);
        if (link !== undefined) link.ask(ref.serial, ref.gen, id, msg);
        else {
          const sent = this.#whenLinked(ref, () => (this.#linkFor(ref)!.ask(ref.serial, ref.gen, id, msg), RESOLVED));
          sent.catch((err: unknown) => this.#settle(id, false, err));
        }
      } else {
        const cell = this.#live(ref);
        if (cell === undefined) this.#settle(id, false, exited(ref));
        else this.#postAsk(cell, new Special(msg, this.thread, id, undefined));
      }
    } catch (err) {
      this.#settle(id, false, err);
    }
    return promise;
  }

  /** Calls a service of thread `thread`'s node; settles like an ask. */
  call(thread: number, method: string, args: unknown[], signal?: AbortSignal): Promise<unknown> {
    if (thread === this.thread) {
      const fn = this.services.get(method);
      if (fn === undefined) return Promise.reject(new RuntimeError('ERR_INVALID_STATE', `no ${method} service on thread ${thread}`));
      return Promise.resolve().then(() => fn(args, this.thread, 0));
    }
    const link = this.links.get(thread);
    const p = this.#asks.expect(thread, link?.peerGen ?? -1, Infinity, signal);
    const id = p.id;
    const promise = p.promise!;
    try {
      if (link === undefined || link.closed) {
        this.#settle(id, false, new RuntimeError('ERR_THREAD_DIED', `thread ${thread} is not running`));
      } else if (this.#asks.has(id)) {
        link.send([K.CALL, id, method, args]);
        signal?.addEventListener('abort', () => this.links.get(thread)?.send([K.CALL, 0, 'abort', [id]]), { once: true });
      }
    } catch (err) {
      this.#settle(id, false, err);
    }
    return promise;
  }

  #settle(id: number, ok: boolean, value: unknown): void {
    this.#asks.settle(id, ok, value);
  }

  /** Answers an ask (or a call) wherever it came from. */
  reply(token: AskToken, ok: boolean, value: unknown): void {
    if (token.thread === this.thread) return this.#settle(token.id, ok, value);
    const link = this.links.get(token.thread);
    if (link === undefined || link.closed) return;
    try {
      link.reply(token.id, ok, value);
    } catch (err) {
      link.reply(token.id, false, err instanceof Error ? err : new Error(String(err)));
    }
  }

  #postAsk(cell: Cell, ask: Special): void {
    const msg = ask.msg;
    if (cell.comlink !== undefined && typeof msg === 'object' && msg !== null && COMLINK in msg) {
      (cell.openAsks ??= new OpenAsks()).add(ask, false);
      cell.comlink((msg as Record<string, unknown>)[COMLINK], ask);
      return;
    }
    void this.#post(cell, ask);
  }

  /** Enqueues a delivered item; a promise when it waits for room ('wait'). Drops it when it cannot go in. */
  #post(cell: Cell, item: unknown): Promise<void> | undefined {
    this.msgsIn++;
    if (cell.mailbox.tryPost(item)) return undefined;
    if (cell.mailbox.overflow === 'wait' && !cell.mailbox.closed) {
      return cell.mailbox.post(item).catch((err: unknown) => this.#drop(item, err));
    }
    this.#drop(item, cell.mailbox.closed ? exited(cell.ref) : mailboxFull(cell.ref));
    return undefined;
  }

  /**
   * A delivery from a link: in now, or (full, 'wait') a promise after which the link offers it again;
   * dropped when it cannot go in ('fail', closed).
   */
  #offer(cell: Cell, item: unknown): Promise<void> | undefined {
    if (cell.mailbox.tryPost(item)) {
      this.msgsIn++;
      return undefined;
    }
    if (cell.mailbox.overflow === 'wait' && !cell.mailbox.closed) return cell.mailbox.room();
    this.#drop(item, cell.mailbox.closed ? exited(cell.ref) : mailboxFull(cell.ref));
    return undefined;
  }

  #drop(item: unknown, err: unknown): void {
    if (item instanceof Special && item.isAsk) this.reply(item, false, err);
    closeHandles(item);
  }

  // ---- watches

  /** Has `watcher` hear of target's exit. */
  watch(target: ActorRef, watcher: Watcher): void {
    if (target.thread === this.thread) {
      const cell = this.#live(target);
      if (cell !== undefined) (cell.watchers ??= []).push(watcher);
      else queueMicrotask(() => this.#notify(watcher, target, exited(target)));
      return;
    }
    const link = this.#linkFor(target);
    if (link === undefined) {
      queueMicrotask(() => this.#fire(watcher.serial, watcher.kind, target, threadGone(target.thread)));
      return;
    }
    this.#track(target, watcher);
    link.send([K.WATCH, target.serial, target.gen, watcher.thread, watcher.serial, watcher.kind]);
  }

  /** Notes a watch held on an actor of another thread: linkClosed fires it if that thread dies. */
  #track(target: ActorRef, watcher: Watcher): void {
    let byThread = this.#remote.get(target.thread);
    if (byThread === undefined) this.#remote.set(target.thread, (byThread = new Map()));
    byThread.set(`${target.gen}.${target.serial}.${watcher.serial}.${watcher.kind}`, [target, watcher]);
  }

  /** Calls cb(ref, reason) once when target exits (or its thread dies). */
  monitorWith(target: ActorRef, cb: (ref: ActorRef, reason: unknown) => void): void {
    const serial = --this.#cbSeq;
    this.#callbacks.set(serial, cb);
    this.watch(target, { thread: this.thread, serial, kind: WatchKind.CALLBACK });
  }

  /**
   * Erlang's spawn_monitor: `spawn` starts the actor with the watchers it is given (spawnLocal's, here or
   * on its thread), so cb(ref, reason) hears of an exit however soon it comes. Watching after spawn()
   * resolves would miss the reason of an actor that ended first: it would say only that there was none.
   */
  async spawnWatched(cb: (ref: ActorRef, reason: unknown) => void, spawn: (watchers: Watcher[]) => Promise<ActorRef>): Promise<ActorRef> {
    const serial = --this.#cbSeq;
    this.#callbacks.set(serial, cb);
    const w: Watcher = { thread: this.thread, serial, kind: WatchKind.CALLBACK };
    let target: ActorRef;
    try {
      target = await spawn([w]);
    } catch (err) {
      this.#callbacks.delete(serial);
      throw err;
    }
    // On another thread, cb also fires if that thread dies (unless it has fired already: a DOWN can come
    // ahead of the spawn's reply).
    if (target.thread !== this.thread && this.#callbacks.has(serial)) {
      const link = this.#linkFor(target);
      if (link === undefined) queueMicrotask(() => this.#fire(serial, w.kind, target, threadGone(target.thread)));
      else this.#track(target, w);
    }
    return target;
  }

  #notify(w: Watcher, ref: ActorRef, reason: unknown): void {
    if (w.thread === this.thread) return this.#fire(w.serial, w.kind, ref, reason);
    const link = this.links.get(w.thread);
    if (link === undefined || link.closed) return;
    try {
      link.send([K.DOWN, w.serial, w.kind, ref, reason]);
    } catch {
      link.send([K.DOWN, w.serial, w.kind, ref, String(reason)]);
    }
  }

  #fire(serial: number, kind: WatchKind, ref: ActorRef, reason: unknown): void {
    if (kind === WatchKind.CALLBACK) {
      const cb = this.#callbacks.get(serial);
      this.#callbacks.delete(serial);
      cb?.(ref, reason);
      return;
    }
    const cell = this.cells.get(serial);
    if (cell === undefined) return;
    if (kind === WatchKind.MONITOR) cell.mailbox.force(new Down(ref, reason));
    else if (!isNormal(reason)) this.retire(cell, reason);
  }

  // ---- links (LinkOwner)

  deliverSend(serial: number, gen: number, msg: unknown): Promise<void> | undefined {
    const cell = this.cells.get(serial);
    if (cell === undefined || gen !== this.gen) return undefined;
    return this.#offer(cell, msg);
  }

  deliverAsk(serial: number, gen: number, id: number, msg: unknown, link: Link): Promise<void> | undefined {
    const ask = new Special(msg, link.peer, id, undefined);
    const cell = this.cells.get(serial);
    if (cell === undefined || gen !== this.gen) this.reply(ask, false, exited(new ActorRef(this.thread, gen, serial)));
    else if (cell.comlink !== undefined) this.#postAsk(cell, ask);
    else return this.#offer(cell, ask);
    return undefined;
  }

  settle(id: number, ok: boolean, value: unknown): void {
    this.#settle(id, ok, value);
  }

  deliver(env: Envelope, link: Link): Promise<void> | undefined {
    switch (env[0]) {
      case K.SEND: {
        const handles = env[4] as Socket[] | undefined;
        if (handles === undefined) return this.deliverSend(env[1] as number, env[2] as number, env[3]);
        const cell = this.cells.get(env[1] as number);
        const item = new Special(env[3], -1, -1, handles);
        if (cell === undefined || env[2] !== this.gen) {
          closeHandles(item);
          return undefined;
        }
        return this.#offer(cell, item);
      }
      case K.ASK:
        return this.deliverAsk(env[1] as number, env[2] as number, env[4] as number, env[3], link);
      case K.REPLY:
        this.#settle(env[1] as number, env[2] === 1, env[3]);
        return undefined;
      case K.WATCH: {
        const target = new ActorRef(this.thread, env[2] as number, env[1] as number);
        this.watch(target, { thread: env[3] as number, serial: env[4] as number, kind: env[5] as WatchKind });
        return undefined;
      }
      case K.DOWN: {
        const ref = env[3] as ActorRef;
        this.#remote.get(ref.thread)?.delete(`${ref.gen}.${ref.serial}.${env[1] as number}.${env[2] as number}`);
        this.#fire(env[1] as number, env[2] as WatchKind, ref, env[4]);
        return undefined;
      }
      case K.KILL: {
        const cell = this.cells.get(env[1] as number);
        if (cell !== undefined && env[2] === this.gen) this.retire(cell, env[3]);
        return undefined;
      }
      case K.CALL:
        this.#serve(env, link.peer);
        return undefined;
      case K.PEER: {
        const [sock] = env[3] as Socket[];
        this.addLink(sock!, env[1] as number, env[2] as number);
        return undefined;
      }
      default:
        throw new RuntimeError('ERR_INVALID_FRAME', `malformed actor frame: unknown envelope kind ${String(env[0])}`);
    }
  }

  #serve(env: Envelope, from: number): void {
    const token: AskToken = { thread: from, id: env[1] as number };
    const fn = this.services.get(env[2] as string);
    if (fn === undefined) return this.reply(token, false, new RuntimeError('ERR_INVALID_STATE', `no ${String(env[2])} service on thread ${this.thread}`));
    Promise.resolve()
      .then(() => fn(env[3] as unknown[], from, token.id))
      .then(
        (v) => token.id !== 0 && this.reply(token, true, v),
        (e: unknown) => token.id !== 0 && this.reply(token, false, e),
      );
  }

  linkClosed(link: Link, err: unknown): void {
    if (this.links.get(link.peer) === link) this.links.delete(link.peer);
    const gone = threadGone(link.peer, err);
    this.#asks.failThread(link.peer, link.peerGen, () => new RuntimeError('ERR_ACTOR_EXITED', `thread ${link.peer} is gone`, { cause: gone }));
    const watches = this.#remote.get(link.peer);
    if (watches !== undefined) {
      for (const [key, [target, w]] of watches) {
        if (target.gen !== link.peerGen) continue;
        watches.delete(key);
        this.#fire(w.serial, w.kind, target, gone);
      }
    }
    if (err !== undefined && (err as { code?: string }).code === 'ERR_INVALID_FRAME') {
      process.emitWarning(err as Error);
    }
    this.onLinkClosed?.(link, err);
  }
}

function threadGone(thread: number, cause?: unknown): RuntimeError {
  return new RuntimeError('ERR_THREAD_DIED', `thread ${thread} is gone`, cause !== undefined ? { cause } : undefined);
}

// The reaction to an actor's behaviour settling, bound to its cell (a bound function is smaller than a
// closure and its context). It learns which way it settled from the promise itself: at exit, not per idle
// actor, the two handlers that tell fulfilled from rejected.
function behaviourOver(this: Cell): void {
  const done = this.done!;
  this.done = undefined;
  done.then(behaviourReturned.bind(this), behaviourFailed.bind(this));
}

function behaviourReturned(this: Cell): void {
  const node = this.host as ActorNode;
  if (!this.exposed || this.exited) return node.retire(this, 'normal');
  this.onExit = () => node.retire(this, 'normal');
}

function behaviourFailed(this: Cell, err: unknown): void {
  (this.host as ActorNode).retire(this, err instanceof ExitSignal ? err.reason : err);
}

/** The error for a bad ask timeout, if it is one. */
function badTimeout(timeoutMs: unknown): RangeError | undefined {
  if (timeoutMs === undefined || (typeof timeoutMs === 'number' && timeoutMs >= 0)) return undefined;
  return Object.assign(new RangeError(`The value of "timeoutMs" is out of range. It must be >= 0. Received ${String(timeoutMs)}`), { code: 'ERR_OUT_OF_RANGE' });
}
