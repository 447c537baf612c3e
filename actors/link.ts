// One thread pair's channel: envelopes as msgpackr frames over a Wire, many per write, sockets riding
// along as descriptors; delivery in order, stalling (and so pushing back on the peer) at a full mailbox.
import { availableParallelism } from 'node:os';
import { Socket, Wire, type DetachedSocket } from 'troupe';
import { FrameDecoder, FrameEncoder, type FrameSink } from './codec.js';

/** Envelope kinds: the first element of every envelope array. */
export const enum K {
  /** [SEND, serial, gen, msg, handles?] */
  SEND = 1,
  /** [ASK, serial, gen, msg, askId]: the reply goes back over the same link */
  ASK = 2,
  /** [REPLY, askId, ok, value] */
  REPLY = 3,
  /** [WATCH, serial, gen, watcherThread, watcherSerial, kind]: monitor or link */
  WATCH = 4,
  /** [DOWN, watcherSerial, kind, targetRef, reason] */
  DOWN = 5,
  /** [KILL, serial, gen, reason] */
  KILL = 6,
  /** [CALL, askId, method, args]: a request to the peer's node (spawn, offload, …); answered by REPLY */
  CALL = 7,
  /** [PEER, thread, gen, handles]: a new channel to a restarted thread (from the main thread) */
  PEER = 8,
}

export type Envelope = unknown[];

/** What a link reports to its thread's node. */
export interface LinkOwner {
  /** Delivers env; or a promise when it has to wait for room: the link stalls, and offers env again after it. */
  deliver(env: Envelope, link: Link): Promise<void> | undefined;
  /** deliver() of a plain SEND, without the envelope. */
  deliverSend(serial: number, gen: number, msg: unknown): Promise<void> | undefined;
  /** deliver() of an ASK, without the envelope. */
  deliverAsk(serial: number, gen: number, id: number, msg: unknown, link: Link): Promise<void> | undefined;
  /** A REPLY: settles the ask. */
  settle(id: number, ok: boolean, value: unknown): void;
  /** The link ended: the peer thread is gone, or the channel broke (err, e.g. ERR_INVALID_FRAME). */
  linkClosed(link: Link, err?: unknown): void;
}

// Batches past this go out at once rather than at the end of the turn.
const BATCH_MAX = 256 * 1024;
// With more than one CPU to run on, a run of this many asks or replies leaves at once rather than at the end
// of the turn, so that the peer thread starts on them while this one makes the rest (pipelining; measured
// 64 asks in flight 0.6–0.8 M → 1.3–1.4 M/s on 2 CPUs). On one CPU the whole turn's batch is best: the
// peer could not run meanwhile anyway, and each early write costs it a wake-up (measured 0.86 → 0.56 M/s).
const NO_FDS: readonly number[] = [];
const URGENT_RUN = availableParallelism() > 1 ? 32 : 0;
// A channel holding this much unsent is congested: send() waits, trySend() refuses.
const HIGH_WATER = 1024 * 1024;
// Envelopes (or bytes read) held behind a stalled delivery before the link stops reading.
const STALL_MAX = 1024;
const STALL_BYTES = 4 * 1024 * 1024;

/**
 * Envelopes both ways between two threads. Sends within one turn leave in one write; envelopes arrive in
 * the order sent. A frame that does not decode ends the link with ERR_INVALID_FRAME; the thread lives on.
 */
export class Link {
  readonly peer: number;
  readonly peerGen: number;
  readonly #wire: Wire;
  readonly #owner: LinkOwner;
  readonly #enc = new FrameEncoder();
  readonly #dec = new FrameDecoder();
  readonly #in: FrameSink;
  #scheduled = false;
  #urgent = false;
  #urgentCount = 0;
  #stalled: Envelope[] | null = null;
  #stalledBytes = 0;
  #closed = false;

