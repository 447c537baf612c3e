// Threads bench: troupe's threads against Node's processes, side by side.
//
// Usage: npm run bench:threads      (= node bench/threads.mjs: 3 runs of everything)
//        node bench/threads.mjs --runs 3 --sections a,b,c --handoffs 5000 --pairs 20000 --wrk-seconds 5
//
// (a) descriptor hand-off: troupe sendfd to a thread vs Node child.send(m, socket) to a forked child, the
//     same TCP connection generator for both (bench/fd-handoff.mjs, bench/connect-client.mjs); and troupe's
//     socketpair hand-off alone (Node can send only net handles, so it has no equivalent).
// (b) examples/http-server.mjs at 1 and 2 threads (and 2 threads with --node-http) vs Node http alone and in a
//     cluster of 1 and 2 workers (bench/node-http-cluster.mjs), GET /work?us=200 under wrk -t2 -c50 after a
//     1 s wrk warm-up; server CPU from /proc (the process tree), wrk's from the shell's `times`.
// (c) examples/echo-server.mjs --threads 2 vs bench/node-echo-cluster.mjs (2 workers), bench/echo-client.mjs
//     with 50 connections at depths 1 and 16; server CPU is the whole process tree's.
// Every figure is the median of fresh processes; runs interleave the variants.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runChild } from './lib/child.mjs';
import { fmt, machineInfo, median, sourceState, table } from './lib/report.mjs';
import { CLK_TCK, startServer, threadTicks, treeTicks } from './lib/server.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HANDOFF = fileURLToPath(new URL('./fd-handoff.mjs', import.meta.url));
const WORK_US = 200;
const ECHO_CONNS = '50';
const ECHO_DEPTHS = [1, 16];

const HANDOFFS = {
  'troupe-tcp': 'troupe: TCP accept → sendfd → thread recvfd, close',
  'node-tcp': 'node: pauseOnConnect → child.send(m, socket) → child destroy',
  'troupe-pair': 'troupe: socketpair → sendfd → thread recvfd, close',
};
const HTTP = {
  'troupe-1': { label: 'troupe http-server.mjs --threads 1', argv: ['examples/http-server.mjs', '--threads', '1'] },
  'troupe-2': { label: 'troupe http-server.mjs --threads 2', argv: ['examples/http-server.mjs', '--threads', '2'] },
  'troupe-2-node-http': { label: 'troupe --threads 2 --node-http', argv: ['examples/http-server.mjs', '--threads', '2', '--node-http'] },
  'node-single': { label: 'node http, one process', argv: ['bench/node-http-cluster.mjs', '--workers', '0'] },
  'node-cluster-1': { label: 'node cluster, 1 worker', argv: ['bench/node-http-cluster.mjs', '--workers', '1'] },
  'node-cluster-2': { label: 'node cluster, 2 workers', argv: ['bench/node-http-cluster.mjs', '--workers', '2'] },
};
const ECHO = {
  'troupe-2': { label: 'troupe echo-server.mjs --threads 2', argv: ['examples/echo-server.mjs', '--threads', '2'] },
  'node-cluster-2': { label: 'node cluster, 2 workers (node-echo-cluster.mjs)', argv: ['bench/node-echo-cluster.mjs', '--workers', '2'] },
};

function options() {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      sections: { type: 'string', default: 'a,b,c' },
      handoffs: { type: 'string', default: '5000' },
      pairs: { type: 'string', default: '20000' },
      'wrk-seconds': { type: 'string', default: '5' },
      'echo-ms': { type: 'string', default: '5000' },
    },
  });
  const o = {
    runs: Number(values.runs),
    sections: new Set(values.sections.split(',')),
    handoffs: Number(values.handoffs),
    pairs: Number(values.pairs),
    wrkSeconds: Number(values['wrk-seconds']),
    echoMs: Number(values['echo-ms']),
  };
  if (!Number.isInteger(o.runs) || o.runs < 1) throw new Error(`--runs must be a positive integer, got ${values.runs}`);
  if (o.echoMs < 4000) throw new Error('--echo-ms must be at least 4000 (the CPU window sits inside the measured one)');
  return o;
}

