// The measuring half of bench/actors.mjs: one function per variant, each run in a fresh child process.
//
// Every variant returns a plain object of figures; `cpus` (the child's Cpus_allowed_list) lets the parent
// check that a pinned run really was pinned. CPU is process.cpuUsage() of the whole process (all threads).
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { MessageChannel, Worker } from 'node:worker_threads';
import * as Comlink from 'comlink/dist/esm/comlink.mjs';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { Piscina } from 'piscina';
import { liveMemory } from './lib/memory.mjs';

const WORKER = new URL('./actors-worker.mjs', import.meta.url);
const PISCINA_TASK = new URL('./actors-piscina.mjs', import.meta.url).href;
const ACTORS = new URL('./actors-echo.mjs', import.meta.url).href;
const DEPTH = 64;
const CAPACITY = 1024; // of the plain queue in (4)
const CHUNK = 1000; // one-way messages sent between clock reads
const SHUTDOWN_MS = 5000;

const cpuUs = (c) => c.user + c.system;
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

function cpusAllowed() {
  return readFileSync('/proc/self/status', 'utf8').match(/^Cpus_allowed_list:\s*(.*)$/m)?.[1] ?? '?';
}

// ---- shapes of measurement ---------------------------------------------------------------------------------

/** `call(i)` awaited one after another for `ms`: latency percentiles, rate, CPU per call. */
async function sequential(call, ms) {
  const lat = [];
  let i = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + ms;
  for (let t = t0; t < end; ) {
    const s = t;
    await call(i++);
    t = performance.now();
    lat.push(t - s);
  }
  const wall = performance.now() - t0;
  const cpu = cpuUs(process.cpuUsage(cpu0));
  lat.sort((a, b) => a - b);
  return { n: lat.length, perSec: (lat.length / wall) * 1000, p50: pct(lat, 0.5) * 1000, p99: pct(lat, 0.99) * 1000, cpuUsPer: cpu / lat.length };
}

/** DEPTH loops each awaiting `call(i)` until `ms` have passed; timed until the last reply is in. */
async function inFlight(call, ms) {
  let done = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + ms;
  const loop = async () => {
    while (performance.now() < end) {
      await call(done);
      done++;
    }
  };
  await Promise.all(Array.from({ length: DEPTH }, loop));
  const wall = performance.now() - t0;
  const cpu = cpuUs(process.cpuUsage(cpu0));
  return { n: done, perSec: (done / wall) * 1000, cpuUsPer: cpu / done };
}

/** The request → reply figures of one competitor: warm-up, then 1 in flight, then DEPTH in flight. */
async function rpc(call, o, { seq = true } = {}) {
  const r = { cpus: cpusAllowed() };
  if (seq) {
    await sequential(call, o.warmMs);
    r.seq = await sequential(call, o.ms);
  }
  await inFlight(call, o.warmMs);
  r.par = await inFlight(call, o.ms);
  return r;
}

/**
 * One-way messages: `produce(n, from)` sends n numbers, in chunks of CHUNK until `ms` have passed (after
 * `warmMs` of the same); then `count()` resolves with what the consumer counted, so the time covers delivery.
 * Time-bounded, so that a slow variant takes no longer than a fast one.
 */
async function oneWay(produce, count, o) {
  let sent = 0;
  const runFor = async (ms) => {
    for (const end = performance.now() + ms; performance.now() < end; sent += CHUNK) await produce(CHUNK, sent);
  };
  await runFor(o.warmMs);
  const c0 = await count();
  const s0 = sent;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await runFor(o.ms);
  const c1 = await count();
  const wall = performance.now() - t0;
  const cpu = cpuUs(process.cpuUsage(cpu0));
  const got = c1 - c0;
  return { cpus: cpusAllowed(), sent: sent - s0, counted: got, lost: sent - c1, perSec: (got / wall) * 1000, cpuUsPer: cpu / got };
}

// ---- worker_threads, comlink, piscina --------------------------------------------------------------------

async function startWorker(workerData, transferList) {
  const w = new Worker(WORKER, { workerData, transferList });
  await once(w, 'online');
  return w;
}

