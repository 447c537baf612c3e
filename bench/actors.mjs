// Actors bench: troupe's actor messaging against worker_threads postMessage, comlink and piscina, side by side.
//
// Usage: npm run bench:actors        (= node --expose-gc bench/actors.mjs: 3 runs of everything, about 2.5 min)
//        node --expose-gc bench/actors.mjs --quick                      (a smoke run, a few seconds)
//        node --expose-gc bench/actors.mjs --runs 5 --only rpc,oneway --ms 2000 --warm-ms 500 --actors 100000
//        node --expose-gc bench/actors.mjs --child rpc/troupe           (one variant, prints JSON)
//
// Every figure is taken twice: with the process free on all CPUs, and pinned to one CPU (the child runs under
// `taskset -c 0`, so the worker thread shares CPU 0 with the main thread). On these 2-vCPU VMs waking an idle
// vCPU costs ~25 µs each way, which hides software cost; pinned shows it.
// (1) request → reply across threads, 1 in flight, for --ms after --warm-ms: latency p50 / p99 and CPU µs
//     per round trip (process.cpuUsage(), all threads, user + system). troupe ask to an echo actor on thread 1
//     vs worker_threads postMessage ping-pong (a promise per request), comlink over a MessagePort, piscina run().
// (2) the same with 64 requests in flight (64 loops each awaiting its reply): requests/s.
// (3) one-way cross-thread: numbers, sent in chunks of 1,000 for --ms, to a counting consumer on the other
//     thread, then ask it for the count, so the time covers delivery: troupe trySend / send vs a postMessage
//     burst (the main thread posts without yielding to its event loop; the worker drains the backlog).
// (4) same thread, the same way: a local actor vs a plain async-iterable queue (a promise per message, the
//     producer waiting once 1,024 are queued, as a bounded mailbox with overflow 'wait' would make it).
// (5) bytes per idle actor: --actors actors spawned on the calling thread, live heap + external (and RSS)
//     after a full GC, per actor; vs async functions idling in `for await` over a plain queue each.
// Each variant runs in a fresh process; figures are medians of --runs runs (memory: --memory-runs), interleaved.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CHILD_FLAG, reportFromChild } from './lib/child.mjs';
import { fmt, machineInfo, median, sourceState, table } from './lib/report.mjs';

const SCRIPT = fileURLToPath(import.meta.url);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHILD_TIMEOUT_MS = 120_000;
const PIN = ['taskset', '-c', '0'];

const LABELS = {
  'rpc/troupe': 'troupe ask → echo actor on thread 1',
  'rpc/postmessage': 'worker_threads postMessage ping-pong',
  'rpc/comlink': 'comlink over a MessagePort',
  'rpc/piscina': 'piscina run(), 1 thread',
  'rpc/piscina-c64': 'piscina run(), concurrentTasksPerWorker 64',
  'oneway/troupe-trysend': 'troupe trySend (await send() when full)',
  'oneway/troupe-send': 'troupe await send() each',
  'oneway/postmessage': 'worker_threads postMessage burst',
  'oneway/troupe-trysend-obj': 'troupe trySend, { seq, kind, at } objects',
  'oneway/postmessage-obj': 'postMessage burst, { seq, kind, at } objects',
  'local/troupe-trysend': 'troupe trySend to a local actor',
  'local/troupe-send': 'troupe await send() to a local actor',
  'local/promise': 'promise hand-off: for await over a plain queue',
  'memory/troupe': 'troupe idle actor (thread: local)',
  'memory/promise': 'async fn in for await over a plain queue',
};
const SECTIONS = ['rpc', 'oneway', 'local', 'memory'];

function options() {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' },
      quick: { type: 'boolean', default: false },
      runs: { type: 'string' },
      'memory-runs': { type: 'string', default: '1' },
      only: { type: 'string', default: SECTIONS.join(',') },
      ms: { type: 'string' },
      'warm-ms': { type: 'string' },
      actors: { type: 'string' },
      'no-pin': { type: 'boolean', default: false },
    },
  });
  const q = values.quick;
  const num = (name, full, quick) => {
    const x = Number(values[name] ?? (q ? quick : full));
    if (!Number.isInteger(x) || x < 1) throw new Error(`--${name} must be a positive integer, got ${values[name]}`);
    return x;
  };
  const o = {
    child: values.child,
    quick: q,
    runs: num('runs', 3, 1),
    memoryRuns: num('memory-runs', 1, 1),
    only: new Set(values.only.split(',')),
    ms: num('ms', 800, 200),
    warmMs: num('warm-ms', 200, 50),
    actors: num('actors', 1_000_000, 20_000),
    pin: !values['no-pin'],
  };
  for (const s of o.only) if (!SECTIONS.includes(s)) throw new Error(`--only takes ${SECTIONS.join(',')}, got ${s}`);
  return o;
}