/** Runs a command to completion; resolves with its stdout. */
function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}`))));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const seconds = (m, s) => Number(m) * 60 + Number(s);

// ---- (a) descriptor hand-off ---------------------------------------------------------------------------------

function handoffOnce(variant, o) {
  const n = variant === 'troupe-pair' ? o.pairs : o.handoffs;
  const r = runChild(HANDOFF, `${variant}:${n}`);
  if (r.handoffs !== n) throw new Error(`${variant}: ${r.handoffs} of ${n} descriptors arrived`);
  return { perSec: r.handoffs / r.seconds, cpuUsPer: r.cpuUs / r.handoffs };
}

// ---- (b) HTTP under wrk ---------------------------------------------------------------------------------------

/** wrk under bash, whose `times` gives wrk's user and system time. */
async function wrk(url, secs) {
  const out = await run('bash', ['-c', `wrk -t2 -c50 -d${secs}s '${url}' && times`]);
  const rps = Number(/^Requests\/sec:\s+([\d.]+)/m.exec(out)?.[1]);
  const errors = /Socket errors:.*|Non-2xx or 3xx responses:.*/g.exec(out)?.[0];
  const t = [...out.matchAll(/(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/g)].pop(); // children's user, system
  return { rps, errors, cpuS: seconds(t[1], t[2]) + seconds(t[3], t[4]) };
}

async function httpOnce(server, o) {
  const s = await startServer(HTTP[server].argv, ROOT);
  try {
    const url = `http://127.0.0.1:${s.port}/work?us=${WORK_US}`;
    await wrk(url, 1); // warm-up: the JIT, the connections' first requests
    const s0 = treeTicks(s.child.pid);
    const th0 = threadTicks(s.child.pid);
    const t0 = performance.now();
    const w = await wrk(url, o.wrkSeconds);
    const wall = (performance.now() - t0) / 1000;
    const serverS = (treeTicks(s.child.pid) - s0) / CLK_TCK;
    // The two busiest threads' CPU: one at ~100 and one idle is placement, two at ~50 is a shared core.
    const busiest = [...threadTicks(s.child.pid)].map(([tid, t]) => (t - (th0.get(tid) ?? 0)) / CLK_TCK / wall * 100).sort((a, b) => b - a);
    if (w.errors !== undefined) process.stderr.write(`  ${server}: wrk reports ${w.errors}\n`);
    return {
      rps: w.rps,
      serverCpuPct: (serverS / wall) * 100,
      cpuUsPerReq: (serverS * 1e6) / (w.rps * wall),
      wrkCpuPct: (w.cpuS / wall) * 100,
      busiest: busiest.slice(0, 2).map((x) => fmt(x)).join('+'),
    };
  } finally {
    await s.stop();
  }
}

// ---- (c) echo ----------------------------------------------------------------------------------------------

/**
 * One echo run. The client samples only the pid it is given, so the tree's CPU is sampled here over a 4 s
 * window inside the client's measured one; CPU per message is then (tree CPU rate) / (client's msgs/s).
 */