/** A promise per request; the worker answers in order, so resolvers wait in a FIFO. */
async function rpcPostMessage(o) {
  const w = await startWorker({ mode: 'echo' });
  const waiting = [];
  let head = 0;
  w.on('message', (m) => {
    const r = waiting[head];
    waiting[head++] = undefined;
    if (head === waiting.length) waiting.length = head = 0;
    r(m);
  });
  const r = await rpc((x) => new Promise((resolve) => {
    waiting.push(resolve);
    w.postMessage(x);
  }), o);
  await w.terminate();
  return r;
}

async function rpcComlink(o) {
  const { port1, port2 } = new MessageChannel();
  const w = await startWorker({ mode: 'comlink', port: port2 }, [port2]);
  const remote = Comlink.wrap(nodeEndpoint(port1));
  const r = await rpc((x) => remote.echo(x), o);
  port1.close();
  await w.terminate();
  return r;
}

async function rpcPiscina(o, extra = {}, opts = {}) {
  const pool = new Piscina({ filename: PISCINA_TASK, minThreads: 1, maxThreads: 1, ...extra });
  await pool.run(0); // the worker is up
  const r = await rpc((x) => pool.run(x), o, opts);
  await pool.destroy();
  return r;
}

/** The message of one-way run number i: the number itself, or a small object (see OBJECT). */
const asNumber = (i) => i;
const asObject = (i) => ({ seq: i, kind: 'tick', at: 1.5 });

async function oneWayPostMessage(o, make = asNumber) {
  const w = await startWorker({ mode: 'count' });
  const count = () => {
    const p = once(w, 'message').then(([n]) => n);
    w.postMessage('count');
    return p;
  };
  const produce = (n, from) => {
    for (let i = from; i < from + n; i++) w.postMessage(make(i));
  };
  const r = await oneWay(produce, count, o);
  await w.terminate();
  return r;
}

// ---- same thread: a plain async-iterable queue, one promise per message --------------------------------

/**
 * A queue a consumer iterates with `for await`: one promise per message handed over. The producer waits in
 * `drained()` once CAPACITY messages are queued, as a bounded mailbox with overflow 'wait' would make it.
 */
class Channel {
  #q = [];
  #head = 0;
  #waiter = null;
  #drained = null;
  get size() {
    return this.#q.length - this.#head;
  }
  push(x) {
    if (this.#waiter !== null) {
      const w = this.#waiter;
      this.#waiter = null;
      w({ value: x, done: false });
    } else {
      this.#q.push(x);
    }
  }
  next() {
    if (this.#head < this.#q.length) {
      const value = this.#q[this.#head++];
      if (this.#head === this.#q.length) {
        this.#q.length = this.#head = 0;
        if (this.#drained !== null) {
          const d = this.#drained;
          this.#drained = null;
          d();
        }
      }
      return Promise.resolve({ value, done: false });
    }
    return new Promise((r) => {
      this.#waiter = r;
    });
  }
  /** Resolves once the consumer has taken everything queued. */
  drained() {
    return this.size === 0 ? Promise.resolve() : new Promise((r) => {
      this.#drained = r;
    });
  }
  [Symbol.asyncIterator]() {
    return this;
  }
}

async function localPromise(o) {
  const ch = new Channel();
  let n = 0;
  let asked = null;
  (async () => {
    for await (const m of ch) {
      if (m === 'count') asked(n);
      else n++;
    }
  })();
  const count = () => new Promise((r) => {
    asked = r;
    ch.push('count');
  });
  const produce = async (k, from) => {
    for (let i = from; i < from + k; i++) {
      ch.push(i);
      if (ch.size >= CAPACITY) await ch.drained();
    }
  };
  return oneWay(produce, count, o);
}

// ---- troupe ----------------------------------------------------------------------------------------------

/**
 * Starts a system with one worker thread, runs `fn(sys, actors)`, shuts down (bounded, unless `shutdown` is
 * false: the child exits right after reporting anyway) and returns what `fn` returned.
 */
