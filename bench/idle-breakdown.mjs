// Where an idle task's bytes go: heap census diff around 100k idle tasks of one kind (see controller.mjs (c)).
//
// Usage: node --expose-gc bench/idle-breakdown.mjs [troupe-wrap|troupe-direct|node-promise|troupe-sleep|node-timeout]
import { Condition, Controller } from 'troupe';
import { censusDelta, heapCensus } from './lib/heap-diff.mjs';
import { fmt } from './lib/report.mjs';

const N = 100_000;
const FOREVER_MS = 1e9;

function kinds() {
  const root = Controller.root();
  const cv = new Condition();
  let open;
  const gate = new Promise((r) => {
    open = r;
  });
  // NB: idle tasks are reachable only through what they wait on; keep that reachable, as a real program would.
  globalThis.idleRoots = { cv, open };
  return {
    'troupe-wrap': () => root.wrap(async () => { await cv.wait(); }),
    'troupe-direct': () => (async () => { await cv.wait(); })(),
    'node-promise': () => (async () => { await gate; })(),
    'troupe-sleep': () => (async () => { await root.sleep(FOREVER_MS); })(),
    'node-timeout': () => (async () => { await new Promise((r) => setTimeout(r, FOREVER_MS)); })(),
  };
}

const kind = process.argv[2] ?? 'troupe-direct';
const start = kinds()[kind];
if (start === undefined) throw new Error(`unknown kind ${kind}; one of ${Object.keys(kinds()).join(', ')}`);
const before = heapCensus();
for (let i = 0; i < N; i++) start();
for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r)); // wrapped tasks start on a later pass
const rows = censusDelta(before, heapCensus(), N);
console.log(`${kind}: ${fmt(rows.reduce((s, r) => s + r.bytes, 0))} B per task`);
for (const r of rows) console.log(`${fmt(r.bytes).padStart(6)} B  ${fmt(r.objects, 2).padStart(5)} objects  ${r.key}`);
process.exit(0);
