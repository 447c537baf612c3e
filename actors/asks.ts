// A thread's asks waiting for their answers, by id: a ring of reused entries indexed by the id's low bits,
// and a map for the few that outlive RING newer asks, with their timeouts. An ask then costs its promise
// and little else.
import { AbortError, SystemError } from 'troupe';

/** An ask's timeout when none is given (as Erlang's gen_server:call). */
export const ASK_TIMEOUT_MS = 5000;
// NB: a timer per ask costs a fifth of a local round trip; long timeouts (the default among them) are
// checked by one sweep instead: never early, and at most two sweeps (2 × SWEEP_MS) late.
const SWEEP_FROM_MS = 1000;
const SWEEP_MS = 100;
const ETIMEDOUT = -110;

// NB: one executor for every ask's promise rather than a closure per ask: it leaves the promise's settle
// functions here, and expect() takes them at once.
let takenResolve: ((v: unknown) => void) | undefined;
let takenReject: ((e: unknown) => void) | undefined;
function takeSettlers(resolve: (v: unknown) => void, reject: (e: unknown) => void): void {
  takenResolve = resolve;
  takenReject = reject;
}

/** An ask (or a call) waiting for its answer. Entries are reused: hold one only while its id is live. */
export class PendingAsk {
  /** 0 while the entry is free. */
  id = 0;
  resolve: ((v: unknown) => void) | undefined = undefined;
  reject: ((e: unknown) => void) | undefined = undefined;
  thread = 0;
  gen = 0;
  /** A timeout the sweep checks, or 0. */
  sweepMs = 0;
  /** Set by the first sweep that sees the ask: it times out sweepMs after that (never early). */
  deadline = 0;
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** The promise the asker holds (while the entry is live). */
  promise: Promise<unknown> | undefined = undefined;
}

const RING = 1024;
// NB: ids stay within a u32, the width of an ask frame's header field.
const MAX_ID = 0xffffffff;

export class AskTable {
  readonly #ring: (PendingAsk | undefined)[] = new Array<PendingAsk | undefined>(RING).fill(undefined);
  readonly #far = new Map<number, PendingAsk>();
  #seq = 0;
  #size = 0;
  #sweeper: ReturnType<typeof setInterval> | undefined;

  get size(): number {
    return this.#size;
  }

  /**
   * A new ask waiting for an answer from thread/gen, for up to t ms (Infinity: no limit) or until signal
   * aborts: its entry, with its id and the promise for its answer (settle() settles it).
   */
  expect(thread: number, gen: number, t: number, signal: AbortSignal | undefined): PendingAsk {
    const promise = new Promise(takeSettlers);
    // NB: no clock read per ask: the sweep dates an ask when it first sees it (see PendingAsk.deadline).
    const sweep = t >= SWEEP_FROM_MS && t !== Infinity;
    const p = this.open(takenResolve!, takenReject!, thread, gen, sweep ? t : 0);
    takenResolve = takenReject = undefined;
    p.promise = promise;
    const id = p.id;
    if (sweep) this.#sweepSoon();
    else if (t !== Infinity) p.timer = setTimeout(() => this.settle(id, false, new SystemError(ETIMEDOUT, 'ask')), t);
    if (signal !== undefined) {
      // As Node's own APIs: an AbortError ('ABORT_ERR') whose cause is the signal's reason.
      const aborted = (): void => this.settle(id, false, new AbortError(undefined, { cause: signal.reason }));
      if (signal.aborted) aborted();
      else signal.addEventListener('abort', aborted, { once: true });
    }
    return p;
  }

  /** Answers ask id (once: later answers, and answers after its timeout, are ignored). */
  settle(id: number, ok: boolean, value: unknown): void {
    const p = this.get(id);
    if (p === undefined) return; // timed out, or answered already
    const settle = ok ? p.resolve! : p.reject!;
    if (p.timer !== undefined) clearTimeout(p.timer);
    this.close(p);
    settle(value);
  }

  /** Rejects every ask waiting for (thread, gen) with err. */
  failThread(thread: number, gen: number, err: () => unknown): void {
    for (const p of this.live()) if (p.thread === thread && p.gen === gen) this.settle(p.id, false, err());
  }

  #sweepSoon(): void {
    if (this.#sweeper !== undefined) return;
    this.#sweeper = setInterval(() => {
      const now = performance.now();
      let timed = 0;
      for (const p of this.live()) {
        if (p.sweepMs === 0) continue;
        if (p.deadline === 0) p.deadline = now + p.sweepMs;
        else if (p.deadline <= now) {
          this.settle(p.id, false, new SystemError(ETIMEDOUT, 'ask'));
          continue;
        }
        timed++;
      }
      if (timed === 0) {
        clearInterval(this.#sweeper);
        this.#sweeper = undefined;
      }
    }, SWEEP_MS);
  }

  /** A fresh entry with a new id, filled in. */
  open(resolve: (v: unknown) => void, reject: (e: unknown) => void, thread: number, gen: number, sweepMs: number): PendingAsk {
    const id = (this.#seq = this.#seq === MAX_ID ? 1 : this.#seq + 1);
    const k = id & (RING - 1);
    let p = this.#ring[k];
    if (p === undefined) {
      p = this.#ring[k] = new PendingAsk();
    } else if (p.id !== 0) {
      // Still waiting RING asks later: it moves out of the ring.
      this.#far.set(p.id, p);
      p = this.#ring[k] = new PendingAsk();
    }
    p.id = id;
    p.resolve = resolve;
    p.reject = reject;
    p.thread = thread;
    p.gen = gen;
    p.sweepMs = sweepMs;
    p.deadline = 0;
    this.#size++;
    return p;
  }

  get(id: number): PendingAsk | undefined {
    const p = this.#ring[id & (RING - 1)];
    if (p !== undefined && p.id === id) return p;
    return this.#far.size > 0 ? this.#far.get(id) : undefined;
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  /** Frees p's entry (its id is no longer live). */
  close(p: PendingAsk): void {
    if (this.#far.get(p.id) === p) this.#far.delete(p.id);
    p.id = 0;
    p.resolve = p.reject = undefined;
    p.timer = undefined;
    p.promise = undefined;
    this.#size--;
  }

  /** The live entries, as a list made now (settling some while going through it is safe). */
  live(): PendingAsk[] {
    const out: PendingAsk[] = [];
    if (this.#size === 0) return out;
    for (const p of this.#ring) if (p !== undefined && p.id !== 0) out.push(p);
    for (const p of this.#far.values()) out.push(p);
    return out;
  }
}