async function echoOnce(server, depth, o) {
  const s = await startServer(ECHO[server].argv, ROOT);
  try {
    const client = run(process.execPath, [
      'bench/echo-client.mjs', '--port', s.port, '--server-pid', String(s.child.pid), '--conns', ECHO_CONNS,
      '--depth', String(depth), '--warmup-ms', '1000', '--duration-ms', String(o.echoMs),
    ]);
    await sleep(1600);
    const s0 = treeTicks(s.child.pid);
    const t0 = performance.now();
    await sleep(4000);
    const treeS = (treeTicks(s.child.pid) - s0) / CLK_TCK;
    const window = (performance.now() - t0) / 1000;
    const r = JSON.parse((await client).trim().split('\n').pop());
    const perSec = r.msgs / r.seconds;
    return {
      perSec,
      cpuUsPerMsg: ((treeS / window) * 1e6) / perSec,
      // The client's own figure for the pid it was given: the whole server for troupe, the primary for cluster.
      pidUsPerMsg: ((r.serverTicks / CLK_TCK) * 1e6) / r.msgs,
      serverCpuPct: (treeS / window) * 100,
      clientCpuPct: (r.clientCpuUs / 1e4) / r.seconds,
    };
  } finally {
    await s.stop();
  }
}

// ---- report ------------------------------------------------------------------------------------------------