/** The sizes a child needs, as command-line flags. */
const childArgs = (o) => ['--ms', o.ms, '--warm-ms', o.warmMs, '--actors', o.actors].map(String);

/** Runs one variant in a fresh `node --expose-gc` (under taskset when pinned); its JSON line, or { error }. */
function runVariant(variant, pinned, o) {
  // NB: a million actors may need more than the default old space (about 4 GiB on 64-bit).
  const heap = variant.startsWith('memory/') ? ['--max-old-space-size=16384'] : [];
  const node = [process.execPath, '--expose-gc', ...heap, SCRIPT, CHILD_FLAG, variant, ...childArgs(o)];
  const [cmd, ...args] = pinned ? [...PIN, ...node] : node;
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', timeout: CHILD_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
  const line = r.stdout?.trim().split('\n').reverse().find((l) => l.startsWith('{'));
  if (r.error || r.status !== 0 || line === undefined) {
    return { error: r.error?.message ?? `exited with ${r.status ?? r.signal}${line === undefined ? ', no JSON' : ''}` };
  }
  const res = JSON.parse(line);
  if (pinned && res.cpus !== '0') return { error: `pinned child ran on CPUs ${res.cpus}` };
  return res;
}

/** Whether `troupe/actors` has the actor API yet; the reason when not. */
async function troupeActors() {
  try {
    const m = await import('troupe/actors');
    return typeof m.defineActor === 'function' && typeof m.ActorSystem?.start === 'function'
      ? { ok: true }
      : { ok: false, why: 'troupe/actors exports no defineActor / ActorSystem' };
  } catch (err) {
    return { ok: false, why: `import('troupe/actors') failed: ${err.message}` };
  }
}

function hasTaskset() {
  const r = spawnSync(PIN[0], [...PIN.slice(1), 'true'], { stdio: 'ignore' });
  return r.status === 0;
}

// ---- report ------------------------------------------------------------------------------------------------

/** Medians over the successful runs of `mode|variant`; `get(path)` is undefined when there are none. */
function medians(res) {
  return (mode, variant, path) => {
    const xs = (res[`${mode}|${variant}`] ?? []).filter((x) => x.error === undefined).map((x) => path.split('.').reduce((v, k) => v?.[k], x));
    return xs.length === 0 || xs.some((x) => x === undefined) ? undefined : median(xs);
  };
}

const show = (x, digits = 0) => (x === undefined ? '–' : fmt(x, digits));
const ratio = (a, b) => (a === undefined || b === undefined ? '' : fmt(a / b, 2));

