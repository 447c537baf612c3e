// Heap snapshot census: live objects by kind after a full GC, and the per-item difference of two censuses.
import v8 from 'node:v8';

/** Counts and self sizes of live heap objects, keyed 'type:constructor' (e.g. 'object:Promise'). */
export function heapCensus() {
  globalThis.gc();
  globalThis.gc();
  const chunks = [];
  const stream = v8.getHeapSnapshot();
  for (let c = stream.read(); c !== null; c = stream.read()) chunks.push(c);
  const snap = JSON.parse(Buffer.concat(chunks).toString());
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [ti, ni, si] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const census = new Map();
  for (let i = 0; i < snap.nodes.length; i += fields.length) {
    const key = `${types[snap.nodes[i + ti]]}:${snap.strings[snap.nodes[i + ni]]}`.slice(0, 60);
    const e = census.get(key) ?? { count: 0, bytes: 0 };
    e.count += 1;
    e.bytes += snap.nodes[i + si];
    census.set(key, e);
  }
  return census;
}

/** What `after` holds beyond `before`, per item of `n`, biggest first; kinds under `minBytes` per item dropped. */
export function censusDelta(before, after, n, minBytes = 4) {
  const rows = [];
  for (const [key, a] of after) {
    const b = before.get(key) ?? { count: 0, bytes: 0 };
    const bytes = (a.bytes - b.bytes) / n;
    if (Math.abs(bytes) >= minBytes) rows.push({ key, objects: (a.count - b.count) / n, bytes });
  }
  return rows.sort((x, y) => y.bytes - x.bytes);
}