async function withSystem(fn, { shutdown = true } = {}) {
  const { ActorSystem } = await import('troupe/actors');
  const actors = await import(ACTORS);
  const sys = await ActorSystem.start({ threads: 1 });
  const r = await fn(sys, actors);
  if (!shutdown) return r;
  let timer;
  const late = new Promise((resolve) => {
    timer = setTimeout(() => resolve('late'), SHUTDOWN_MS);
  });
  if ((await Promise.race([sys.shutdown().then(() => 'ok'), late])) === 'late') {
    process.stderr.write(`  troupe: sys.shutdown() took over ${SHUTDOWN_MS} ms\n`);
  }
  clearTimeout(timer);
  return r;
}

function rpcTroupe(o) {
  return withSystem(async (sys, { echo }) => {
    const ref = await sys.spawn(echo, undefined, { thread: 1 });
    return rpc((x) => ref.ask(x), o);
  });
}

/** Producers: trySend, falling back to awaiting send() when the mailbox is full; or await send() for each. */
const producers = {
  trysend: (ref, make) => async (n, from) => {
    for (let i = from; i < from + n; i++) {
      const m = make(i);
      if (!ref.trySend(m)) await ref.send(m);
    }
  },
  send: (ref, make) => async (n, from) => {
    for (let i = from; i < from + n; i++) await ref.send(make(i));
  },
};

function countingTroupe(thread, how, o, make = asNumber) {
  return withSystem(async (sys, { counter }) => {
    const ref = await sys.spawn(counter, undefined, { thread });
    const count = () => ref.ask('count');
    return oneWay(producers[how](ref, make), count, o);
  });
}

// ---- bytes per idle actor --------------------------------------------------------------------------------

/** Live heap+external and RSS per unit after `spawn(i)` ran `count` times and `settle()` resolved. */
async function perIdle(count, spawn, settle) {
  const before = liveMemory();
  const t0 = performance.now();
  const keep = [];
  for (let i = 0; i < count; i += 1000) {
    const batch = [];
    for (let j = i; j < Math.min(count, i + 1000); j++) batch.push(spawn(j));
    keep.push(...(await Promise.all(batch)));
  }
  const spawnMs = performance.now() - t0;
  await settle();
  const after = liveMemory();
  return {
    cpus: cpusAllowed(),
    count,
    bytesPer: (after.live - before.live) / count,
    rssPer: (after.rss - before.rss) / count,
    spawnPerSec: (count / spawnMs) * 1000,
    kept: keep.length,
  };
}

const turn = () => new Promise((r) => setImmediate(r));

function memoryPromise(o) {
  let parked = 0;
  return perIdle(o.actors, async () => {
    const ch = new Channel();
    (async () => {
      parked++;
      // eslint-disable-next-line no-unused-vars
      for await (const _ of ch);
    })();
    return ch; // NB: kept by perIdle, as a program keeps its channels; the consumer is reachable only from it
  }, async () => {
    while (parked < o.actors) await turn();
    await turn();
  });
}

function memoryTroupe(o) {
  return withSystem((sys, { idle }) =>
    perIdle(o.actors, () => sys.spawn(idle, undefined, { thread: 'local' }), async () => {
      for (let i = 0; i < 3; i++) await turn(); // every actor reaches its first receive
    }), { shutdown: false }); // NB: stopping a million actors is not what is measured, and takes seconds
}

/** Every variant, keyed 'section/variant'; each takes the options and resolves with its figures. */
export const VARIANTS = {
  'rpc/troupe': rpcTroupe,
  'rpc/postmessage': rpcPostMessage,
  'rpc/comlink': rpcComlink,
  'rpc/piscina': (o) => rpcPiscina(o),
  'rpc/piscina-c64': (o) => rpcPiscina(o, { concurrentTasksPerWorker: DEPTH }, { seq: false }),
  'oneway/troupe-trysend': (o) => countingTroupe(1, 'trysend', o),
  'oneway/troupe-send': (o) => countingTroupe(1, 'send', o),
  'oneway/postmessage': (o) => oneWayPostMessage(o),
  'oneway/troupe-trysend-obj': (o) => countingTroupe(1, 'trysend', o, asObject),
  'oneway/postmessage-obj': (o) => oneWayPostMessage(o, asObject),
  'local/troupe-trysend': (o) => countingTroupe('local', 'trysend', o),
  'local/troupe-send': (o) => countingTroupe('local', 'send', o),
  'local/promise': localPromise,
  'memory/troupe': memoryTroupe,
  'memory/promise': memoryPromise,
};
