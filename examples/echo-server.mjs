// Line echo server: each connection is a root-controller task that reads lines and writes them back.
//
// Usage: node examples/echo-server.mjs --port P [--host H] [--threads N] [--placement least-loaded|round-robin|reuseport]
//                                      [--flush-per-line]
//
// Prints `listening P` (the bound port, so `--port 0` works) on stdout once it accepts. Every line up to and
// including its '\n' is echoed byte for byte (binary mode: no CRLF translation; a line longer than 4096
// bytes comes back in 4096-byte pieces, as the socket's line limit splits it). The host defaults to '::'
// (IPv4 and IPv6), or '0.0.0.0' where IPv6 is unavailable. SIGINT/SIGTERM close the listener and exit 0.
//
// Output batching: when a client pipelines lines, replies are buffered while complete lines are still
// waiting in the input buffer, and flushed in one write once it is drained (or holds only a partial line).
// `--flush-per-line` instead uses line-buffered output, one write(2) per line; bench/echo.mjs compares both.
//
// Threads: this build serves on one thread; `--threads`/`--placement` are accepted for the fixed command
// line (API.md) and take effect once troupe has threads.
import { parseArgs } from 'node:util';
import { Controller, Socket, sleep } from 'troupe';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    threads: { type: 'string', default: '1' },
    placement: { type: 'string', default: 'least-loaded' },
    'flush-per-line': { type: 'boolean', default: false },
  },
});
const port = Number(args.port);
const threads = Number(args.threads);
if (args.port === undefined || !Number.isInteger(port) || port < 0 || port > 65535) usage(`--port must be 0..65535, got ${args.port}`);
if (!Number.isInteger(threads) || threads < 1) usage(`--threads must be a positive integer, got ${args.threads}`);
if (!['least-loaded', 'round-robin', 'reuseport'].includes(args.placement)) usage(`unknown --placement ${args.placement}`);
if (threads > 1) console.error(`echo-server: note: this build serves on one thread; --threads ${threads} (--placement ${args.placement}) is ignored`);

// What a client can do to its own connection; these end it quietly. Anything else is logged first.
const PEER_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTCONN', 'ERR_HANDLE_CLOSED']);
// Transient accept failures (out of descriptors or memory): back off and keep accepting.
const ACCEPT_BACKOFF = new Set(['EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM']);

const root = Controller.root();
const listener = listen(args.host, port);
const serve = args['flush-per-line'] ? echoPerLine : echoBatched;

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    listener.close();
    process.exit(0);
  });
}

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
    root.wrap(connection, sock);
  }
});
console.log(`listening ${listener.localname().port}`);

/** One client: echo until EOF; its errors end this connection only. */
async function connection(sock) {
  try {
    await serve(sock);
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
 * The batched form: output is flushed explicitly ('f' buffers whole 4 KiB blocks and does not flush before
 * reads), once no complete line is left in the input buffer. Lines stay bytes: nothing is decoded.
 */
async function echoBatched(sock) {
  sock.setmode('b', 'bfA');
  for (;;) {
    const line = await nextLine(sock);
    if (line === null) break;
    await sock.write(line);
  }
  await sock.flush();
}

/** The next line; replies owed are flushed before any wait for more input. */
async function nextLine(sock) {
  const { input, output } = sock.pending();
  if (output > 0) {
    if (input === 0) {
      await sock.flush();
    } else {
      // Buffered input: take the next line if it is complete, or completes with what the kernel already has.
      try {
        return await sock.readBytes('*L', { timeoutMs: 0 });
      } catch (err) {
        if (err.code !== 'ETIMEDOUT') throw err;
        // Only part of a line is here: a sticky ETIMEDOUT, partial data kept. Flush, then wait for the rest.
        sock.clearerr('r');
        await sock.flush();
      }
    }
  }
  return sock.readBytes('*L');
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
  console.error(`echo-server: ${msg}\nusage: node examples/echo-server.mjs --port P [--host H] [--threads N] [--placement least-loaded|round-robin|reuseport] [--flush-per-line]`);
  process.exit(2);
}
