// An actor's state on its thread (Cell) and what its behaviour sees (Context).
import { Controller, RuntimeError, type Socket } from 'troupe';
import { Mailbox, type MailboxOptions } from './mailbox.js';
import { ActorRef, ExitSignal } from './ref.js';

/** Where the answer to an ask goes: the asking thread and its ask id. */
export interface AskToken {
  thread: number;
  id: number;
}

/**
 * A mailbox entry that carries more than the message: an ask to answer (the entry is its own AskToken,
 * thread and id; id is -1 for no ask), or sockets that came with it.
 */
export class Special implements AskToken {
  constructor(
    readonly msg: unknown,
    readonly thread: number,
    readonly id: number,
    readonly handles: Socket[] | undefined,
  ) {}

  get isAsk(): boolean {
    return this.id >= 0;
  }
}

/**
 * Asks an actor took and has not answered: as a Set of them, but an array underneath, so that taking and
 * answering one ask after another allocates nothing (a Set's table is rebuilt as deleted entries pile up).
 */
export class OpenAsks {
  readonly #a: AskToken[] = [];
  /** The ask taken last, while open: what reply() answers (a message taken since, say a Down, does not change it). */
  current: AskToken | undefined = undefined;

  /** Opens t: the ask taken last (current) or one answered elsewhere (a comlink call). */
  add(t: AskToken, current: boolean): void {
    this.#a.push(t);
    if (current) this.current = t;
  }

  /** Whether t was open (and is no longer). */
  delete(t: AskToken): boolean {
    if (t === this.current) this.current = undefined;
    const a = this.#a;
    // NB: most often the one opened last (an actor answering as it goes): no search.
    if (a.length > 0 && a[a.length - 1] === t) {
      a.pop();
      return true;
    }
    const i = a.lastIndexOf(t);
    if (i < 0) return false;
    const last = a.pop()!;
    if (i < a.length) a[i] = last;
    return true;
  }

  [Symbol.iterator](): IterableIterator<AskToken> {
    return this.#a.slice()[Symbol.iterator]();
  }
}

/** Who hears of an actor's exit: an actor (Down message, or exit with it when linked) or a system callback. */
export const enum WatchKind {
  MONITOR = 0,
  LINK = 1,
  CALLBACK = 2,
}

export interface Watcher {
  thread: number;
  serial: number;
  kind: WatchKind;
}

/** What the thread's node does for a cell (actors/node.ts). */
export interface CellHost {
  reply(token: AskToken, ok: boolean, value: unknown): void;
  retire(cell: Cell, reason: unknown): void;
  watch(target: ActorRef, watcher: Watcher): void;
  spawn(def: unknown, init: unknown, opts: unknown): Promise<ActorRef>;
  offload(task: unknown, opts?: { name?: string; signal?: AbortSignal }): Promise<unknown>;
  expose(cell: Cell, obj: object): void;
}

/** What few actors use, out of the cell until first set: an idle actor stays small. */
class Extras {
  watchers: Watcher[] | undefined = undefined;
  onExit: (() => void) | undefined = undefined;
  exposed = false;
  comlink: ((msg: unknown, token: AskToken) => void) | undefined = undefined;
  /** The sockets that came with the message taken last, if it came with any. */
  handles: Socket[] | undefined = undefined;
}

// This thread's progress as the main thread's watchdog sees it: one count per message an actor takes, so
// that a thread busy with a long run of messages (no turn of its event loop between them) is not taken for
// hung. A local counter until a worker points it at its shared stats.
let progress: Float64Array<ArrayBufferLike> = new Float64Array(1);
let progressAt = 0;

/** @internal Counts this thread's messages taken in arr[at] (a worker's shared heartbeat slot). */
export function countProgressIn(arr: Float64Array, at: number): void {
  progress = arr;
  progressAt = at;
}

/**
 * What an actor's behaviour is given: its mailbox (receive, or `for await`), its reference, and the
 * system's operations. Created by the runtime.
 *
 * It is also the actor's state on its thread (internally, its Cell): the mailbox and what the node keeps
 * for it are this one object, so that an idle actor stays small.
 */
export class ActorContext<M = unknown> extends Mailbox<unknown> implements AsyncIterable<M> {
  /** @internal */
  readonly ref: ActorRef;
  /** @internal */
  readonly host: CellHost;
  /** @internal Asks taken from the mailbox and not answered yet: answered ERR_ACTOR_EXITED at exit. */
  openAsks: OpenAsks | undefined;
  #x: Extras | undefined;
  /** @internal The behaviour's promise, until it settles (see ActorNode.#run). */
  done: Promise<unknown> | undefined;

  /** @internal */
  constructor(ref: ActorRef, host: CellHost, mailbox: MailboxOptions | undefined) {
    super(mailbox);
    this.ref = ref;
    this.host = host;
  }

  /** @internal Exited: the mailbox is closed (retire() closes it first). */
  get exited(): boolean {
    return this.closed;
  }

  /** @internal Who to tell when it exits. */
  get watchers(): Watcher[] | undefined {
    return this.#x?.watchers;
  }

