// Echo server bench: examples/echo-server.mjs vs a minimal Node `net` echo server, same closed-loop load.
//
// Usage: npm run bench:echo          (= node bench/echo.mjs: 3 runs of each server at depth 1 and 16)
//        node bench/echo.mjs --runs 5 --depths 1,16 --conns 50 --warmup-ms 1000 --duration-ms 5000
//
// Every (server, depth) run is a fresh server process and a fresh client process (bench/echo-client.mjs,
// Node `net`, 50 connections keeping `depth` 32-byte lines in flight each). The client measures replies and
// the server's utime + stime over the window after the warm-up. Figures are medians; runs are interleaved.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fmt, machineInfo, median, sourceState, table } from './lib/report.mjs';
import { CLK_TCK, startServer } from './lib/server.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLIENT = 'bench/echo-client.mjs';

/** The servers compared; `troupe` is the example as shipped, the target's subject. */
const SERVERS = {
  troupe: { label: 'troupe (examples/echo-server.mjs)', argv: ['examples/echo-server.mjs'] },
  'troupe-read-per-line': { label: 'troupe, --read-per-line', argv: ['examples/echo-server.mjs', '--read-per-line'] },
  'troupe-per-line': { label: 'troupe, --flush-per-line', argv: ['examples/echo-server.mjs', '--flush-per-line'] },
  node: { label: 'node net (bench/node-echo-server.mjs)', argv: ['bench/node-echo-server.mjs'] },
};

function options() {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      depths: { type: 'string', default: '1,16' },
      conns: { type: 'string', default: '50' },
      'warmup-ms': { type: 'string', default: '1000' },
      'duration-ms': { type: 'string', default: '5000' },
    },
  });
  const o = {
    runs: Number(values.runs),
    depths: values.depths.split(',').map(Number),
    conns: values.conns,
    warmupMs: values['warmup-ms'],
    durationMs: values['duration-ms'],
  };
  if (!Number.isInteger(o.runs) || o.runs < 1) throw new Error(`--runs must be a positive integer, got ${values.runs}`);
  if (o.depths.some((d) => !Number.isInteger(d) || d < 1)) throw new Error(`--depths must be positive integers, got ${values.depths}`);
  return o;
}

/** Runs the client process to completion; resolves with its JSON line. */
function runClient(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLIENT, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop();
      if (code !== 0 || !line?.startsWith('{')) reject(new Error(`echo client exited with ${code}`));
      else resolve(JSON.parse(line));
    });
  });
}

/** One measured run of one server at one depth. */
async function once(server, depth, o, clkTck) {
  const s = await startServer(SERVERS[server].argv, ROOT);
  try {
    const r = await runClient([
      '--port', s.port, '--server-pid', String(s.child.pid), '--conns', o.conns, '--depth', String(depth),
      '--warmup-ms', o.warmupMs, '--duration-ms', o.durationMs,
    ]);
    const serverUs = (r.serverTicks / clkTck) * 1e6;
    return {
      perSec: r.msgs / r.seconds,
      cpuUsPerMsg: serverUs / r.msgs,
      serverCpuPct: (serverUs / 1e4) / r.seconds,
      clientCpuPct: (r.clientCpuUs / 1e4) / r.seconds,
    };
  } finally {
    await s.stop(); // SIGTERM; fails unless the server exits 0
  }
}

async function main() {
  const o = options();
  const clkTck = CLK_TCK;
  const startedAt = new Date();
  const t0 = performance.now();
  const loadBefore = machineInfo().load1;
  const results = {};
  for (let run = 1; run <= o.runs; run++) {
    for (const depth of o.depths) {
      for (const server of Object.keys(SERVERS)) {
        process.stderr.write(`run ${run}/${o.runs} depth ${depth} ${server}\n`);
        (results[`${server}/${depth}`] ??= []).push(await once(server, depth, o, clkTck));
      }
    }
  }
  const m = machineInfo();
  const med = (server, depth, key) => median(results[`${server}/${depth}`].map((x) => x[key]));
  console.log(`troupe echo bench, ${startedAt.toISOString()}`);
  console.log(`node ${m.node}, ${m.cpu}, nproc ${m.nproc}, ${m.memGiB} GiB, ${m.kernel}`);
  console.log(`load average (1 min) before ${fmt(loadBefore, 2)}, after ${fmt(m.load1, 2)}`);
  console.log(`troupe at ${sourceState(ROOT, ['runtime', 'native', 'examples/echo-server.mjs'])}`);
  console.log(`${o.conns} connections, 32-byte lines, ${o.warmupMs} ms warm-up then ${o.durationMs} ms measured;`);
  console.log(`median of ${o.runs} runs, fresh server and client processes each; CLK_TCK ${clkTck}; ratio = troupe / node\n`);

  const rows = [];
  for (const depth of o.depths) {
    for (const server of Object.keys(SERVERS)) {
      const isNode = server === 'node';
      const ratio = (key) => (isNode ? '' : fmt(med(server, depth, key) / med('node', depth, key), 2));
      rows.push([
        String(depth), SERVERS[server].label,
        fmt(med(server, depth, 'perSec')), ratio('perSec'),
        fmt(med(server, depth, 'cpuUsPerMsg'), 2), ratio('cpuUsPerMsg'),
        fmt(med(server, depth, 'serverCpuPct')), fmt(med(server, depth, 'clientCpuPct')),
      ]);
    }
  }
  const header = ['depth', 'server', 'msgs/s', 'ratio', 'server CPU µs/msg', 'ratio', 'server CPU %', 'client CPU %'];
  console.log(table(header, rows, new Set([0, 2, 3, 4, 5, 6, 7])));

  console.log('\nTarget: server CPU per message at or below Node net\'s, at every depth:');
  for (const depth of o.depths) {
    const r = med('troupe', depth, 'cpuUsPerMsg') / med('node', depth, 'cpuUsPerMsg');
    console.log(`- depth ${depth}: ${r <= 1 ? 'met' : 'NOT met'} (${fmt(r, 2)}x)`);
  }
  console.log('\nAll runs (msgs/s; server CPU µs/msg):');
  for (const [k, rs] of Object.entries(results)) {
    console.log(`- ${k}: ${rs.map((x) => fmt(x.perSec)).join(' / ')}; ${rs.map((x) => fmt(x.cpuUsPerMsg, 2)).join(' / ')}`);
  }
  console.log(`\nbench took ${fmt((performance.now() - t0) / 1000, 1)} s`);
}

await main();
