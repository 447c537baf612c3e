// A hashed timing wheel: O(1) insert and cancel, expiry in time proportional to what expires.

/** What the wheel stores: an object that knows its own deadline and where it sits. */
export interface TimerEntry {
  /**
   * Absolute deadline on the monotime() clock; the wheel rounds it up to a whole ms when inserting.
   * NB: whole numbers stay small integers in V8, where a float would box a heap number in every entry.
   */
  deadline: number;
  /** Slot index while scheduled, -1 otherwise. Owned by the wheel. */
  slot: number;
  /** Position inside the slot's array. Owned by the wheel. */
  pos: number;
}

const SLOT_BITS = 12;
const SLOTS = 1 << SLOT_BITS; // 4096 slots of 1 ms: one revolution is ~4.1 s
const MASK = SLOTS - 1;

/**
 * Timers hashed by whole millisecond into 4096 slots. An entry sits in slot ceil(deadline) mod 4096 and
 * fires when the wheel passes that tick with its deadline reached; later revolutions simply stay put.
 * A bitmap of non-empty slots finds the next tick to arm the timerfd for without walking empty slots.
 *
 * NB: entries never fire early. A tick is processed only once `now` has reached it, and an entry is
 * fired only if `deadline <= now`.
 */
export class TimerWheel<T extends TimerEntry> {
  readonly #slots: (T[] | undefined)[] = new Array(SLOTS);
  readonly #bits = new Uint32Array(SLOTS >>> 5);
  // The first tick (integer ms) not yet processed.
  #tick: number;
  #size = 0;

  constructor(now: number) {
    this.#tick = Math.floor(now) + 1;
  }

  get size(): number {
    return this.#size;
  }

  /** Schedules `e` at `deadline`; returns the tick at which it will be looked at. */
  insert(e: T, deadline: number): number {
    if (e.slot >= 0) this.cancel(e);
    let tick = Math.ceil(deadline);
    if (!(tick >= this.#tick)) tick = this.#tick; // also catches NaN and -Infinity
    if (tick - this.#tick > 2 ** 40) tick = this.#tick + 2 ** 40; // +Infinity: revisited once per turn
    e.deadline = tick;
    const slot = tick & MASK;
    let list = this.#slots[slot];
    if (list === undefined) list = this.#slots[slot] = [];
    if (list.length === 0) this.#bits[slot >>> 5]! |= 1 << (slot & 31);
    e.slot = slot;
    e.pos = list.length;
    list.push(e);
    this.#size++;
    return tick;
  }

  /** Removes `e` if scheduled. */
  cancel(e: T): void {
    const slot = e.slot;
    if (slot < 0) return;
    const list = this.#slots[slot]!;
    const last = list.pop()!;
    if (last !== e) {
      list[e.pos] = last;
      last.pos = e.pos;
    }
    if (list.length === 0) this.#bits[slot >>> 5]! &= ~(1 << (slot & 31));
    e.slot = -1;
    this.#size--;
  }

  /** Removes every entry whose deadline is <= now and hands it to `fire`, in tick order. */
  expire(now: number, fire: (e: T) => void): void {
    const last = Math.floor(now);
    if (last < this.#tick) return;
    // After a gap longer than a revolution every slot is visited once; deadlines decide the rest.
    const from = last - this.#tick >= SLOTS ? last - SLOTS + 1 : this.#tick;
    this.#tick = last + 1;
    if (this.#size === 0) return;
    for (let t = from; t <= last; t++) {
      const slot = t & MASK;
      const list = this.#slots[slot];
      if (list === undefined || list.length === 0) continue;
      // Compact in place: entries of later revolutions stay, the rest fire after the slot is consistent.
      let keep = 0;
      let fired: T[] | undefined;
      for (let i = 0; i < list.length; i++) {
        const e = list[i]!;
        if (e.deadline <= now) {
          e.slot = -1;
          (fired ??= []).push(e);
        } else {
          e.pos = keep;
          list[keep++] = e;
        }
      }
      if (fired === undefined) continue;
      list.length = keep;
      this.#size -= fired.length;
      if (keep === 0) this.#bits[slot >>> 5]! &= ~(1 << (slot & 31));
      for (let i = 0; i < fired.length; i++) fire(fired[i]!);
    }
  }

  /** The next tick holding an entry (possibly one of a later revolution), or undefined when empty. */
  nextTick(): number | undefined {
    if (this.#size === 0) return undefined;
    const start = this.#tick & MASK;
    // Scan the bitmap circularly from the current slot, one 32-slot word at a time.
    for (let k = 0; k <= SLOTS >>> 5; k++) {
      const slot = (start + k * 32) & MASK;
      const word = slot >>> 5;
      let bits = this.#bits[word]!;
      if (k === 0) bits &= ~0 << (slot & 31); // skip slots before start in the first word
      else if (k === SLOTS >>> 5) bits &= ~(~0 << (start & 31)); // the wrapped tail of the first word
      if (bits === 0) continue;
      const found = (word << 5) + (31 - Math.clz32(bits & -bits));
      return this.#tick + ((found - start) & MASK);
    }
    return undefined;
  }
}
