// Line echo server: each connection is a root-controller task that reads lines and writes them back.
//
// Usage: node examples/echo-server.mjs --port P [--host H] [--threads N] [--placement least-loaded|round-robin|reuseport]
//                                      [--read-per-line | --flush-per-line] [--grace-ms MS]
//
// Prints `listening P` (the bound port, so `--port 0` works) on stdout once it accepts. Every line up to and
// including its '\n' is echoed byte for byte (binary mode: no CRLF translation; a line longer than 4096
// bytes comes back in 4096-byte pieces, as the socket's line limit splits it). The host defaults to '::'
// (IPv4 and IPv6), or '0.0.0.0' where IPv6 is unavailable.
//
// Shutdown: SIGINT or SIGTERM (taken with signal.listen, from before `listening P` is printed: a signal
// sent as soon as that line appears is a clean shutdown too) stops accepting at once; open connections get
// --grace-ms (default 5000) to finish, then those left are closed, and the process exits 0 by itself once
// nothing is left. A second signal during the grace period closes them at once. With threads, the signal
// closes the server, whose workers close their connections at once: serve() has no grace period, so
// --grace-ms does not apply there (a note on stderr says so when it is given). Further signals during
// the shutdown are taken by the same listener, in both modes, so the exit stays 0.
//
// By default each read takes every complete line already buffered (a RegExp format) and writes them back
// at once; output is flushed when the next read would have to wait (autoflush), so pipelined lines get one
// write. `--read-per-line` reads and writes one line per call (same replies, more calls); `--flush-per-line`
// also flushes every line (line-buffered output): one write(2) per line. bench/echo.mjs compares all three.
//
// Threads: with --threads N (or --placement reuseport) the server runs on N worker threads through serve():
// an acceptor hands connections out by placement, or every thread listens itself with SO_REUSEPORT.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Condition, Controller, Socket, monotime, poll, serve, signal, sleep } from 'troupe';

// What a client can do to its own connection; these end it quietly. Anything else is logged first.
const PEER_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTCONN', 'ERR_HANDLE_CLOSED']);
// Transient accept failures (out of descriptors or memory): back off and keep accepting.
const ACCEPT_BACKOFF = new Set(['EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM']);

/** The per-connection handler the serving threads load (this file is also the handler module). */
export default (sock) => connection(sock, echoBatched);
export const perLine = (sock) => connection(sock, echoPerLine);
export const readPerLine = (sock) => connection(sock, echoReadPerLine);

// Every complete line buffered so far, in one read (a RegExp format: up to and including the last '\n'
// within the line limit; at EOF the rest). Node's line echo splits each chunk the same way.
const COMPLETE_LINES = /^[\s\S]*\n/;

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();

async function main() {
  const { values: args } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      threads: { type: 'string', default: '1' },
      placement: { type: 'string', default: 'least-loaded' },
      'flush-per-line': { type: 'boolean', default: false },
      'read-per-line': { type: 'boolean', default: false },
      'grace-ms': { type: 'string', default: '5000' },
    },
  });
  const port = Number(args.port);
  const threads = Number(args.threads);
  if (args.port === undefined || !Number.isInteger(port) || port < 0 || port > 65535) usage(`--port must be 0..65535, got ${args.port}`);
  if (!Number.isInteger(threads) || threads < 1) usage(`--threads must be a positive integer, got ${args.threads}`);
  if (!['least-loaded', 'round-robin', 'reuseport'].includes(args.placement)) usage(`unknown --placement ${args.placement}`);
  const graceMs = Number(args['grace-ms']);
  const graceGiven = process.argv.slice(2).some((a) => a === '--grace-ms' || a.startsWith('--grace-ms='));
  if (!(graceMs >= 0)) usage(`--grace-ms must be a number >= 0, got ${args['grace-ms']}`);
  const variant = args['flush-per-line'] ? 'perLine' : args['read-per-line'] ? 'readPerLine' : 'default';
  const echo = { perLine: echoPerLine, readPerLine: echoReadPerLine, default: echoBatched }[variant];

  if (threads > 1 || args.placement === 'reuseport') {
    // Several threads: an acceptor hands connections out (or each thread listens, with reuseport).
    const server = await serve({
      port,
      host: args.host ?? '0.0.0.0',
      threads,
      placement: args.placement,
      handler: { module: import.meta.url, export: variant },
    });
    if (graceGiven) console.error('echo-server: --grace-ms does not apply with threads: connections close at once on a signal');
    // NB: listening before `listening P` is printed: drivers may signal as soon as they see it.
    const signals = signal.listen('SIGINT', 'SIGTERM');
    Controller.root().wrap(async () => {
      await signals.wait();
      // The listener stays open while the server closes: a second signal then must not take its default
      // action (ending the process by the signal). It is left open through process.exit, too: closed,
      // it would put the default action back for the moment before the exit.
      await server.close();
      process.exit(0);
    });
    console.log(`listening ${server.port}`);
    return;
  }

  const root = Controller.root();
  const listener = listen(args.host, port);
  // NB: listening before `listening P` is printed (a task started with wrap runs on a later turn): drivers
  // may signal as soon as they see the line, and it must find the listener there.
  const signals = signal.listen('SIGINT', 'SIGTERM');
  // The open connections, and a condition signalled when the last one ends.
  const open = new Set();
  const drained = new Condition();
  root.wrap(shutdownOnSignal, signals, listener, open, drained, graceMs);
  root.wrap(async () => {
    for (;;) {
      let sock;
      try {
        sock = await listener.accept();
      } catch (err) {
        if (err.code === 'ERR_HANDLE_CLOSED') return;
        if (!ACCEPT_BACKOFF.has(err.code)) throw err;
        console.error(`echo-server: accept: ${err.code}; retrying in 100 ms`);
        await sleep(100);
        continue;
      }
      open.add(sock);
      root.wrap(async () => {
        try {
          await connection(sock, echo);
        } finally {
          open.delete(sock);
          if (open.size === 0) drained.signal();
        }
      });
    }
  });
  console.log(`listening ${listener.localname().port}`);
}

