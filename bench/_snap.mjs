// Diff heap snapshots by (type, name): what one idle task costs.
import v8 from 'node:v8';
import { Condition, Controller, sleep } from 'troupe';
const N = 100000;
const mode = process.argv[2];
function snap() {
  globalThis.gc(); globalThis.gc();
  const s = JSON.parse(require_snapshot());
  const f = s.snapshot.meta.node_fields; const types = s.snapshot.meta.node_types[0];
  const nf = f.length, ti = f.indexOf('type'), ni = f.indexOf('name'), si = f.indexOf('self_size');
  const agg = new Map();
  for (let i = 0; i < s.nodes.length; i += nf) {
    const key = `${types[s.nodes[i + ti]]}:${s.strings[s.nodes[i + ni]]}`.slice(0, 80);
    const a = agg.get(key) ?? [0, 0]; a[0]++; a[1] += s.nodes[i + si]; agg.set(key, a);
  }
  return agg;
}
function require_snapshot() { const chunks = []; const st = v8.getHeapSnapshot(); let c; while ((c = st.read()) !== null) chunks.push(c); return Buffer.concat(chunks).toString(); }
const cv = new Condition(); const root = Controller.root();
let gateOpen; const gate = new Promise((r) => gateOpen = r); globalThis.g = gateOpen;
const before = snap();
const kinds = {
  wrap: () => root.wrap(async () => { await cv.wait(); }),
  direct: () => (async () => { await cv.wait(); })(),
  node: () => (async () => { await gate; })(),
  sleepwrap: () => root.wrap(async () => { await sleep(1e9); }),
  sleepdirect: () => (async () => { await root.sleep(1e9); })(),
  nodetimer: () => (async () => { await new Promise((r) => setTimeout(r, 1e9)); })(),
};
for (let i = 0; i < N; i++) kinds[mode]();
for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
const after = snap();
const rows = [];
let tot = 0;
for (const [k, [c, s]] of after) { const b = before.get(k) ?? [0, 0]; const dc = c - b[0], ds = s - b[1]; tot += ds; if (Math.abs(ds) > N * 4) rows.push([k, dc / N, ds / N]); }
rows.sort((a, b) => b[2] - a[2]);
console.log(`${mode}: total ${(tot / N).toFixed(0)} B/task`);
for (const [k, c, s] of rows) console.log(`${s.toFixed(0).padStart(6)} B ${c.toFixed(2).padStart(6)} obj  ${k}`);
process.exit(0);
