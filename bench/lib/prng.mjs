// A seeded PRNG (mulberry32) so every variant of a bench sees the same "random" sequence.

/**
 * Returns a function yielding floats in [0, 1), determined entirely by `seed` (a 32-bit integer).
 * @example
 * const rand = mulberry32(42);
 * const ms = Math.floor(rand() * 1001); // 0..1000
 */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
