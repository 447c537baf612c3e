// Closed-loop load for bench/echo.mjs: N connections, each keeping `depth` lines in flight; Node `net`.
//
// Usage: node bench/echo-client.mjs --port P --server-pid PID [--conns 50] [--depth 1] [--warmup-ms 1000]
//                                   [--duration-ms 5000]
//
// Every line is LINE_BYTES long; each connection sends `depth` lines, then one new line per reply. After the
// warm-up it samples, over the measured window, the replies received and the server's CPU time (utime +
// stime from /proc/PID/stat, in clock ticks) and its own, and prints them as one JSON line.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { parseArgs } from 'node:util';

const LINE_BYTES = 32;
const { values: v } = parseArgs({
  options: {
    port: { type: 'string' },
    'server-pid': { type: 'string' },
    conns: { type: 'string', default: '50' },
    depth: { type: 'string', default: '1' },
    'warmup-ms': { type: 'string', default: '1000' },
    'duration-ms': { type: 'string', default: '5000' },
  },
});
const port = Number(v.port);
const serverPid = Number(v['server-pid']);
const conns = Number(v.conns);
const depth = Number(v.depth);
const warmupMs = Number(v['warmup-ms']);
const durationMs = Number(v['duration-ms']);

const line = Buffer.from(`${'x'.repeat(LINE_BYTES - 1)}\n`);
const burst = Buffer.concat(Array.from({ length: depth }, () => line));
let replies = 0;
let failed;

/** utime + stime of a process, in clock ticks (fields 14 and 15; the name in parentheses may hold spaces). */
function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

function connect() {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', noDelay: true }, () => resolve(s));
    let bytes = 0;
    s.on('data', (chunk) => {
      // Lines have a fixed length: whole lines received so far, minus those already answered.
      const before = Math.floor(bytes / LINE_BYTES);
      bytes += chunk.length;
      const got = Math.floor(bytes / LINE_BYTES) - before;
      if (got === 0) return;
      replies += got;
      s.write(got === depth ? burst : burst.subarray(0, got * LINE_BYTES));
    });
    s.on('error', (err) => {
      failed ??= err;
      reject(err);
    });
  });
}

const sockets = await Promise.all(Array.from({ length: conns }, connect));
for (const s of sockets) s.write(burst);
await new Promise((r) => setTimeout(r, warmupMs));
const r0 = replies;
const s0 = cpuTicks(serverPid);
const c0 = process.cpuUsage();
const t0 = performance.now();
await new Promise((r) => setTimeout(r, durationMs));
const r1 = replies;
const s1 = cpuTicks(serverPid);
const c1 = process.cpuUsage(c0);
const seconds = (performance.now() - t0) / 1000;
if (failed !== undefined) throw failed;
for (const s of sockets) s.destroy();
process.stdout.write(
  `${JSON.stringify({ msgs: r1 - r0, seconds, serverTicks: s1 - s0, clientCpuUs: c1.user + c1.system })}\n`,
  () => process.exit(0),
);
