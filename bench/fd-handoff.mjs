// Descriptor hand-off between threads (troupe sendfd/recvfd) vs to a child process (Node child.send(m, socket)).
//
// Run by bench/threads.mjs, one variant per fresh process: node bench/fd-handoff.mjs --child <variant>[:N]
//   troupe-tcp   the main thread accepts on a troupe listener and sendfd()s each connection to a thread
//                (thread.start), which recvfd()s and closes it
//   node-tcp     net.createServer({ pauseOnConnect: true }) and child.send('s', socket) to a forked child,
//                which destroys it
//   troupe-pair  no TCP: the main thread creates socketpairs and sendfd()s one end of each, closing the other
// The TCP variants take connections from bench/connect-client.mjs (N connections, 50 at a time, each waiting
// for the receiver's close). The clock starts at the first connection accepted (for troupe-pair, the first
// pair) and stops when the receiver reports its count. CPU is the sender's and receiver's, over that span.
import { fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { Socket, thread } from 'troupe';
import { reportFromChild } from './lib/child.mjs';

const SELF = fileURLToPath(import.meta.url);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONCURRENCY = 50;

/** The receiving thread (shipped as source: no closures): recvfd and close until the channel's EOF. */
async function receiver(chan) {
  let n = 0;
  for (;;) {
    const { socket } = await chan.recvfd();
    if (socket === null) return n;
    socket.close();
    n++;
  }
}

/** Starts the connection generator; resolves with its JSON line once it is done. */
function runClient(port, n) {
  const child = spawn(process.execPath, ['bench/connect-client.mjs', '--port', String(port), '--conns', String(n), '--concurrency', String(CONCURRENCY)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop();
      if (code !== 0 || !line?.startsWith('{')) reject(new Error(`connect client exited with ${code}`));
      else resolve(JSON.parse(line));
    });
  });
}

const cpuUs = (c) => c.user + c.system;

async function troupeTcp(n) {
  const [t, chan] = await thread.start(receiver);
  const listener = Socket.listen('127.0.0.1', 0);
  const client = runClient(listener.localname().port, n);
  let t0;
  let c0;
  let sent = 0;
  for await (const conn of listener.clients()) {
    if (sent === 0) [t0, c0] = [performance.now(), process.cpuUsage()];
    await chan.sendfd('', conn);
    if (++sent === n) break;
  }
  listener.close();
  chan.close(); // the receiver sees EOF and returns its count
  const received = await t.join();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuUs(process.cpuUsage(c0)); // every thread of this process
  const c = await client;
  return { handoffs: received, seconds, cpuUs: cpu, clientCpuUs: c.clientCpuUs };
}

async function troupePair(n) {
  const [t, chan] = await thread.start(receiver);
  const [t0, c0] = [performance.now(), process.cpuUsage()];
  for (let i = 0; i < n; i++) {
    const [mine, theirs] = Socket.pair();
    await chan.sendfd('', theirs);
    mine.close();
  }
  chan.close();
  const received = await t.join();
  return { handoffs: received, seconds: (performance.now() - t0) / 1000, cpuUs: cpuUs(process.cpuUsage(c0)) };
}

async function nodeTcp(n) {
  const child = fork(SELF, ['--receiver'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await once(child, 'message'); // ready
  let t0;
  let c0;
  let sent = 0;
  const server = net.createServer({ pauseOnConnect: true }, (sock) => {
    if (sent === 0) [t0, c0] = [performance.now(), process.cpuUsage()];
    child.send('s', sock); // the handle is closed here once sent (keepOpen: false)
    if (++sent === n) {
      server.close();
      child.send('done'); // queued behind the handles still waiting for their acks
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = runClient(server.address().port, n);
  const [report] = await once(child, 'message');
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuUs(process.cpuUsage(c0)) + report.cpuUs;
  child.disconnect();
  const c = await client;
  return { handoffs: report.n, seconds, cpuUs: cpu, clientCpuUs: c.clientCpuUs };
}

/** The forked child of node-tcp: destroys every socket it is sent; reports the count and its CPU on 'done'. */
function nodeReceiver() {
  let n = 0;
  let c0;
  process.on('message', (m, sock) => {
    if (m === 's') {
      if (n === 0) c0 = process.cpuUsage();
      sock.destroy();
      n++;
    } else if (m === 'done') {
      process.send({ n, cpuUs: cpuUs(process.cpuUsage(c0)) });
    }
  });
  process.send('ready');
}

const VARIANTS = { 'troupe-tcp': troupeTcp, 'node-tcp': nodeTcp, 'troupe-pair': troupePair };

if (process.argv[2] === '--receiver') nodeReceiver();
else if (process.argv[2] === '--child') {
  const [name, n = '5000'] = process.argv[3].split(':');
  const fn = VARIANTS[name];
  if (fn === undefined) throw new Error(`unknown variant ${name}`);
  await reportFromChild(() => fn(Number(n)));
}
