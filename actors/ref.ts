// Actor references (location transparent, msgpackr-encodable), and what an exit looks like to others.
import { addExtension } from 'msgpackr/pack';
import type { Socket } from 'troupe';

/** What a thread's actor node does for a reference (actors/node.ts implements it). */
export interface RefHost {
  send(ref: ActorRef<any>, msg: unknown, handles: Socket[] | undefined, timeoutMs: number | undefined): Promise<void>;
  trySend(ref: ActorRef<any>, msg: unknown): boolean;
  ask(ref: ActorRef<any>, msg: unknown, timeoutMs: number | undefined): Promise<any>;
}

let host: RefHost | undefined;

/** @internal The thread's actor node, which every reference in this thread goes through. */
export function setRefHost(h: RefHost | undefined): void {
  host = h;
}

function currentHost(): RefHost {
  if (host === undefined) throw Object.assign(new Error('no actor system runs in this thread'), { code: 'ERR_INVALID_STATE' });
  return host;
}

/**
 * An actor's address: thread, that thread's incarnation, serial. Send it in messages anywhere in the
 * system; it keeps working across threads. A reference to an actor that has exited stays valid: sends to
 * it are dropped (at-most-once), asks reject with ERR_ACTOR_EXITED.
 */
export class ActorRef<M = unknown> {
  readonly thread: number;
  readonly gen: number;
  readonly serial: number;
  // The actor's cell, on a ref its own thread made for it (not sent anywhere): sends skip the lookup.
  #local: unknown;

  /** @internal */
  constructor(thread: number, gen: number, serial: number) {
    this.thread = thread;
    this.gen = gen;
    this.serial = serial;
  }

  /** @internal The cell cached on ref, if any. */
  static localOf(ref: ActorRef<any>): unknown {
    return ref.#local;
  }

  /** @internal Caches (or with undefined, forgets) ref's cell. */
  static setLocal(ref: ActorRef<any>, cell: unknown): void {
    ref.#local = cell;
  }

  /** "thread.incarnation.serial", unique in the system. */
  get id(): string {
    return `${this.thread}.${this.gen}.${this.serial}`;
  }

  /**
   * Enqueues msg in the actor's mailbox; resolves once enqueued (same thread) or handed to the thread's
   * channel (another thread). With a full mailbox it waits, fails (ERR_MAILBOX_FULL) or drops the oldest,
   * per the mailbox's policy; across threads a congested channel makes it wait. `handles` are sockets that
   * move with the message (the receiver gets them from ctx.handles()).
   * @throws RuntimeError ERR_ACTOR_EXITED (the actor or its thread is gone), ERR_MAILBOX_FULL; SystemError ETIMEDOUT
   */
  send(msg: M, opts?: { handles?: Socket[]; timeoutMs?: number }): Promise<void> {
    return currentHost().send(this, msg, opts?.handles, opts?.timeoutMs);
  }

  /** Enqueues msg if that can happen now without waiting; false otherwise (full, congested, or exited). */
  trySend(msg: M): boolean {
    return currentHost().trySend(this, msg);
  }

  /**
   * Sends msg and waits for the actor's ctx.reply(). Always settles.
   * @throws what the actor replied with an error; ERR_ACTOR_EXITED if it exits first; ETIMEDOUT
   */
  ask<R = unknown>(msg: M, opts?: { timeoutMs?: number }): Promise<R> {
    return currentHost().ask(this, msg, opts?.timeoutMs) as Promise<R>;
  }

  toString(): string {
    return `ActorRef<${this.id}>`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/** Delivered to a monitoring actor when the monitored one exits. */
export class Down {
  readonly ref: ActorRef;
  /** 'normal', 'shutdown', or what ended it (an Error keeps its code across threads). */
  readonly reason: unknown;

  constructor(ref: ActorRef, reason: unknown) {
    this.ref = ref;
    this.reason = reason;
  }
}

/** Thrown by ctx.exit() to unwind the behaviour; the actor has exited by then. */
export class ExitSignal extends Error {
  readonly reason: unknown;

  constructor(reason: unknown) {
    super('actor exit');
    this.name = 'ExitSignal';
    this.reason = reason;
  }
}

/** Whether an exit reason is a normal end (links do not propagate it; transient children stay down). */
export function isNormal(reason: unknown): boolean {
  return reason === 'normal' || reason === 'shutdown' || reason === undefined;
}

// NB: msgpackr's extensions are process-wide; 0x52 ('R') is troupe's for actor references.
addExtension({
  Class: ActorRef,
  type: 0x52,
  write: (r: ActorRef) => [r.thread, r.gen, r.serial],
  read: ([t, g, s]: [number, number, number]) => new ActorRef(t, g, s),
});
