// Memory probes for benches: peak RSS from /proc, live heap after a full GC.
import { readFileSync } from 'node:fs';

/** Reads a `kB` field (VmHWM, VmRSS, ...) of /proc/self/status, in bytes. */
export function procStatusBytes(field) {
  const m = readFileSync('/proc/self/status', 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm'));
  if (m === null) throw new Error(`no ${field} in /proc/self/status`);
  return Number(m[1]) * 1024;
}

/** Peak resident set size of this process so far, in bytes (the kernel's high-water mark). */
export function peakRss() {
  return procStatusBytes('VmHWM');
}

/**
 * Collects garbage fully, then returns live JS heap + external (ArrayBuffers, addon memory) and RSS.
 * NB: needs --expose-gc; the runner starts every child with it.
 */
export function liveMemory() {
  if (typeof globalThis.gc !== 'function') throw new Error('run node with --expose-gc');
  // Two passes: the first may only free what the second can then compact away (weak refs, finalizers).
  globalThis.gc();
  globalThis.gc();
  const m = process.memoryUsage();
  return { live: m.heapUsed + m.external, rss: m.rss };
}
