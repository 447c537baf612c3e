// Controller bench: 1M sleeps, Condition ping-pong and 1M idle tasks, troupe vs plain Node, side by side.
//
// Usage: npm run bench:controller            (all groups, 3 fresh child processes per variant)
//        node --expose-gc bench/controller.mjs --runs 5 --only sleep,pingpong
//        node --expose-gc bench/controller.mjs --child sleep/troupe-wrap   (one variant, prints JSON)
import { setTimeout as sleepPromise } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Condition, Controller, monotime, sleep } from 'troupe';
import { CHILD_FLAG, reportFromChild, runChild } from './lib/child.mjs';
import { liveMemory, peakRss } from './lib/memory.mjs';
import { mulberry32 } from './lib/prng.mjs';
import { fmt, machineInfo, median, sourceState, table } from './lib/report.mjs';

const SCRIPT = fileURLToPath(import.meta.url);
const SLEEPERS = 1_000_000;
const MAX_SLEEP_MS = 1000;
const SEED = 0x7209e5;
const ROUND_TRIPS = 1_000_000;
const IDLE_TASKS = 1_000_000;
const MB = 2 ** 20;
// NB: idle tasks are reachable only through what they wait on (a Condition, a resolver). Those are kept here,
// as a real program would keep them; otherwise GC may reclaim the tasks and the bench measures nothing.
const retained = [];

// ---- (a) 1M tasks sleeping a random 0..1000 ms -------------------------------------------------------

/** Starts SLEEPERS tasks via `start(ms, done)` with the seeded delays; measures until the last is done. */
async function sleepers(start) {
  const rand = mulberry32(SEED);
  const cpu0 = process.cpuUsage();
  const t0 = monotime();
  await new Promise((resolve) => {
    let left = SLEEPERS;
    const done = () => {
      if (--left === 0) resolve();
    };
    for (let i = 0; i < SLEEPERS; i++) start(Math.floor(rand() * (MAX_SLEEP_MS + 1)), done);
  });
  const wallMs = monotime() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000, peakRss: peakRss() };
}

function sleepTroupeWrap() {
  const root = Controller.root();
  return sleepers((ms, done) =>
    root.wrap(async () => {
      await sleep(ms);
      done();
    }),
  );
}

function sleepTroupeDirect() {
  const root = Controller.root();
  return sleepers(async (ms, done) => {
    await root.sleep(ms);
    done();
  });
}

function sleepNodeSetTimeout() {
  return sleepers(async (ms, done) => {
    await new Promise((r) => setTimeout(r, ms));
    done();
  });
}

function sleepNodeTimersPromises() {
  return sleepers(async (ms, done) => {
    await sleepPromise(ms);
    done();
  });
}

// ---- (b) ping-pong between two tasks -----------------------------------------------------------------

/** Runs `body()` (resolving after ROUND_TRIPS round trips) and returns round trips per second. */
async function roundTrips(body) {
  const t0 = monotime();
  await body();
  const wallMs = monotime() - t0;
  return { wallMs, perSec: (ROUND_TRIPS / wallMs) * 1000 };
}

/** Two tasks on `ctl` handing control back and forth through two Conditions bound to it. */
function conditionPair(ctl, controllerOpt) {
  const a = new Condition(controllerOpt);
  const b = new Condition(controllerOpt);
  // NB: A is wrapped first, so it waits on `a` before B's first signal (signals are not remembered).
  const A = ctl.wrap(async () => {
    for (let i = 0; i < ROUND_TRIPS; i++) {
      await a.wait();
      b.signal();
    }
  });
  const B = ctl.wrap(async () => {
    for (let i = 0; i < ROUND_TRIPS; i++) {
      a.signal();
      await b.wait();
    }
  });
  return [A, B];
}

function pingPongTroupeRoot() {
  return roundTrips(() => Promise.all(conditionPair(Controller.root(), {}).map((t) => t.done)));
}

function pingPongTroupeLoop() {
  return roundTrips(async () => {
    const c = new Controller();
    conditionPair(c, { controller: c });
    await c.loop();
    c.close();
  });
}

function pingPongNode() {
  return roundTrips(() => {
    let wakeA;
    let wakeB;
    const A = (async () => {
      for (let i = 0; i < ROUND_TRIPS; i++) {
        await new Promise((r) => {
          wakeA = r;
        });
        wakeB();
      }
    })();
    const B = (async () => {
      for (let i = 0; i < ROUND_TRIPS; i++) {
        wakeA();
        await new Promise((r) => {
          wakeB = r;
        });
      }
    })();
    return Promise.all([A, B]);
  });
}