async function main() {
  const o = options();
  const startedAt = new Date();
  const t0 = performance.now();
  const loadBefore = machineInfo().load1;
  const res = {};
  const push = (key, x) => (res[key] ??= []).push(x);
  for (let i = 1; i <= o.runs; i++) {
    if (o.sections.has('a')) {
      for (const v of Object.keys(HANDOFFS)) {
        process.stderr.write(`run ${i}/${o.runs} (a) ${v}\n`);
        push(`a/${v}`, handoffOnce(v, o));
      }
    }
    if (o.sections.has('b')) {
      for (const v of Object.keys(HTTP)) {
        process.stderr.write(`run ${i}/${o.runs} (b) ${v}\n`);
        push(`b/${v}`, await httpOnce(v, o));
      }
    }
    if (o.sections.has('c')) {
      for (const depth of ECHO_DEPTHS) {
        for (const v of Object.keys(ECHO)) {
          process.stderr.write(`run ${i}/${o.runs} (c) depth ${depth} ${v}\n`);
          push(`c/${v}/${depth}`, await echoOnce(v, depth, o));
        }
      }
    }
  }
  const med = (key, f) => median(res[key].map((x) => x[f]));
  const m = machineInfo();
  console.log(`troupe threads bench, ${startedAt.toISOString()}`);
  console.log(`node ${m.node}, ${m.cpu}, nproc ${m.nproc}, ${m.memGiB} GiB, ${m.kernel}`);
  console.log(`load average (1 min) before ${fmt(loadBefore, 2)}, after ${fmt(m.load1, 2)}`);
  console.log(`troupe at ${sourceState(ROOT, ['runtime', 'native', 'examples'])}`);
  console.log(`median of ${o.runs} runs, fresh processes each; CLK_TCK ${CLK_TCK}`);

  const targets = [];
  if (o.sections.has('a')) {
    console.log(`\n(a) descriptor hand-off: ${fmt(o.handoffs)} TCP connections (50 at a time, each closed by the receiver), ${fmt(o.pairs)} socketpairs; ratio = troupe / node`);
    const rows = Object.keys(HANDOFFS).map((v) => {
      const ratio = (f) => (v === 'troupe-tcp' ? fmt(med(`a/${v}`, f) / med('a/node-tcp', f), 2) : '');
      return [HANDOFFS[v], fmt(med(`a/${v}`, 'perSec')), ratio('perSec'), fmt(med(`a/${v}`, 'cpuUsPer'), 1), ratio('cpuUsPer')];
    });
    console.log(table(['variant', 'hand-offs/s', 'ratio', 'CPU µs/hand-off', 'ratio'], rows, new Set([1, 2, 3, 4])));
  }
  if (o.sections.has('b')) {
    console.log(`\n(b) HTTP GET /work?us=${WORK_US}, wrk -t2 -c50 -d${o.wrkSeconds}s after a 1 s warm-up; scaling = 2 vs 1 of the same kind`);
    const rps = (v) => med(`b/${v}`, 'rps');
    const scaling = { 'troupe-2': rps('troupe-2') / rps('troupe-1'), 'node-cluster-2': rps('node-cluster-2') / rps('node-single') };
    const rows = Object.keys(HTTP).map((v) => [
      HTTP[v].label, fmt(rps(v)), scaling[v] === undefined ? '' : fmt(scaling[v], 2),
      fmt(med(`b/${v}`, 'serverCpuPct')), fmt(med(`b/${v}`, 'cpuUsPerReq')), fmt(med(`b/${v}`, 'wrkCpuPct')),
    ]);
    console.log(table(['server', 'req/s', 'scaling', 'server CPU %', 'server CPU µs/req', 'wrk CPU %'], rows, new Set([1, 2, 3, 4, 5])));
    const wrkCores = med('b/troupe-2', 'wrkCpuPct') / 100;
    console.log(`node cluster 2 vs cluster 1: ${fmt(rps('node-cluster-2') / rps('node-cluster-1'), 2)}; troupe 2 threads / node cluster 2: ${fmt(rps('troupe-2') / rps('node-cluster-2'), 2)}; --node-http / node cluster 2: ${fmt(rps('troupe-2-node-http') / rps('node-cluster-2'), 2)}`);
    console.log(`ceiling at 2 threads with wrk on ${fmt(wrkCores, 2)} cores and no serving cost: ${fmt(((2 - wrkCores) * 1e6) / WORK_US)} req/s (${fmt(((2 - wrkCores) * 1e6) / WORK_US / rps('troupe-1'), 2)}x troupe's 1 thread)`);
    targets.push(`(b) troupe 2-vs-1 thread scaling ≥ 1.7: ${scaling['troupe-2'] >= 1.7 ? 'met' : 'NOT met'} (${fmt(scaling['troupe-2'], 2)}; node cluster: ${fmt(scaling['node-cluster-2'], 2)})`);
  }
  if (o.sections.has('c')) {
    console.log(`\n(c) echo, 2 threads vs 2 cluster workers: ${ECHO_CONNS} connections, 32-byte lines, 1 s warm-up then ${o.echoMs} ms; server CPU is the process tree's over 4 s inside the window; ratio = troupe / node`);
    const rows = [];
    for (const depth of ECHO_DEPTHS) {
      for (const v of Object.keys(ECHO)) {
        const k = `c/${v}/${depth}`;
        const ratio = (f) => (v === 'troupe-2' ? fmt(med(k, f) / med(`c/node-cluster-2/${depth}`, f), 2) : '');
        rows.push([String(depth), ECHO[v].label, fmt(med(k, 'perSec')), ratio('perSec'), fmt(med(k, 'cpuUsPerMsg'), 2), ratio('cpuUsPerMsg'), fmt(med(k, 'serverCpuPct')), fmt(med(k, 'clientCpuPct'))]);
      }
    }
    console.log(table(['depth', 'server', 'msgs/s', 'ratio', 'server CPU µs/msg', 'ratio', 'server CPU %', 'client CPU %'], rows, new Set([0, 2, 3, 4, 5, 6, 7])));
  }
  if (targets.length > 0) console.log(`\nTargets:\n${targets.map((t) => `- ${t}`).join('\n')}`);

  console.log('\nAll runs (b: busiest = CPU % of the server\'s two busiest threads):');
  const all = {
    a: ['perSec', 'cpuUsPer'],
    b: ['rps', 'serverCpuPct', 'wrkCpuPct', 'busiest'],
    c: ['perSec', 'cpuUsPerMsg', 'pidUsPerMsg'],
  };
  for (const [k, rs] of Object.entries(res)) {
    const fields = all[k[0]];
    console.log(`- ${k}: ${fields.map((f) => `${f} ${rs.map((x) => (typeof x[f] === 'string' ? x[f] : fmt(x[f], f.includes('Us') ? 2 : 0))).join(' / ')}`).join('; ')}`);
  }
  console.log(`\nbench took ${fmt((performance.now() - t0) / 1000, 1)} s`);
}

await main();