  constructor(sock: Socket, peer: number, peerGen: number, owner: LinkOwner) {
    this.peer = peer;
    this.peerGen = peerGen;
    this.#owner = owner;
    this.#in = {
      send: (serial, gen, msg) => {
        if (this.#stalled !== null) this.#stalled.push([K.SEND, serial, gen, msg]);
        else this.#stallOn(owner.deliverSend(serial, gen, msg), [K.SEND, serial, gen, msg]);
      },
      ask: (serial, gen, id, msg) => {
        if (this.#stalled !== null) this.#stalled.push([K.ASK, serial, gen, msg, id]);
        else this.#stallOn(owner.deliverAsk(serial, gen, id, msg, this), [K.ASK, serial, gen, msg, id]);
      },
      // Replies never wait behind a stall: an actor waiting for one may be what frees the mailbox.
      reply: (id, ok, value) => owner.settle(id, ok, value),
      envelope: (env) => this.#envelope(env),
    };
    this.#wire = new Wire(sock, {
      borrows: true, // the decoder copies what it keeps
      data: (chunk, length) => {
        this.#dec.decode(chunk, this.#in, length);
        if (this.#stalled === null) return;
        // NB: bounded by count and by bytes: a thousand large messages are as much as the mailbox's worth.
        this.#stalledBytes += length;
        if (this.#stalled.length >= STALL_MAX || this.#stalledBytes >= STALL_BYTES) this.#wire.pause();
      },
      closed: (err) => {
        this.#closed = true;
        this.#stalled = null;
        owner.linkClosed(this, err);
      },
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes waiting for the peer to read: true past the high-water mark. */
  get congested(): boolean {
    return this.#wire.queued > HIGH_WATER;
  }

  /** Resolves once the channel has drained (or closed). */
  drained(): Promise<void> {
    return this.#wire.drained();
  }

  /**
   * Queues env. Sockets in `handles` move (detached now, closed here once sent) and replace env's last
   * element on arrival. @throws ERR_HANDLE_CLOSED once the link has ended; what msgpackr throws for env
   */
  send(env: Envelope, handles?: readonly Socket[]): void {
    this.#checkOpen();
    if (handles !== undefined && handles.length > 0) {
      this.#sendWithHandles(env, handles);
      return;
    }
    this.#enc.append(env);
    this.#queued(env[0] === K.SEND);
  }

  /** send() of a plain [SEND, serial, gen, msg]. */
  sendMsg(serial: number, gen: number, msg: unknown): void {
    this.#checkOpen();
    this.#enc.appendSend(serial, gen, msg);
    this.#queued(true);
  }

  /** send() of [ASK, serial, gen, msg, id]. */
  ask(serial: number, gen: number, id: number, msg: unknown): void {
    this.#checkOpen();
    this.#enc.appendAsk(serial, gen, id, msg);
    this.#queued(false);
  }

  /** send() of [REPLY, id, ok, value]. */
  reply(id: number, ok: boolean, value: unknown): void {
    this.#checkOpen();
    this.#enc.appendReply(id, ok, value);
    this.#queued(false);
  }

  /** Writes what is batched now. */
  flush(): void {
    this.#urgentCount = 0;
    if (this.#closed) return;
    this.#enc.flush(this.#write);
  }

  readonly #write = (buf: Buffer, length: number): boolean => this.#wire.write(buf, NO_FDS, length);

  close(err?: unknown): void {
    this.#wire.close(err);
  }

  #checkOpen(): void {
    if (this.#closed) throw Object.assign(new Error('the channel to that thread is closed'), { code: 'ERR_HANDLE_CLOSED' });
  }

  /** Schedules the flush of what was just appended. */
  #queued(plain: boolean): void {
    if (this.#enc.batched > BATCH_MAX) this.flush();
    else if (!plain) {
      if (URGENT_RUN > 0 && ++this.#urgentCount >= URGENT_RUN) {
        this.flush();
        return;
      }
      // Someone waits for this one (an ask, a reply, a call): out once the microtask queue has drained.
      // NB: a tick queued now runs after every microtask queued so far and those they queue, so that an
      // actor answering a read's worth of asks one `for await` step at a time sends one write, not one each.
      if (!this.#urgent) {
        this.#urgent = true;
        process.nextTick(this.#flushUrgent);
      }
    } else if (!this.#scheduled) {
      // NB: a plain send waits for the end of the macrotask: a sender awaiting each send() stays inside
      // one microtask run, and all its sends leave in one write instead of one write (and one wake-up
      // of the peer) each.
      this.#scheduled = true;
      setImmediate(this.#flushLater);
    }
  }

  readonly #flushLater = (): void => {
    this.#scheduled = false;
    this.flush();
  };

  readonly #flushUrgent = (): void => {
    this.#urgent = false;
    this.flush();
  };

  #sendWithHandles(env: Envelope, handles: readonly Socket[]): void {
    for (const [k, s] of handles.entries()) {
      if (!(s instanceof Socket)) throw Object.assign(new TypeError(`handles[${k}] is not a Socket`), { code: 'ERR_INVALID_ARG_TYPE' });
      if (s.closed) throw Object.assign(new Error(`handles[${k}] is closed`), { code: 'ERR_HANDLE_CLOSED' });
      if (typeof s.pollfd() !== 'number') throw Object.assign(new Error(`handles[${k}] is still connecting`), { code: 'ERR_INVALID_STATE' });
    }
    this.flush(); // what was sent before goes first
    const moved = handles.map((s) => Socket.detach(s));
    const fds = moved.map((d) => d.fd);
    try {
      this.#enc.append([...env, moved.map((d) => [d.state, d.input, d.output])]);
    } catch (err) {
      for (const d of moved) Socket.attach(d).close(); // NB: back to this thread, then closed
      throw err;
    }
    this.#enc.flush((b, n) => this.#wire.write(b, fds, n));
  }

  #envelope(value: unknown): void {
    if (!Array.isArray(value)) throw Object.assign(new Error('malformed actor frame: not an envelope'), { code: 'ERR_INVALID_FRAME' });
    const env = value as Envelope;
    if (env[0] === K.SEND && env.length > 4) this.#attach(env, 4);
    else if (env[0] === K.PEER) this.#attach(env, 3);
    if (this.#stalled !== null && env[0] !== K.REPLY) this.#stalled.push(env);
    else this.#stallOn(this.#owner.deliver(env, this), env);
  }

  /** After a delivery: when it has to wait for room, the link holds env and what follows until then. */
  #stallOn(wait: Promise<void> | undefined, env: Envelope): void {
    if (wait === undefined) return;
    this.#stalled = [env];
    void this.#unstall(wait);
  }

  /** The sockets that came with env (its element `at`, state records), rebuilt on their descriptors. */
  #attach(env: Envelope, at: number): void {
    const recs = env[at] as [DetachedSocket['state'], Uint8Array, Uint8Array][];
    if (!Array.isArray(recs)) throw Object.assign(new Error('malformed actor frame: handles'), { code: 'ERR_INVALID_FRAME' });
    env[at] = recs.map(([state, input, output]) => Socket.attach({ fd: this.#wire.takeFd(), state, input, output }));
  }

  async #unstall(first: Promise<void>): Promise<void> {
    await first;
    // NB: an index, not shift(): one read can queue tens of thousands of envelopes here.
    let i = 0;
    for (;;) {
      const q = this.#stalled;
      if (q === null) return; // closed
      if (i === q.length) break;
      const wait = this.#owner.deliver(q[i]!, this);
      if (wait !== undefined) {
        await wait; // room (or closed): then the same envelope again
        continue;
      }
      q[i++] = undefined as unknown as Envelope;
      if (i > 4096 && i * 2 > q.length) {
        q.splice(0, i);
        i = 0;
      }
    }
    this.#stalled = null;
    this.#stalledBytes = 0;
    this.#wire.resume();
  }
}