/**
 * Graceful shutdown: on SIGINT or SIGTERM (signals: their listener) stop accepting, let the open connections
 * finish for graceMs (a second signal ends the wait), then close the rest. With every task done and nothing
 * waiting, the process then exits 0 on its own: an idle signal listener does not hold it. It is left open,
 * so that signals after the second, until the exit, are taken by it rather than ending the process.
 */
async function shutdownOnSignal(signals, listener, open, drained, graceMs) {
  await signals.wait();
  listener.close();
  const deadline = monotime() + graceMs;
  let why = `after ${graceMs} ms`;
  for (let left = graceMs; open.size > 0 && left > 0; left = deadline - monotime()) {
    // The listener is pollable: a second signal wakes this poll as the connections ending do.
    const ready = await poll(drained, signals, left);
    if (ready.includes(signals)) {
      why = `on a second ${await signals.wait(0)}`;
      break;
    }
  }
  if (open.size === 0) return;
  console.error(`echo-server: shutting down: closing ${open.size} open connection(s) ${why}`);
  for (const sock of open) sock.close(); // their reads end with ERR_HANDLE_CLOSED: quiet (PEER_ERRORS)
}

/** One client: echo until EOF; its errors end this connection only. */
async function connection(sock, echo) {
  try {
    await echo(sock);
    sock.close(); // flushes what is left, as far as the kernel takes it
  } catch (err) {
    if (!PEER_ERRORS.has(err.code)) console.error(`echo-server: ${peer(sock)}: ${err.stack ?? err}`);
    sock.destroy();
  }
}

/** The plain form: line-buffered output, so every write() of a line is one write(2). */
async function echoPerLine(sock) {
  sock.setmode('b', 'bl');
  for await (const line of sock.lines('*L')) await sock.write(line);
}

/**
 * The batched form: full buffering ('f' writes whole 4 KiB blocks) with autoflush, which flushes before a
 * read has to wait: replies to lines already buffered go out together. Lines stay bytes: nothing decoded.
 */
async function echoBatched(sock) {
  sock.setmode('b', 'bf');
  for (let lines = await sock.readBytes(COMPLETE_LINES); lines !== null; lines = await sock.readBytes(COMPLETE_LINES)) {
    await sock.write(lines);
  }
  await sock.flush();
}

/** One read and one write per line: the same replies, with the per-call cost paid for every line. */
async function echoReadPerLine(sock) {
  sock.setmode('b', 'bf');
  for (let line = await sock.readBytes('*L'); line !== null; line = await sock.readBytes('*L')) await sock.write(line);
  await sock.flush();
}

/** Listens on host (default '::', dual stack; '0.0.0.0' when the machine has no IPv6). */
function listen(host, p) {
  if (host !== undefined) return Socket.listen(host, p);
  try {
    return Socket.listen('::', p);
  } catch (err) {
    if (err.code !== 'EAFNOSUPPORT' && err.code !== 'EADDRNOTAVAIL') throw err;
    return Socket.listen('0.0.0.0', p);
  }
}

function peer(sock) {
  const a = sock.closed ? undefined : sock.peername();
  return a === undefined ? 'client' : `[${a.address}]:${a.port}`;
}

function usage(msg) {
  console.error(`echo-server: ${msg}\nusage: node examples/echo-server.mjs --port P [--host H] [--threads N] [--placement least-loaded|round-robin|reuseport] [--flush-per-line | --read-per-line] [--grace-ms MS]`);
  process.exit(2);
}
