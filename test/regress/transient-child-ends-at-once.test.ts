// Regress: a supervisor watched a child only once spawn() had resolved. A transient child on a worker that
// ended normally before the watch arrived was reported as "no such actor" (ERR_ACTOR_EXITED), taken for a
// crash and restarted over and over until the supervisor gave up (ERR_SUPERVISOR_GAVE_UP).
import { afterEach, describe, expect, it } from 'vitest';
import { ActorSystem } from 'troupe/actors';
import { child, tally } from '../fixtures/actors-sup.mjs';

let system: ActorSystem | undefined;

afterEach(async () => {
  await system?.shutdown();
  system = undefined;
});

describe('a transient child that ends normally as soon as it starts', () => {
  it('is not restarted, on a worker or on the main thread', async () => {
    const sys = (system = await ActorSystem.start({ threads: 1 }));
    const t = await sys.spawn(tally, undefined, { thread: 'local' });
    const oneShot = (id: string, thread: 1 | 'local') => ({ id, actor: child, init: { id, tally: t, oneShot: true }, restart: 'transient' as const, thread });
    const sup = await sys.supervise({ strategy: 'one_for_one', intensity: 3, periodMs: 10_000, children: [oneShot('w', 1), oneShot('m', 'local')] });
    let settled = false;
    sup.done.then(() => (settled = true), () => (settled = true));
    // A permanent child crashed after them on the same thread: once it is back, their exits were handled.
    const p = await sys.supervise({ strategy: 'one_for_one', intensity: 3, periodMs: 10_000, children: [{ id: 'p', actor: child, init: { id: 'p', tally: t }, restart: 'permanent', thread: 1 }] });
    await expect(sys.whereis('p')!.ask('crash')).rejects.toMatchObject({ code: 'ERR_ACTOR_EXITED' });
    expect(await t.ask({ until: 4 }, { timeoutMs: 6000 })).toEqual({ total: 4, counts: { w: 1, m: 1, p: 2 } });
    expect(sys.whereis('w')).toBeUndefined();
    expect(sys.whereis('m')).toBeUndefined();
    expect(settled, 'the supervisor gave up').toBe(false);
    await p.stop();
    await sup.stop();
    await expect(sup.done).resolves.toBeUndefined();
  });
});
