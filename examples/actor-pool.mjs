// A job queue over a pool of worker actors, with backpressure: the producer is much faster than the
// workers, and bounded mailboxes (overflow 'wait') hold it back instead of letting the queue grow.
//
//   node examples/actor-pool.mjs [--threads N] [--workers W] [--jobs J] [--capacity C] [--work-us U] [--payload B]
//
// Defaults: 2 threads, 4 workers (placed on the least-loaded thread), 20,000 jobs of 100 µs CPU each
// carrying a 1 KiB payload, mailboxes of 16. The producer hands jobs out in turn with `await ref.send(job)`:
// a full mailbox stalls the channel to its thread, and a congested channel makes send() wait, so what is in
// flight stays bounded however fast the producer is. Prints, one per line:
//   jobs done J (per worker: a b c …)
//   max mailbox depth D (bound C × W)      — the largest per-thread mailbox depth system.stats() reported
//   max rss M MB (S MB at the start)       — the process's largest resident set seen while it ran
//   thread restarts R                      — 0: no worker thread was taken for hung
//   elapsed T ms
// and exits 0; exits 1 if a job went missing or a mailbox grew past its bound.
// This file is also the module the worker threads load the `jobWorker` actor from.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { monotime } from 'troupe';
import { ActorSystem, defineActor } from 'troupe/actors';

/** Busy-waits `us` microseconds: the CPU work a job asks for. */
function burn(us) {
  const until = monotime() + us / 1000;
  while (monotime() < until);
}

const YIELD_MS = 2;
const yieldToLoop = () => new Promise((resolve) => setImmediate(resolve));

/**
 * One worker of the pool: does each job it gets; `count` asks how many it did (FIFO: it comes after every
 * job sent before it).
 */
export const jobWorker = defineActor(async (ctx) => {
  let done = 0;
  let ran = monotime();
  for await (const job of ctx) {
    if (job === 'count') {
      ctx.reply(done);
      continue;
    }
    burn(job.us);
    done++;
    // NB: taking messages that are already there never returns to the event loop: a CPU-bound actor
    // yields every few ms, so its thread's timers (heartbeat, stats) and other actors' I/O keep running.
    if (monotime() - ran >= YIELD_MS) {
      await yieldToLoop();
      ran = monotime();
    }
  }
});

// NB: main() is not awaited at the top level: spawn() imports this module to find jobWorker's export name,
// and that import would wait for this module's evaluation, which would be waiting for main().
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

async function main() {
  const { values: args } = parseArgs({
    options: {
      threads: { type: 'string', default: '2' },
      workers: { type: 'string', default: '4' },
      jobs: { type: 'string', default: '20000' },
      capacity: { type: 'string', default: '16' },
      'work-us': { type: 'string', default: '100' },
      payload: { type: 'string', default: '1024' },
    },
  });
  const n = {};
  for (const [name, min] of [['threads', 1], ['workers', 1], ['jobs', 0], ['capacity', 1], ['work-us', 0], ['payload', 0]]) {
    n[name] = Number(args[name]);
    if (!Number.isInteger(n[name]) || n[name] < min) usage(`--${name} must be an integer >= ${min}, got ${args[name]}`);
  }

  const t0 = performance.now();
  const system = await ActorSystem.start({ threads: n.threads });
  const mailbox = { capacity: n.capacity, overflow: 'wait' };
  const workers = [];
  for (let i = 0; i < n.workers; i++) workers.push(await system.spawn(jobWorker, undefined, { mailbox }));

  // Watch the mailboxes and the memory while the jobs run (each worker thread refreshes its figures
  // every 500 ms; the main thread reads them whenever it asks).
  let maxDepth = 0;
  const startRss = process.memoryUsage.rss();
  let maxRss = startRss;
  const sample = () => {
    for (const t of system.stats().threads) maxDepth = Math.max(maxDepth, t.mailboxDepth);
    maxRss = Math.max(maxRss, process.memoryUsage.rss());
  };
  const sampler = setInterval(sample, 50);

  // The producer: as fast as the pool lets it.
  const payload = 'x'.repeat(n.payload);
  for (let id = 0; id < n.jobs; id++) await workers[id % workers.length].send({ id, us: n['work-us'], payload });
  const counts = await Promise.all(workers.map((w) => w.ask('count', { timeoutMs: 60_000 })));
  sample();
  clearInterval(sampler);
  const restarts = system.stats().threads.reduce((sum, t) => sum + t.restarts, 0);
  await system.shutdown();

  const done = counts.reduce((a, b) => a + b, 0);
  const bound = n.capacity * n.workers;
  console.log(`jobs done ${done} (per worker: ${counts.join(' ')})`);
  console.log(`max mailbox depth ${maxDepth} (bound ${n.capacity} × ${n.workers} = ${bound})`);
  const mb = (bytes) => (bytes / 2 ** 20).toFixed(1);
  console.log(`max rss ${mb(maxRss)} MB (${mb(startRss)} MB at the start)`);
  console.log(`thread restarts ${restarts}`);
  console.log(`elapsed ${Math.round(performance.now() - t0)} ms`);
  if (done !== n.jobs || maxDepth > bound) process.exit(1);
}

function usage(msg) {
  console.error(`actor-pool: ${msg}\nusage: node examples/actor-pool.mjs [--threads N] [--workers W] [--jobs J] [--capacity C] [--work-us U] [--payload B]`);
  process.exit(2);
}
