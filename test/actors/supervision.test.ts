// Supervision: strategies, restart types, intensity, hung and dead threads, links and monitors, stop.
import { afterEach, describe, expect, it } from 'vitest';
import { ActorSystem, Down, type ActorRef, type ChildSpec, type SupervisorSpec } from 'troupe/actors';
import { child, linker, tally, watcher } from '../fixtures/actors-sup.mjs';
import { grinder } from '../fixtures/actors-misc.mjs';

let system: ActorSystem | undefined;

afterEach(async () => {
  await system?.shutdown();
  system = undefined;
});

async function start(threads: number, watchdogMs?: number): Promise<ActorSystem> {
  system = await ActorSystem.start({ threads, watchdogMs });
  return system;
}

interface Counts {
  total: number;
  counts: Record<string, number>;
}

/** The tally's counts once `n` starts in all have been reported to it. */
async function startsReach(t: ActorRef, n: number): Promise<Counts> {
  const c = await t.ask<Counts | null>({ until: n }, { timeoutMs: 6000 });
  expect(c, `${n} starts reported`).not.toBeNull();
  return c!;
}

function kid(id: string, t: ActorRef, thread: ChildSpec['thread'], restart: ChildSpec['restart'] = 'permanent'): ChildSpec {
  return { id, actor: child, init: { id, tally: t }, restart, thread };
}

