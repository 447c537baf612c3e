// bench/node-echo-server.mjs in a Node `cluster`: the baseline for bench/threads.mjs (c).
//
// Usage: node bench/node-echo-cluster.mjs --port P [--host H] [--workers 2]
//
// Forks N cluster workers, each running bench/node-echo-server.mjs unchanged on the shared port (the primary
// accepts and hands connections out round-robin, Node's default on Linux). Prints `listening P` once every
// worker listens. SIGINT/SIGTERM stop the workers and exit 0.
import cluster from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '::' },
    workers: { type: 'string', default: '2' },
  },
});

cluster.setupPrimary({
  exec: fileURLToPath(new URL('./node-echo-server.mjs', import.meta.url)),
  args: ['--port', args.port, '--host', args.host],
  silent: true, // each worker's own `listening P` would come before the others listen
});
const workers = Array.from({ length: Number(args.workers) }, () => cluster.fork());
for (const w of workers) w.process.stdout.resume();
const ports = await Promise.all(workers.map((w) => new Promise((resolve) => w.once('listening', (a) => resolve(a.port)))));
console.log(`listening ${ports[0]}`);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    for (const w of workers) w.process.kill('SIGKILL');
    process.exit(0);
  });
}
