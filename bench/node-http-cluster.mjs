// The Node baseline for bench/threads.mjs (b): examples/http-server.mjs's routes on Node's http, in one process
// or in a `cluster` of N worker processes.
//
// Usage: node bench/node-http-cluster.mjs --port P [--host H] [--workers N]
//
// --workers 0 (the default) is a single http.Server; N >= 1 forks N cluster workers that share the port (the
// primary accepts and hands connections out round-robin, Node's default on Linux). Prints `listening P` once
// every worker listens. GET / -> "hello"; GET /work?us=N burns N µs (the same busy-wait on performance.now(),
// which is troupe's monotime) and answers "worked N us", with the headers of http-server.mjs's nodeHandler.
// SIGINT/SIGTERM stop the workers and exit 0.
import cluster from 'node:cluster';
import http from 'node:http';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '8080' },
    host: { type: 'string', default: '0.0.0.0' },
    workers: { type: 'string', default: '0' },
  },
});
const workers = Number(args.workers);

function burn(us) {
  const until = performance.now() + us / 1000;
  while (performance.now() < until);
}

function answer(target) {
  if (target === '/') return [200, 'hello'];
  if (target.startsWith('/work')) {
    const us = Math.max(0, Math.min(1e6, Number(new URL(target, 'http://h').searchParams.get('us')) || 0));
    burn(us);
    return [200, `worked ${us} us`];
  }
  return [404, 'not found'];
}

function handler(req, res) {
  const [status, body] = answer(req.url ?? '/');
  res.writeHead(status, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** Listens; resolves with the port (in a cluster worker, the port the primary shares out). */
function listen() {
  const server = http.createServer(handler);
  return new Promise((resolve) => server.listen(Number(args.port), args.host, () => resolve(server.address().port)));
}

if (workers === 0) {
  console.log(`listening ${await listen()}`);
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
} else if (cluster.isPrimary) {
  const forked = Array.from({ length: workers }, () => cluster.fork());
  const ports = await Promise.all(forked.map((w) => new Promise((resolve) => w.once('message', resolve))));
  console.log(`listening ${ports[0]}`);
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      for (const w of forked) w.process.kill('SIGKILL');
      process.exit(0);
    });
  }
} else {
  process.send(await listen());
}