/** Waits (up to 5 s) for f() to give something other than undefined or false. */
async function eventually<T>(what: string, f: () => T | undefined | false): Promise<T> {
  const deadline = performance.now() + 5000;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * The actor registered as `name`, once there is one (other than `replaced`, if given). NB: a restarted
 * child reports its start to the tally before the system has its ref back from the spawn, so the name
 * can lag the tally for a moment.
 */
function live(sys: ActorSystem, name: string, replaced?: ActorRef): Promise<ActorRef> {
  return eventually(`${name} registered`, () => {
    const ref = sys.whereis(name);
    return ref !== undefined && ref.id !== replaced?.id && ref;
  });
}

/** Asks the live actor registered as `name`: what it answers about itself. */
async function whoIs(sys: ActorSystem, name: string, replaced?: ActorRef): Promise<{ id: string; ref: ActorRef }> {
  return (await live(sys, name, replaced)).ask<{ id: string; ref: ActorRef }>('who');
}

describe('restart strategies', () => {
  const cases = [
    ['one_for_one', { a: 1, b: 2, c: 1 }],
    ['one_for_all', { a: 2, b: 2, c: 2 }],
    ['rest_for_one', { a: 1, b: 2, c: 2 }],
  ] as const;

  for (const [strategy, expected] of cases) {
    it(`${strategy}: b crashing restarts exactly ${Object.entries(expected).map(([k, v]) => `${k}×${v - 1}`).join(' ')}`, async () => {
      const sys = await start(2);
      const t = await sys.spawn(tally, undefined, { thread: 'local' });
      // Spread over both workers and the main thread.
      const spec: SupervisorSpec = { strategy, intensity: 3, periodMs: 10_000, children: [kid('a', t, 1), kid('b', t, 2), kid('c', t, 'local')] };
      const sup = await sys.supervise(spec);
      expect(await startsReach(t, 3)).toEqual({ total: 3, counts: { a: 1, b: 1, c: 1 } });
      const before = { a: sys.whereis('a')!, b: sys.whereis('b')!, c: sys.whereis('c')! };
      expect(before.a.id).toMatch(/^1\.0\./);
      expect(before.b.id).toMatch(/^2\.0\./);
      expect(before.c.id).toMatch(/^0\.0\./);

      const err = await before.b.ask('crash').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ERR_ACTOR_EXITED', cause: { code: 'E_CRASH' } });

      const total = Object.values(expected).reduce((s, v) => s + v, 0);
      expect(await startsReach(t, total)).toEqual({ total, counts: expected });
      // Children start in order, so the last restarted one having reported means the restart is over.
      for (const id of ['a', 'b', 'c'] as const) {
        const now = await whoIs(sys, id, expected[id] === 2 ? before[id] : undefined);
        expect(now.id).toBe(id);
        if (expected[id] === 2) expect(now.ref.id).not.toBe(before[id].id);
        else expect(now.ref.id).toBe(before[id].id);
        expect(now.ref.thread).toBe(before[id].thread);
      }
      // The replaced incarnations are gone for good.
      for (const id of ['a', 'b', 'c'] as const) {
        if (expected[id] === 2) await expect(before[id].ask('who')).rejects.toMatchObject({ code: 'ERR_ACTOR_EXITED' });
      }
      expect((await t.ask<Counts>('counts')).total).toBe(total);
      await sup.stop();
      await expect(sup.done).resolves.toBeUndefined();
    });
  }
});

describe('restart types', () => {
  it('transient: not restarted after a normal exit, restarted after an abnormal one; temporary: never', async () => {
    const sys = await start(1);
    const t = await sys.spawn(tally, undefined, { thread: 'local' });
    // All on thread 1: their exits reach the supervisor in the order they happen (one channel).
    const sup = await sys.supervise({
      strategy: 'one_for_one',
      intensity: 10,
      periodMs: 10_000,
      children: [
        kid('p', t, 1),
        kid('tr', t, 1, 'transient'),
        kid('tr2', t, 1, 'transient'),
        kid('tmp', t, 1, 'temporary'),
        kid('tmp2', t, 1, 'temporary'),
        // Transient children that end normally as soon as they start, before the supervisor hears back.
        { id: 'once1', actor: child, init: { id: 'once1', tally: t, oneShot: true }, restart: 'transient', thread: 1 },
        { id: 'once0', actor: child, init: { id: 'once0', tally: t, oneShot: true }, restart: 'transient', thread: 'local' },
      ],
    });
    await startsReach(t, 7);
    let starts = 7;
    let p = sys.whereis('p')!;
    /** Crashes the permanent p and waits for its restart: every exit before it has been handled by then. */
    const barrier = async (): Promise<void> => {
      await expect(p.ask('crash')).rejects.toMatchObject({ code: 'ERR_ACTOR_EXITED' });
      await startsReach(t, ++starts);
      p = await live(sys, 'p', p);
    };

    // transient, normal exit: stays down.
    expect(await sys.whereis('tr')!.ask('stop')).toBe('stopping');
    await barrier();
    expect(sys.whereis('tr')).toBeUndefined();
    expect(sys.whereis('once1')).toBeUndefined();
    expect(sys.whereis('once0')).toBeUndefined();
    // transient, abnormal exit: restarted.
    const tr2 = sys.whereis('tr2')!;
    await expect(tr2.ask('crash')).rejects.toMatchObject({ code: 'ERR_ACTOR_EXITED' });
    const c = await startsReach(t, ++starts);
    expect(c.counts.tr2).toBe(2);
    expect((await whoIs(sys, 'tr2', tr2)).ref.id).not.toBe(tr2.id);
    // temporary: neither after a crash nor after a normal exit.
    await expect(sys.whereis('tmp')!.ask('crash')).rejects.toMatchObject({ code: 'ERR_ACTOR_EXITED' });
    expect(await sys.whereis('tmp2')!.ask('stop')).toBe('stopping');
    await barrier();
    expect(sys.whereis('tmp')).toBeUndefined();
    expect(sys.whereis('tmp2')).toBeUndefined();

    expect(await t.ask<Counts>('counts')).toEqual({ total: starts, counts: { p: 3, tr: 1, tr2: 2, tmp: 1, tmp2: 1, once1: 1, once0: 1 } });
    await sup.stop();
  });
});

describe('restart intensity', () => {
  it('one restart more than intensity in periodMs: the supervisor gives up and stops its children', async () => {
    const sys = await start(2);
    const t = await sys.spawn(tally, undefined, { thread: 'local' });
    const sup = await sys.supervise({ strategy: 'one_for_one', intensity: 1, periodMs: 10_000, children: [kid('a', t, 1), kid('b', t, 2), kid('c', t, 'local')] });
    await startsReach(t, 3);
    const oldB = sys.whereis('b')!;
    await expect(oldB.ask('crash')).rejects.toMatchObject({ code: 'ERR_ACTOR_EXITED' });
    await startsReach(t, 4); // the one restart allowed
    const kids = [sys.whereis('a')!, await live(sys, 'b', oldB), sys.whereis('c')!];
    await expect(kids[1]!.ask('crash')).rejects.toMatchObject({ code: 'ERR_ACTOR_EXITED' });

    await expect(sup.done).rejects.toMatchObject({ code: 'ERR_SUPERVISOR_GAVE_UP', cause: { code: 'E_CRASH' } });
    for (const ref of kids) await expect(ref.ask('who')).rejects.toMatchObject({ code: 'ERR_ACTOR_EXITED' });
    expect((await t.ask<Counts>('counts')).total).toBe(4);
    await sup.stop(); // stopping a supervisor that gave up is fine
  });
});

describe('thread supervision', () => {
  const WATCHDOG_MS = 300;

  it('a worker busy with a long run of CPU-bound messages, with no turn of its loop between them, is not taken for hung', async () => {
    const sys = await start(1, WATCHDOG_MS);
    const g = await sys.spawn(grinder, undefined, { thread: 1 });
    // 60 × 20 ms: four times the watchdog's limit without the worker's event loop turning.
    for (let i = 0; i < 60; i++) await g.send({ ms: 20 });
    expect(await g.ask('done?', { timeoutMs: 20_000 })).toBe(60);
    expect(sys.stats().threads[1]!.restarts).toBe(0);
  });

  it('a child spinning on a worker: the hung thread is restarted within 2×watchdogMs, and the child on it', async () => {
    const sys = await start(2, WATCHDOG_MS);
    const t = await sys.spawn(tally, undefined, { thread: 'local' });
    const sup = await sys.supervise({ strategy: 'one_for_one', intensity: 3, periodMs: 10_000, children: [kid('spinner', t, 1), kid('other', t, 2)] });
    await startsReach(t, 2);
    const old = sys.whereis('spinner')!;
    expect(old.id).toMatch(/^1\.0\./);
    expect(sys.stats().threads[1]!.restarts).toBe(0);

    const t0 = performance.now();
    const err = await old.ask('spin', { timeoutMs: 10_000 }).catch((e: unknown) => e);
    const elapsed = performance.now() - t0;
    expect(err).toMatchObject({ code: 'ERR_ACTOR_EXITED' });
    await eventually('thread 1 restarted', () => sys.stats().threads[1]!.restarts === 1);
    // Measured from the ask, which is before the spin starts, so this bounds detection from above. The
    // watchdog looks every watchdogMs/4 and the beat every watchdogMs/4, so detection itself lands by
    // about 1.5×watchdogMs; the allowance covers terminating the spinning worker and scheduling noise.
    expect(elapsed).toBeLessThan(2 * WATCHDOG_MS + 100);
    expect(sys.stats().threads[1]!.restarts).toBe(1);
    expect(sys.stats().threads[2]!.restarts).toBe(0);

    // The supervisor starts it again on the new incarnation of thread 1.
    const c = await startsReach(t, 3);
    expect(c.counts).toEqual({ spinner: 2, other: 1 });
    const now = await whoIs(sys, 'spinner', old);
    expect(now.ref.id).toMatch(/^1\.1\./);
    // The other thread's actor and the new thread talk to each other (the pair's channel is new too).
    const other = sys.whereis('other')!;
    expect(((await other.ask({ ref: now.ref })) as { id: string }).id).toBe('other');
    await sup.stop();
  });

  it('a child whose thread dies (process.exit): pending asks reject, the thread and the child restart', async () => {
    const sys = await start(2, WATCHDOG_MS);
    const t = await sys.spawn(tally, undefined, { thread: 'local' });
    const sup = await sys.supervise({ strategy: 'one_for_one', intensity: 3, periodMs: 10_000, children: [kid('quitter', t, 2), kid('bystander', t, 2), kid('other', t, 1)] });
    await startsReach(t, 3);
    const old = sys.whereis('quitter')!;
    const bystander = sys.whereis('bystander')!;

    const t0 = performance.now();
    await expect(old.ask('exit', { timeoutMs: 10_000 })).rejects.toMatchObject({ code: 'ERR_ACTOR_EXITED' });
    // EOF on its channel tells at once (no watchdog involved); the bound is the hang's, generously.
    expect(performance.now() - t0).toBeLessThan(2 * WATCHDOG_MS + 100);
    await expect(bystander.ask('who')).rejects.toMatchObject({ code: 'ERR_ACTOR_EXITED' });

    // Both actors of thread 2 come back there; thread 1's actor was left alone.
    const c = await startsReach(t, 5);
    expect(c.counts).toEqual({ quitter: 2, bystander: 2, other: 1 });
    expect(sys.stats().threads[2]!.restarts).toBe(1);
    expect(sys.stats().threads[1]!.restarts).toBe(0);
    expect((await whoIs(sys, 'quitter', old)).ref.id).toMatch(/^2\.1\./);
    expect((await whoIs(sys, 'bystander', bystander)).ref.id).toMatch(/^2\.1\./);
    expect((await whoIs(sys, 'other')).ref.id).toMatch(/^1\.0\./);
    await sup.stop();
  });
});

describe('monitors and links', () => {
  it('monitor: a Down { ref, reason } arrives, the error keeping its code across threads', async () => {
    const sys = await start(2);
    const t = await sys.spawn(tally, undefined, { thread: 'local' });
    const local = await sys.spawn(watcher, undefined, { thread: 'local' });
    const remote = await sys.spawn(watcher, undefined, { thread: 1 });
    const target = await sys.spawn(child, { id: 'x', tally: t }, { thread: 2 });
    expect(await local.ask({ watch: target })).toBe(true);
    // NB: remote's watch goes 1→2 and the crash main→2: sync makes the watch arrive first (else the Down
    // would say only that there was no such actor, as Erlang's noproc).
    expect(await remote.ask({ watch: target, sync: true })).toBe(true);
    await expect(target.ask('crash')).rejects.toMatchObject({ code: 'ERR_ACTOR_EXITED' });

    const down = await local.ask<Down>('down?');
    expect(down).toBeInstanceOf(Down);
    expect(down.ref.id).toBe(target.id);
    expect(down.reason).toBeInstanceOf(Error);
    expect(down.reason).toMatchObject({ code: 'E_CRASH', message: 'x crashed on purpose' });
    expect(await remote.ask('down-summary?')).toEqual({ down: true, id: target.id, reason: 'x crashed on purpose', code: 'E_CRASH' });

    // A normal exit is 'normal'; monitoring what is gone already gives a Down at once.
    const quiet = await sys.spawn(child, { id: 'y', tally: t }, { thread: 2 });
    expect(await remote.ask({ watch: quiet, sync: true })).toBe(true);
    expect(await quiet.ask('stop')).toBe('stopping');
    expect(await remote.ask('down-summary?')).toEqual({ down: true, id: quiet.id, reason: 'normal', code: null });
    expect(await local.ask({ watch: target })).toBe(true);
    const late = await local.ask<Down>('down?');
    expect(late).toBeInstanceOf(Down);
    expect(late.ref.id).toBe(target.id);
  });

  it('link: an abnormal exit takes the linked actor along, both ways and across threads; a normal exit does not', async () => {
    const sys = await start(2);
    const w = await sys.spawn(watcher, undefined, { thread: 'local' });

    // b crashes: a, on another thread, exits with b's reason.
    const a = await sys.spawn(linker, undefined, { thread: 1 });
    const b = await sys.spawn(linker, undefined, { thread: 2 });
    expect(await a.ask({ link: b })).toBe(true);
    expect(await w.ask({ watch: a })).toBe(true);
    await expect(b.ask('crash')).rejects.toMatchObject({ code: 'ERR_ACTOR_EXITED' });
    const down = await w.ask<Down>('down?');
    expect(down.ref.id).toBe(a.id);
    expect(down.reason).toMatchObject({ code: 'E_CRASH' });
    await expect(a.ask('who')).rejects.toMatchObject({ code: 'ERR_ACTOR_EXITED' });

    // The other way round: the one that linked crashes; the linked one (here on the main thread) goes too.
    const c = await sys.spawn(linker, undefined, { thread: 2 });
    const d = await sys.spawn(linker, undefined, { thread: 'local' });
    expect(await c.ask({ link: d })).toBe(true);
    expect(await w.ask({ watch: d })).toBe(true);
    await expect(c.ask('crash')).rejects.toMatchObject({ code: 'ERR_ACTOR_EXITED' });
    expect((await w.ask<Down>('down?')).reason).toMatchObject({ code: 'E_CRASH' });
    await expect(d.ask('who')).rejects.toMatchObject({ code: 'ERR_ACTOR_EXITED' });

    // A normal exit: the linked actor lives on, both ways.
    const e = await sys.spawn(linker, undefined, { thread: 1 });
    const f = await sys.spawn(linker, undefined, { thread: 2 });
    const g = await sys.spawn(linker, undefined, { thread: 2 });
    expect(await e.ask({ link: f })).toBe(true);
    expect(await g.ask({ link: e })).toBe(true);
    // NB: a watcher on e's thread, watching after the links are made: f's and g's exits reach e over the
    // 2→1 channel ahead of this watcher's Downs, so once it has both, e has heard of both exits.
    const w1 = await sys.spawn(watcher, undefined, { thread: 1 });
    expect(await w1.ask({ watch: f })).toBe(true);
    expect(await w1.ask({ watch: g })).toBe(true);
    expect(await f.ask('stop')).toBe('stopping');
    expect(await g.ask('stop')).toBe('stopping');
    expect(await w1.ask('down-summary?')).toMatchObject({ id: f.id, reason: 'normal' });
    expect(await w1.ask('down-summary?')).toMatchObject({ id: g.id, reason: 'normal' });
    expect(await e.ask('who')).toBe(e.id);
  });
});

describe('SupervisorRef.stop', () => {
  it('stops the children and resolves done; nothing restarts', async () => {
    const sys = await start(2);
    const t = await sys.spawn(tally, undefined, { thread: 'local' });
    const sup = await sys.supervise({ strategy: 'one_for_all', intensity: 3, periodMs: 10_000, children: [kid('a', t, 1), kid('b', t, 2), kid('c', t, 'local')] });
    await startsReach(t, 3);
    const kids = ['a', 'b', 'c'].map((id) => sys.whereis(id)!);
    const w = await sys.spawn(watcher, undefined, { thread: 'local' });
    for (const ref of kids) expect(await w.ask({ watch: ref })).toBe(true);

    await sup.stop();
    await expect(sup.done).resolves.toBeUndefined();
    const reasons: unknown[] = [];
    for (let i = 0; i < 3; i++) reasons.push((await w.ask<Down>('down?')).reason);
    expect(reasons).toEqual(['shutdown', 'shutdown', 'shutdown']);
    for (const ref of kids) await expect(ref.ask('who')).rejects.toMatchObject({ code: 'ERR_ACTOR_EXITED' });
    for (const id of ['a', 'b', 'c']) expect(sys.whereis(id)).toBeUndefined();
    expect((await t.ask<Counts>('counts')).total).toBe(3);
    await sup.stop(); // twice is fine
  });
});