  /** @internal */
  set watchers(w: Watcher[] | undefined) {
    if (w !== undefined || this.#x !== undefined) (this.#x ??= new Extras()).watchers = w;
  }

  /** @internal Called once at exit (an exposed actor's behaviour waits for it). */
  get onExit(): (() => void) | undefined {
    return this.#x?.onExit;
  }

  /** @internal */
  set onExit(f: (() => void) | undefined) {
    (this.#x ??= new Extras()).onExit = f;
  }

  /** @internal Set by expose(): the actor lives on after its behaviour returns, until it exits. */
  get exposed(): boolean {
    return this.#x?.exposed === true;
  }

  /** @internal */
  set exposed(on: boolean) {
    (this.#x ??= new Extras()).exposed = on;
  }

  /** @internal Runs a comlink call (an ask tagged COMLINK) instead of queueing it. */
  get comlink(): ((msg: unknown, token: AskToken) => void) | undefined {
    return this.#x?.comlink;
  }

  /** @internal */
  set comlink(f: ((msg: unknown, token: AskToken) => void) | undefined) {
    (this.#x ??= new Extras()).comlink = f;
  }

  /** @internal */
  get mailbox(): this {
    return this;
  }

  /** @internal Takes an entry: notes the ask it carries and its sockets, returns the message. */
  protected override opened(item: unknown): unknown {
    progress[progressAt]!++;
    const x = this.#x;
    if (!(item instanceof Special)) {
      if (x !== undefined) x.handles = undefined;
      return item;
    }
    if (item.handles !== undefined) (this.#x ??= new Extras()).handles = item.handles;
    else if (x !== undefined) x.handles = undefined;
    if (item.isAsk) (this.openAsks ??= new OpenAsks()).add(item, true);
    return item.msg;
  }

  get self(): ActorRef<M> {
    return this.ref as ActorRef<M>;
  }

  /** The thread's root controller, which runs this actor. */
  get controller(): Controller {
    return Controller.root();
  }

  /**
   * The oldest message (that `match` accepts; the others stay, in order). Waits up to timeoutMs: null
   * when the time runs out, and null when the actor is exiting (its mailbox is closed).
   */
  override receive(opts?: { timeoutMs?: number; match?: (m: M) => boolean }): Promise<M | null> {
    const match = opts?.match;
    const test = match === undefined ? undefined : (item: unknown) => match(unwrap(item) as M);
    return super.receive({ timeoutMs: opts?.timeoutMs, match: test, nullOnTimeout: true }) as Promise<M | null>;
  }

  [Symbol.asyncIterator](): AsyncIterator<M> {
    // NB: the mailbox is the iterator: no object per loop, none per message but the result.
    return this as unknown as AsyncIterator<M>;
  }

  /**
   * Answers the ask being handled: the last ask receive() returned (an Error value rejects the ask with
   * it). @throws ERR_INVALID_STATE if there is no such ask, or it is answered
   */
  reply(value: unknown): void {
    const asks = this.openAsks;
    const token = asks?.current;
    if (token === undefined || !asks!.delete(token)) {
      throw new RuntimeError('ERR_INVALID_STATE', 'reply(): no unanswered ask is being handled');
    }
    this.host.reply(token, !(value instanceof Error), value);
  }

  /** Sockets that arrived with the current message (they are the actor's to use and close). */
  handles(): Socket[] {
    return this.#x?.handles ?? [];
  }

  /** As ActorSystem.spawn; 'local' is this actor's thread. */
  spawn(def: unknown, init?: unknown, opts?: unknown): Promise<ActorRef<any>> {
    return this.host.spawn(def, init, opts);
  }

  /** Links this actor and ref: when either exits abnormally, the other exits with the same reason. */
  link(ref: ActorRef<any>): void {
    if (!(ref instanceof ActorRef)) throw Object.assign(new TypeError('link(): ref must be an ActorRef'), { code: 'ERR_INVALID_ARG_TYPE' });
    (this.watchers ??= []).push({ thread: ref.thread, serial: ref.serial, kind: WatchKind.LINK });
    this.host.watch(ref, { thread: this.ref.thread, serial: this.ref.serial, kind: WatchKind.LINK });
  }

  /** When ref exits, a Down { ref, reason } arrives in this actor's mailbox (at once if it is gone already). */
  monitor(ref: ActorRef<any>): void {
    if (!(ref instanceof ActorRef)) throw Object.assign(new TypeError('monitor(): ref must be an ActorRef'), { code: 'ERR_INVALID_ARG_TYPE' });
    this.host.watch(ref, { thread: this.ref.thread, serial: this.ref.serial, kind: WatchKind.MONITOR });
  }

  /** Ends the actor now with reason (default 'normal'): its pending asks reject, its watchers hear. */
  exit(reason: unknown = 'normal'): never {
    this.host.retire(this, reason);
    throw new ExitSignal(reason);
  }

  /** Serves comlink calls on this actor (see ActorSystem.proxy); the actor then lives until it exits. */
  expose(obj: object): void {
    if (obj === null || (typeof obj !== 'object' && typeof obj !== 'function')) {
      throw Object.assign(new TypeError('expose(): obj must be an object'), { code: 'ERR_INVALID_ARG_TYPE' });
    }
    this.exposed = true;
    this.host.expose(this, obj);
  }

  /** As ActorSystem.offload: CPU-bound work on the system's piscina pool. */
  offload<T>(task: unknown, opts?: { name?: string; signal?: AbortSignal }): Promise<T> {
    return this.host.offload(task, opts) as Promise<T>;
  }
}

/** @internal An actor on its thread, as the node sees it: its context (see ActorContext). */
export type Cell = ActorContext;
/** @internal */
export const Cell = ActorContext;

function unwrap(item: unknown): unknown {
  return item instanceof Special ? item.msg : item;
}