function printTables(o, modes, variants, med) {
  const has = (v) => variants.includes(v);
  const rows = (vs, cells) => modes.flatMap((m) => vs.filter(has).map((v) => [m.label, LABELS[v], ...cells(m.key, v)]));
  const R = (n) => new Set(Array.from({ length: n }, (_, i) => i + 2));
  if (o.only.has('rpc')) {
    const g = (m, v, f) => med(m, v, f);
    console.log(`\n(1) request → reply across threads, 1 in flight, ${o.ms} ms after a ${o.warmMs} ms warm-up; CPU = whole process, user + system; troupe/this on each competitor's row`);
    console.log(table(['CPUs', 'variant', 'p50 µs', 'troupe/this', 'p99 µs', 'troupe/this', 'CPU µs/trip', 'troupe/this', 'trips/s'],
      rows(['rpc/troupe', 'rpc/postmessage', 'rpc/comlink', 'rpc/piscina'], (m, v) => {
        const t = (f) => (v === 'rpc/troupe' ? '' : ratio(g(m, 'rpc/troupe', f), g(m, v, f)));
        return [show(g(m, v, 'seq.p50'), 1), t('seq.p50'), show(g(m, v, 'seq.p99'), 1), t('seq.p99'), show(g(m, v, 'seq.cpuUsPer'), 1), t('seq.cpuUsPer'), show(g(m, v, 'seq.perSec'))];
      }), R(7)));
    console.log(`\n(2) the same with 64 requests in flight, ${o.ms} ms; troupe/this on each competitor's row`);
    console.log(table(['CPUs', 'variant', 'requests/s', 'troupe/this', 'CPU µs/request', 'troupe/this'],
      rows(['rpc/troupe', 'rpc/postmessage', 'rpc/comlink', 'rpc/piscina', 'rpc/piscina-c64'], (m, v) => {
        const t = (f) => (v === 'rpc/troupe' ? '' : ratio(g(m, 'rpc/troupe', f), g(m, v, f)));
        return [show(g(m, v, 'par.perSec')), t('par.perSec'), show(g(m, v, 'par.cpuUsPer'), 2), t('par.cpuUsPer')];
      }), R(4)));
  }
  const vsBase = (title, vs, base, what) => {
    console.log(title);
    console.log(table(['CPUs', 'variant', 'msgs/s', `this/${what}`, 'CPU µs/msg', `this/${what}`, 'lost'],
      rows(vs, (m, v) => {
        const t = (f) => (v === base ? '' : ratio(med(m, v, f), med(m, base, f)));
        return [show(med(m, v, 'perSec')), t('perSec'), show(med(m, v, 'cpuUsPer'), 3), t('cpuUsPer'), show(med(m, v, 'lost'))];
      }), R(5)));
  };
  if (o.only.has('oneway')) {
    vsBase(`\n(3) one-way across threads: numbers in chunks of 1,000 for ${o.ms} ms (after ${o.warmMs} ms of the same), timed until the consumer's count is back`,
      ['oneway/troupe-trysend', 'oneway/troupe-send', 'oneway/postmessage'], 'oneway/postmessage', 'postMessage');
    vsBase(`\n(3b) the same with a small object per message ({ seq, kind: 'tick', at: 1.5 }), which msgpackr encodes (numbers skip it)`,
      ['oneway/troupe-trysend-obj', 'oneway/postmessage-obj'], 'oneway/postmessage-obj', 'postMessage');
  }
  if (o.only.has('local')) {
    vsBase(`\n(4) same thread: numbers in chunks of 1,000 for ${o.ms} ms (after ${o.warmMs} ms of the same), timed until the consumer's count is back`,
      ['local/troupe-trysend', 'local/troupe-send', 'local/promise'], 'local/promise', 'promise');
  }
  if (o.only.has('memory')) {
    console.log(`\n(5) bytes per idle actor: ${fmt(o.actors)} spawned on the calling thread, after a full GC; median of ${o.memoryRuns} run(s)`);
    console.log(table(['CPUs', 'variant', 'heap+external B/actor', 'this/promise', 'RSS B/actor', 'this/promise', 'spawns/s'],
      rows(['memory/troupe', 'memory/promise'], (m, v) => {
        const t = (f) => (v === 'memory/promise' ? '' : ratio(med(m, v, f), med(m, 'memory/promise', f)));
        return [show(med(m, v, 'bytesPer')), t('bytesPer'), show(med(m, v, 'rssPer')), t('rssPer'), show(med(m, v, 'spawnPerSec'))];
      }), R(5)));
  }
}

/** The issue's targets, judged in every mode measured. */
function printTargets(o, modes, med) {
  const lines = [];
  const each = (f) => modes.map((m) => `${m.label}: ${f(m.key)}`).join('; ');
  const judge = (x, ok, digits = 1) => (x === undefined ? 'no figure' : `${ok(x) ? 'met' : 'NOT met'} (${fmt(x, digits)})`);
  if (o.only.has('rpc')) {
    const pinned = modes.find((m) => m.key === 'pinned');
    if (pinned) lines.push(`ask round trip pinned, p50 ≤ 10 µs: ${judge(med('pinned', 'rpc/troupe', 'seq.p50'), (x) => x <= 10)}`);
    lines.push(`ask round trip p50 no slower than postMessage, troupe/postMessage ≤ 1: ${each((m) => judge(ratioOf(med, m, 'seq.p50', 'rpc/troupe', 'rpc/postmessage'), (x) => x <= 1, 2))}`);
    lines.push(`64 in flight ≥ 5× postMessage's rate: ${each((m) => judge(ratioOf(med, m, 'par.perSec', 'rpc/troupe', 'rpc/postmessage'), (x) => x >= 5, 2))}`);
  }
  if (o.only.has('oneway')) {
    lines.push(`one-way ≥ 3 M msgs/s (trySend): ${each((m) => judge(med(m, 'oneway/troupe-trysend', 'perSec'), (x) => x >= 3e6, 0))}`);
    lines.push(`(the same with small objects: ${each((m) => judge(med(m, 'oneway/troupe-trysend-obj', 'perSec'), (x) => x >= 3e6, 0))})`);
  }
  if (o.only.has('local')) lines.push(`same thread ≥ 10 M msgs/s (trySend): ${each((m) => judge(med(m, 'local/troupe-trysend', 'perSec'), (x) => x >= 10e6, 0))}`);
  if (o.only.has('memory')) lines.push(`≤ 1 KiB (1,024 B) heap+external per idle actor: ${each((m) => judge(med(m, 'memory/troupe', 'bytesPer'), (x) => x <= 1024, 0))}`);
  console.log(`\nTargets:\n${lines.map((l) => `- ${l}`).join('\n')}`);
}

