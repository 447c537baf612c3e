// A thread's asks waiting for their answers, by id: a ring of reused entries indexed by the id's low bits,
// and a map for the few that outlive RING newer asks. An ask then costs its promise and nothing else.

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
}

const RING = 1024;
// NB: ids stay within a u32, the width of an ask frame's header field.
const MAX_ID = 0xffffffff;

export class AskTable {
  readonly #ring: (PendingAsk | undefined)[] = new Array<PendingAsk | undefined>(RING).fill(undefined);
  readonly #far = new Map<number, PendingAsk>();
  #seq = 0;
  #size = 0;

  get size(): number {
    return this.#size;
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
