// CellTable: a thread's live actors by serial (a Map's behaviour, in chunks of serials).
import { describe, expect, it } from 'vitest';
import type { Cell } from '../../actors/cell.js';
import { CellTable } from '../../actors/cells.js';

// NB: the table only stores and returns its values: stand-ins tagged with their serial will do.
const cellFor = (serial: number) => ({ serial }) as unknown as Cell;

describe('CellTable', () => {
  it('gets what was set, by serial, and forgets what was deleted', () => {
    const t = new CellTable();
    const cells = new Map<number, Cell>();
    for (const s of [1, 2, 255, 256, 257, 1000, 70_000]) {
      cells.set(s, cellFor(s));
      t.set(s, cells.get(s)!);
    }
    expect(t.size).toBe(7);
    for (const [s, c] of cells) expect(t.get(s)).toBe(c);
    expect(t.get(3)).toBeUndefined();
    expect(t.get(258)).toBeUndefined();
    expect(t.delete(256)).toBe(true);
    expect(t.delete(256)).toBe(false);
    expect(t.delete(4)).toBe(false);
    expect(t.get(256)).toBeUndefined();
    expect(t.get(257)).toBe(cells.get(257));
    expect(t.size).toBe(6);
  });

  it('setting a serial again replaces its cell without counting it twice', () => {
    const t = new CellTable();
    const a = cellFor(5);
    const b = cellFor(5);
    t.set(5, a);
    t.set(5, b);
    expect(t.size).toBe(1);
    expect(t.get(5)).toBe(b);
    expect([...t.values()]).toEqual([b]);
  });

  it('lists the live cells, and none once all are deleted (chunks emptied on the way)', () => {
    const t = new CellTable();
    const n = 2000;
    for (let s = 1; s <= n; s++) t.set(s, cellFor(s));
    for (let s = 1; s <= n; s += 2) t.delete(s);
    const left = [...t.values()].map((c) => (c as unknown as { serial: number }).serial);
    expect(left).toEqual(Array.from({ length: n / 2 }, (_, i) => 2 * (i + 1)));
    for (let s = 2; s <= n; s += 2) t.delete(s);
    expect(t.size).toBe(0);
    expect([...t.values()]).toEqual([]);
    // A chunk that emptied comes back when a serial in it is set again.
    t.set(300, cellFor(300));
    expect(t.get(300)).toBeDefined();
    expect(t.size).toBe(1);
  });

  it('handles serials past 2^32, and finds nothing for what is not a serial', () => {
    const t = new CellTable();
    const big = 2 ** 40 + 7;
    const low = 7; // the same low bits as big
    t.set(big, cellFor(big));
    t.set(low, cellFor(low));
    expect((t.get(big) as unknown as { serial: number }).serial).toBe(big);
    expect((t.get(low) as unknown as { serial: number }).serial).toBe(low);
    expect(t.get(2 ** 32 + 7)).toBeUndefined();
    for (const bad of [-1, -249, 7.5, Number.NaN, Infinity, 2 ** 53 + 2]) expect(t.get(bad)).toBeUndefined();
    expect(t.delete(-1)).toBe(false);
    expect(t.delete(big)).toBe(true);
    expect(t.get(big)).toBeUndefined();
    expect(t.get(low)).toBeDefined();
  });

  it('a chunk found last and then emptied is not found again, and its serials can come back', () => {
    const t = new CellTable();
    expect(t.get(-1)).toBeUndefined(); // nothing found yet, nothing cached
    const a = cellFor(5);
    t.set(5, a);
    expect(t.get(5)).toBe(a); // its chunk is the one found last
    expect(t.get(6)).toBeUndefined();
    t.delete(5); // the chunk empties and goes
    expect(t.get(5)).toBeUndefined();
    const b = cellFor(5);
    t.set(5, b);
    expect(t.get(5)).toBe(b);
    t.set(300, cellFor(300));
    expect(t.get(300)).toBeDefined(); // another chunk found last
    expect(t.get(5)).toBe(b);
  });
});