function ratioOf(med, mode, f, a, b) {
  const x = med(mode, a, f);
  const y = med(mode, b, f);
  return x === undefined || y === undefined ? undefined : x / y;
}

function printAllRuns(res) {
  console.log('\nAll runs (rpc: p50 µs, 1 in flight / requests/s, 64 in flight; oneway, local: msgs/s; memory: B/actor):');
  const one = (v, x) => {
    if (x.error !== undefined) return `failed: ${x.error}`;
    if (v.startsWith('rpc/')) return `${x.seq ? fmt(x.seq.p50, 1) : '–'} / ${fmt(x.par.perSec)}`;
    if (v.startsWith('memory/')) return fmt(x.bytesPer);
    return fmt(x.perSec);
  };
  for (const [k, rs] of Object.entries(res)) {
    const [mode, v] = k.split('|');
    console.log(`- ${mode} ${v}: ${rs.map((x) => one(v, x)).join('; ')}`);
  }
}

async function main() {
  const o = options();
  const startedAt = new Date();
  const t0 = performance.now();
  const loadBefore = machineInfo().load1;
  const troupe = await troupeActors();
  const pin = o.pin && hasTaskset();
  const modes = [{ key: 'all', label: `${os.availableParallelism()} CPUs` }];
  if (pin) modes.push({ key: 'pinned', label: 'pinned' });
  const variants = Object.keys(LABELS).filter((v) => o.only.has(v.split('/')[0]) && (troupe.ok || !v.includes('/troupe')));
  const res = {};
  for (let i = 1; i <= Math.max(o.runs, o.memoryRuns); i++) {
    for (const v of variants) {
      if (i > (v.startsWith('memory/') ? o.memoryRuns : o.runs)) continue;
      for (const m of modes) {
        const c0 = performance.now();
        const r = runVariant(v, m.key === 'pinned', o);
        process.stderr.write(`run ${i} ${m.key} ${v}: ${fmt((performance.now() - c0) / 1000, 1)} s\n`);
        if (r.error !== undefined) process.stderr.write(`  ${v} (${m.key}): ${r.error}\n`);
        (res[`${m.key}|${v}`] ??= []).push(r);
      }
    }
  }
  const m = machineInfo();
  console.log(`troupe actors bench, ${startedAt.toISOString()}`);
  console.log(`node ${m.node}, ${m.cpu}, nproc ${m.nproc}, ${m.memGiB} GiB, ${m.kernel}`);
  console.log(`load average (1 min) before ${fmt(loadBefore, 2)}, after ${fmt(m.load1, 2)}`);
  console.log(`troupe at ${sourceState(ROOT, ['runtime', 'native', 'actors', 'bench'])}`);
  console.log(`median of ${o.runs} runs, a fresh process per variant and mode${o.quick ? ' (--quick: small counts, short windows)' : ''}`);
  console.log(pin ? `pinned = the child under \`${PIN.join(' ')}\`: its worker thread shares CPU 0 with the main thread` : 'pinned: skipped (taskset not found or --no-pin)');
  if (!troupe.ok) console.log(`troupe actors: not available (${troupe.why}); troupe rows skipped`);
  const med = medians(res);
  printTables(o, modes, variants, med);
  if (troupe.ok) printTargets(o, modes, med);
  printAllRuns(res);
  console.log(`\nbench took ${fmt((performance.now() - t0) / 1000, 1)} s`);
}

const o0 = options();
if (o0.child !== undefined) {
  const { VARIANTS } = await import('./actors-variants.mjs');
  const run = VARIANTS[o0.child];
  if (run === undefined) throw new Error(`unknown variant ${o0.child}; one of ${Object.keys(VARIANTS).join(', ')}`);
  await reportFromChild(() => run(o0));
} else {
  await main();
}