// ---- (c) 1M idle tasks ---------------------------------------------------------------------------------

/** Memory per task of IDLE_TASKS tasks started by `start()` once `blocked()` says all of them wait. */
async function idle(start, blocked) {
  const before = liveMemory();
  for (let i = 0; i < IDLE_TASKS; i++) start();
  // Wrapped tasks start on a later pass: let the loop turn until every task is parked.
  while (!blocked()) await new Promise((r) => setImmediate(r));
  const after = liveMemory();
  return {
    bytesPerTask: (after.live - before.live) / IDLE_TASKS,
    rssPerTask: (after.rss - before.rss) / IDLE_TASKS,
  };
}

function idleTroupeWrap() {
  const root = Controller.root();
  const cv = new Condition();
  retained.push(cv);
  const task = async () => {
    await cv.wait();
  };
  return idle(() => root.wrap(task), () => root.stats().pending === 0 && cv.waiters === IDLE_TASKS);
}

function idleTroupeDirect() {
  const cv = new Condition();
  retained.push(cv);
  const task = async () => {
    await cv.wait();
  };
  return idle(task, () => cv.waiters === IDLE_TASKS);
}

function idleNode() {
  let open;
  const gate = new Promise((r) => {
    open = r;
  });
  retained.push(open);
  let parked = 0;
  const task = async () => {
    parked++;
    await gate;
  };
  return idle(task, () => parked === IDLE_TASKS);
}

// ---- the comparison ------------------------------------------------------------------------------------

const VARIANTS = {
  'sleep/troupe-wrap': sleepTroupeWrap,
  'sleep/troupe-direct': sleepTroupeDirect,
  'sleep/node-setTimeout': sleepNodeSetTimeout,
  'sleep/node-timers-promises': sleepNodeTimersPromises,
  'pingpong/troupe-root': pingPongTroupeRoot,
  'pingpong/troupe-loop': pingPongTroupeLoop,
  'pingpong/node-promise': pingPongNode,
  'idle/troupe-wrap': idleTroupeWrap,
  'idle/troupe-direct': idleTroupeDirect,
  'idle/node-promise': idleNode,
};

/** What each group reports: troupe variants, node baselines, metrics (key, label, scale, digits). */
const GROUPS = {
  sleep: {
    title: `(a) ${fmt(SLEEPERS)} tasks sleeping a random 0-${MAX_SLEEP_MS} ms`,
    troupe: { 'troupe-wrap': 'root.wrap + sleep()', 'troupe-direct': 'async fn + root.sleep()' },
    node: { 'node-setTimeout': 'new Promise(setTimeout)', 'node-timers-promises': 'timers/promises' },
    metrics: [
      { key: 'wallMs', label: 'wall ms', scale: 1, digits: 0 },
      { key: 'peakRss', label: 'peak RSS MB', scale: 1 / MB, digits: 0 },
      { key: 'cpuMs', label: 'CPU ms', scale: 1, digits: 0 },
    ],
  },
  pingpong: {
    title: `(b) ping-pong, ${fmt(ROUND_TRIPS)} round trips`,
    troupe: { 'troupe-root': 'Condition, root tasks', 'troupe-loop': 'Condition, new Controller + loop()' },
    node: { 'node-promise': 'promise hand-off' },
    metrics: [{ key: 'perSec', label: 'round trips/s', scale: 1, digits: 0 }],
  },
  idle: {
    title: `(c) ${fmt(IDLE_TASKS)} idle tasks`,
    troupe: { 'troupe-wrap': 'root.wrap + cv.wait()', 'troupe-direct': 'async fn + cv.wait()' },
    node: { 'node-promise': 'async fn awaiting a pending promise' },
    metrics: [
      { key: 'bytesPerTask', label: 'heap+external B/task', scale: 1, digits: 0 },
      { key: 'rssPerTask', label: 'RSS B/task', scale: 1, digits: 0 },
    ],
  },
};

/** Runs every variant of the chosen groups `runs` times, interleaved, each in a fresh child. */
function measure(groups, runs) {
  const names = Object.keys(VARIANTS).filter((v) => groups.includes(v.split('/')[0]));
  const results = Object.fromEntries(names.map((v) => [v, []]));
  for (let r = 0; r < runs; r++) {
    for (const v of names) {
      process.stderr.write(`run ${r + 1}/${runs} ${v}\n`);
      results[v].push(runChild(SCRIPT, v));
    }
  }
  return results;
}

