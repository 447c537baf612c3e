// Connection generator for bench/fd-handoff.mjs: opens N TCP connections, `concurrency` at a time; Node `net`.
//
// Usage: node bench/connect-client.mjs --port P [--conns 5000] [--concurrency 50]
//
// Each connection sends nothing and waits for the server side to close it (the receiver of the handed-off
// descriptor closes it), then the next one opens: a closed loop, so the rate is the servers' end to end.
// Prints one JSON line: connections completed, seconds, its own CPU µs.
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values: v } = parseArgs({
  options: {
    port: { type: 'string' },
    conns: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '50' },
  },
});
const port = Number(v.port);
const total = Number(v.conns);
const concurrency = Math.min(Number(v.concurrency), total);

let opened = 0;
let done = 0;
const c0 = process.cpuUsage();
const t0 = performance.now();

await new Promise((resolve, reject) => {
  const open = () => {
    opened++;
    const s = net.connect({ port, host: '127.0.0.1' });
    s.on('error', reject);
    s.resume(); // EOF arrives as 'end'; with allowHalfOpen off the socket then ends and closes
    s.on('close', () => {
      done++;
      if (done === total) resolve();
      else if (opened < total) open();
    });
  };
  for (let i = 0; i < concurrency; i++) open();
});

const c1 = process.cpuUsage(c0);
process.stdout.write(
  `${JSON.stringify({ conns: done, seconds: (performance.now() - t0) / 1000, clientCpuUs: c1.user + c1.system })}\n`,
  () => process.exit(0),
);
