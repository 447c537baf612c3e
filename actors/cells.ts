// A thread's live actors by serial: a Map's interface at about 8 bytes an actor instead of a Map's 30-40.
import type { Cell } from './cell.js';

const BITS = 8;
const SIZE = 1 << BITS; // serials per chunk
const MASK = SIZE - 1;

/** The chunk a serial is in; -1 (no chunk) for what is not a serial, an integer in [0, 2^53). */
function chunkOf(serial: number): number {
  if (serial >>> 0 === serial) return serial >>> BITS;
  return Number.isSafeInteger(serial) && serial > 0 ? Math.floor(serial / SIZE) : -1;
}

/** One run of SIZE serials: a slot per serial, and how many hold a cell. */
interface Chunk {
  slots: (Cell | undefined)[];
  live: number;
}

/**
 * Cells keyed by serial. Serials are handed out in order, so a thread's live actors sit in runs: they go
 * in chunks of 256 slots, found through a Map by serial / 256. A chunk goes when its last cell does, so
 * memory follows the live actors, not the serials ever used (at worst a chunk, 2 KiB, per live actor
 * whose neighbours in serial order have all exited).
 */
export class CellTable {
  readonly #chunks = new Map<number, Chunk>();
  #size = 0;
  // NB: the chunk found last: messages tend to go to the same actors, and this skips the Map lookup.
  #lastKey = Number.NaN; // none (NaN equals no key)
  #last: Chunk | undefined;

  get size(): number {
    return this.#size;
  }

  get(serial: number): Cell | undefined {
    const key = chunkOf(serial);
    if (key === this.#lastKey) return this.#last!.slots[serial & MASK];
    const c = this.#chunks.get(key);
    if (c === undefined) return undefined;
    this.#lastKey = key;
    this.#last = c;
    return c.slots[serial & MASK];
  }

  set(serial: number, cell: Cell): void {
    let c = this.#chunks.get(chunkOf(serial));
    if (c === undefined) {
      c = { slots: new Array<Cell | undefined>(SIZE).fill(undefined), live: 0 };
      this.#chunks.set(chunkOf(serial), c);
    }
    if (c.slots[serial & MASK] === undefined) {
      c.live++;
      this.#size++;
    }
    c.slots[serial & MASK] = cell;
  }

  delete(serial: number): boolean {
    const c = this.#chunks.get(chunkOf(serial));
    if (c === undefined || c.slots[serial & MASK] === undefined) return false;
    c.slots[serial & MASK] = undefined;
    this.#size--;
    if (--c.live === 0) {
      this.#chunks.delete(chunkOf(serial));
      if (c === this.#last) {
        this.#lastKey = Number.NaN;
        this.#last = undefined;
      }
    }
    return true;
  }

  /** The cells, in serial order within a chunk (a snapshot is not taken: copy before retiring them). */
  *values(): IterableIterator<Cell> {
    for (const c of this.#chunks.values()) for (const cell of c.slots) if (cell !== undefined) yield cell;
  }
}