/** One row per (metric, troupe variant, node baseline): medians and the troupe/node ratio. */
function groupRows(name, results) {
  const g = GROUPS[name];
  const med = (variant, key) => median(results[`${name}/${variant}`].map((x) => x[key]));
  const rows = [];
  for (const m of g.metrics) {
    for (const [tv, tl] of Object.entries(g.troupe)) {
      for (const [nv, nl] of Object.entries(g.node)) {
        const t = med(tv, m.key);
        const n = med(nv, m.key);
        rows.push([m.label, tl, fmt(t * m.scale, m.digits), nl, fmt(n * m.scale, m.digits), fmt(t / n, 2)]);
      }
    }
  }
  return rows;
}

/** The targets, each judged on medians. */
function targets(results) {
  const med = (v, key) => median(results[v].map((x) => x[key]));
  const out = [];
  const verdict = (ok) => (ok ? 'met' : 'NOT met');
  if (results['sleep/troupe-wrap']) {
    for (const tv of ['troupe-wrap', 'troupe-direct']) {
      for (const [key, what] of [['wallMs', 'no slower'], ['peakRss', 'no more memory']]) {
        const t = med(`sleep/${tv}`, key);
        const best = Math.min(med('sleep/node-setTimeout', key), med('sleep/node-timers-promises', key));
        out.push(`(a) ${tv} ${what} than the better of Node's two timer baselines: ${verdict(t <= best)} (${fmt(t / best, 2)}x)`);
      }
    }
  }
  if (results['idle/troupe-wrap']) {
    for (const tv of ['troupe-wrap', 'troupe-direct']) {
      const b = med(`idle/${tv}`, 'bytesPerTask');
      const r = med(`idle/${tv}`, 'rssPerTask');
      out.push(`(c) ${tv} <= 1 KiB per idle task: ${verdict(b <= 1024 && r <= 1024)} (heap+external ${fmt(b)} B, RSS ${fmt(r)} B)`);
    }
  }
  return out;
}

/** Every run's raw figures, so the spread behind each median is visible. */
function rawRuns(results) {
  const lines = [];
  for (const [v, rs] of Object.entries(results)) {
    const name = v.split('/')[0];
    const cells = GROUPS[name].metrics.map((m) => `${m.label} ${rs.map((x) => fmt(x[m.key] * m.scale, m.digits)).join(' / ')}`);
    lines.push(`${v}: ${cells.join('; ')}`);
  }
  return lines;
}

/** --runs N (default 3) and --only a,b (groups, default all). */
function options() {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, only: { type: 'string', default: Object.keys(GROUPS).join(',') } } });
  const runs = Number(values.runs);
  const groups = values.only.split(',');
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${values.runs}`);
  for (const g of groups) if (!(g in GROUPS)) throw new Error(`unknown group ${g}; one of ${Object.keys(GROUPS).join(', ')}`);
  return { runs, groups };
}

function printHeader(startedAt, loadBefore, runs) {
  const m = machineInfo();
  console.log(`troupe controller bench, ${startedAt.toISOString()}`);
  console.log(`node ${m.node}, ${m.cpu}, nproc ${m.nproc}, ${m.memGiB} GiB, ${m.kernel}`);
  console.log(`load average (1 min) before ${fmt(loadBefore, 2)}, after ${fmt(m.load1, 2)}`);
  console.log(`troupe at ${sourceState(fileURLToPath(new URL('..', import.meta.url)), ['runtime', 'native'])}`);
  console.log(`median of ${runs} runs, each in a fresh process; ratio = troupe / node\n`);
}

async function main() {
  const { runs, groups } = options();
  const startedAt = new Date();
  const t0 = monotime();
  const loadBefore = machineInfo().load1;
  const results = measure(groups, runs);
  printHeader(startedAt, loadBefore, runs);
  const header = ['metric', 'troupe', 'troupe value', 'node', 'node value', 'ratio'];
  for (const name of groups) {
    console.log(`${GROUPS[name].title}\n`);
    console.log(table(header, groupRows(name, results), new Set([2, 4, 5])));
    console.log('');
  }
  const verdicts = targets(results);
  console.log(['Targets:', ...(verdicts.length > 0 ? verdicts.map((l) => `- ${l}`) : ['- none in the groups run'])].join('\n'));
  console.log(['\nAll runs:', ...rawRuns(results).map((l) => `- ${l}`)].join('\n'));
  console.log(`\nbench took ${fmt((monotime() - t0) / 1000, 1)} s`);
}

if (process.argv[2] === CHILD_FLAG) {
  const variant = VARIANTS[process.argv[3]];
  if (variant === undefined) throw new Error(`unknown variant ${process.argv[3]}; one of ${Object.keys(VARIANTS).join(', ')}`);
  await reportFromChild(variant);
} else {
  await main();
}
