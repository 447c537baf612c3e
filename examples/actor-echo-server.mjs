// Line echo server on the actor system: system.serve() gives each connection to an actor of its own, on
// the system's worker threads.
//
// Usage: node examples/actor-echo-server.mjs --port P [--host H] [--threads N] [--placement least-loaded|round-robin|reuseport]
//
// Prints `listening P` (the bound port, so `--port 0` works) on stdout once it accepts. The protocol is
// examples/echo-server.mjs's: every line up to and including its '\n' comes back byte for byte, and the
// connection closes after the client ends its side. --threads (default 1) worker threads take connections:
// the main thread accepts and hands each to a thread by placement (least-loaded, the default, or
// round-robin), or with reuseport every thread listens itself. The host defaults to 0.0.0.0.
// SIGINT/SIGTERM close the server and the actor system and exit 0.
// This file is also the module the worker threads load the connection actor from.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ActorSystem, defineActor } from 'troupe/actors';

// What a client can do to its own connection (or shutdown to it); these end it quietly. Others are logged.
const PEER_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTCONN', 'ERR_HANDLE_CLOSED']);
// Every complete line buffered so far, in one read; at EOF the rest.
const COMPLETE_LINES = /^[\s\S]*\n/;

/** One connection: its first message is the Socket. Echoes until EOF, then closes it. */
export const echoConnection = defineActor(async (ctx) => {
  const sock = await ctx.receive();
  if (sock === null) return; // the system shut down first
  try {
    // Binary both ways, full buffering with autoflush: replies to the lines of one read leave in one write.
    sock.setmode('b', 'bf');
    for (let lines = await sock.readBytes(COMPLETE_LINES); lines !== null; lines = await sock.readBytes(COMPLETE_LINES)) {
      await sock.write(lines);
    }
    sock.close(); // flushes what is left
  } catch (err) {
    if (!PEER_ERRORS.has(err.code)) console.error(`actor-echo-server: ${err.stack ?? err}`);
    sock.destroy();
  }
});

// NB: main() is not awaited at the top level: serve() imports this module to find echoConnection's export
// name, and that import would wait for this module's evaluation, which would be waiting for main().
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

async function main() {
  const { values: args } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string', default: '0.0.0.0' },
      threads: { type: 'string', default: '1' },
      placement: { type: 'string', default: 'least-loaded' },
    },
  });
  const port = Number(args.port);
  const threads = Number(args.threads);
  if (args.port === undefined || !Number.isInteger(port) || port < 0 || port > 65535) usage(`--port must be 0..65535, got ${args.port}`);
  if (!Number.isInteger(threads) || threads < 1) usage(`--threads must be a positive integer, got ${args.threads}`);
  if (!['least-loaded', 'round-robin', 'reuseport'].includes(args.placement)) usage(`unknown --placement ${args.placement}`);

  const system = await ActorSystem.start({ threads });
  const server = await system.serve({ port, host: args.host, placement: args.placement, actor: echoConnection });
  let stopping;
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      stopping ??= (async () => {
        await server.close();
        await system.shutdown();
        process.exit(0);
      })();
    });
  }
  console.log(`listening ${server.port}`);
}

function usage(msg) {
  console.error(`actor-echo-server: ${msg}\nusage: node examples/actor-echo-server.mjs --port P [--host H] [--threads N] [--placement least-loaded|round-robin|reuseport]`);
  process.exit(2);
}
