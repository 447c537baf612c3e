// Supervision: a supervisor keeps two actors running — one that crashes (it throws), one that hangs its
// worker thread in a busy loop (the thread's watchdog sees it and restarts the thread) — and both come back.
//
//   node examples/supervision.mjs [--watchdog-ms MS]
//
// Runs on 2 worker threads with watchdogMs 200 (the default here): `crasher` on thread 1, `spinner` on
// thread 2, under a one_for_one supervisor (each permanent: restarted whatever ended it). Prints what
// happens, one event per line:
//   started crasher <id> on thread 1 / started spinner <id> on thread 2
//   crasher <id>: pong
//   crasher crashed: ERR_ACTOR_EXITED (E_CRASH crashed on purpose)
//   restarted crasher <id> on thread 1
//   spinner hung its thread: ERR_ACTOR_EXITED after T ms (thread 2 is gone: thread 2 hung: …)
//   restarted spinner <id> on thread 2 (thread 2 restarts: 1)
//   crasher <id>: pong / spinner <id>: pong
//   stopped
// and exits 0 (1 if something did not happen as above).
// This file is also the module the worker threads load the actors from.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ActorSystem, defineActor } from 'troupe/actors';

/** Tells `init.reporter` it started, then: 'ping' → 'pong', 'crash' throws, 'spin' loops forever. */
export const flaky = defineActor(async (ctx, init) => {
  await init.reporter.send({ started: init.id, ref: ctx.self });
  for await (const m of ctx) {
    if (m === 'crash') throw Object.assign(new Error('crashed on purpose'), { code: 'E_CRASH' });
    if (m === 'spin') for (;;);
    ctx.reply('pong');
  }
});

/** Collects start reports; `{ next: true }` answers with the next one (waiting for it, 10 s at most). */
export const reporter = defineActor(async (ctx) => {
  const isStart = (m) => typeof m === 'object' && m !== null && typeof m.started === 'string';
  // Selective receive: reports wait in the mailbox, in order, until asked for.
  while ((await ctx.receive({ match: (m) => m?.next === true })) !== null) {
    ctx.reply(await ctx.receive({ match: isStart, timeoutMs: 10_000 }));
  }
});

// NB: main() is not awaited at the top level: spawn() imports this module to find each actor's export name,
// and that import would wait for this module's evaluation, which would be waiting for main().
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().then(
    (ok) => process.exit(ok ? 0 : 1),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}

async function main() {
  const { values: args } = parseArgs({ options: { 'watchdog-ms': { type: 'string', default: '200' } } });
  const watchdogMs = Number(args['watchdog-ms']);
  if (!Number.isInteger(watchdogMs) || watchdogMs < 20) usage(`--watchdog-ms must be an integer >= 20, got ${args['watchdog-ms']}`);

  const system = await ActorSystem.start({ threads: 2, watchdogMs });
  let ok = true;
  const check = (cond, what) => {
    if (!cond) {
      console.log(`UNEXPECTED: ${what}`);
      ok = false;
    }
  };
  try {
    // Start reports go to an actor on the main thread: waiting for one is an ask, not a poll.
    const log = await system.spawn(reporter, undefined, { thread: 'local' });
    const nextStart = async () => {
      const s = await log.ask({ next: true }, { timeoutMs: 15_000 });
      if (s === null) throw new Error('no child started within 10 s');
      return s;
    };
    const sup = await system.supervise({
      strategy: 'one_for_one',
      intensity: 3,
      periodMs: 10_000,
      children: [
        { id: 'crasher', actor: flaky, init: { id: 'crasher', reporter: log }, restart: 'permanent', thread: 1 },
        { id: 'spinner', actor: flaky, init: { id: 'spinner', reporter: log }, restart: 'permanent', thread: 2 },
      ],
    });
    for (let i = 0; i < 2; i++) {
      const s = await nextStart();
      console.log(`started ${s.started} ${s.ref.id} on thread ${s.ref.thread}`);
    }
    const ping = async (id) => {
      const ref = system.whereis(id);
      console.log(`${id} ${ref.id}: ${await ref.ask('ping')}`);
    };
    await ping('crasher');

    // The crasher throws while handling an ask: the ask rejects, the supervisor starts a new one.
    const crasher = system.whereis('crasher');
    const crash = await crasher.ask('crash').then(() => undefined, (err) => err);
    console.log(`crasher crashed: ${crash?.code} (${crash?.cause?.code} ${crash?.cause?.message})`);
    check(crash?.code === 'ERR_ACTOR_EXITED' && crash?.cause?.code === 'E_CRASH', 'the crash ask should reject with ERR_ACTOR_EXITED caused by E_CRASH');
    const again = await nextStart();
    console.log(`restarted ${again.started} ${again.ref.id} on thread ${again.ref.thread}`);
    check(again.started === 'crasher' && again.ref.id !== crasher.id, 'a new crasher should start');

    // The spinner never returns to its event loop: the watchdog takes thread 2 for hung, terminates it and
    // starts a new one; every actor there has exited, and the supervisor starts the spinner again.
    const spinner = system.whereis('spinner');
    const t0 = performance.now();
    const spin = await spinner.ask('spin', { timeoutMs: 10_000 }).then(() => undefined, (err) => err);
    const took = Math.round(performance.now() - t0);
    console.log(`spinner hung its thread: ${spin?.code} after ${took} ms (${spin?.cause?.message}: ${spin?.cause?.cause?.message})`);
    check(spin?.code === 'ERR_ACTOR_EXITED', 'the spin ask should reject with ERR_ACTOR_EXITED');
    const back = await nextStart();
    const restarts = system.stats().threads[2].restarts;
    console.log(`restarted ${back.started} ${back.ref.id} on thread ${back.ref.thread} (thread 2 restarts: ${restarts})`);
    check(back.started === 'spinner' && back.ref.thread === 2 && back.ref.gen > spinner.gen, 'a new spinner should start on the new thread 2');
    check(restarts === 1, 'thread 2 should have been restarted once');

    await ping('crasher');
    await ping('spinner');
    await sup.stop();
    console.log('stopped');
  } finally {
    await system.shutdown();
  }
  return ok;
}

function usage(msg) {
  console.error(`supervision: ${msg}\nusage: node examples/supervision.mjs [--watchdog-ms MS]`);
  process.exit(2);
}
