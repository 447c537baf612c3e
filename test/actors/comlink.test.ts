// comlink proxies over actors: calls, errors that keep their codes, and calls that reject (never hang)
// once the actor exits — by itself, crashing, killed by its supervisor, or with its thread.
import { afterEach, describe, expect, it } from 'vitest';
import { sleep } from 'troupe';
import { ActorSystem, type ActorRef } from 'troupe/actors';
import { calc } from '../fixtures/actors-misc.mjs';

interface Calc {
  add(a: number, b: number): number;
  fail(): Promise<void>;
  hang(): Promise<void>;
  quit(): void;
  die(): void;
  spin(): void;
}

let system: ActorSystem | undefined;

afterEach(async () => {
  await system?.shutdown();
  system = undefined;
});

async function exposed(opts: { threads?: number; watchdogMs?: number } = {}): Promise<ActorRef<unknown>> {
  system = await ActorSystem.start({ threads: opts.threads ?? 1, watchdogMs: opts.watchdogMs });
  return system.spawn(calc, undefined, { thread: 1 });
}

/** What a promise settled with, as `{ ok, value }`; a settled promise is never left unobserved. */
function settled<T>(p: Promise<T>): Promise<{ ok: boolean; value: any }> {
  return p.then(
    (value) => ({ ok: true, value }),
    (value: unknown) => ({ ok: false, value }),
  );
}

describe('system.proxy (comlink)', () => {
  it('calls a method of an actor on a worker thread', async () => {
    const ref = await exposed();
    const remote = system!.proxy<Calc>(ref);
    expect(await remote.add(2, 3)).toBe(5);
    const many = await Promise.all(Array.from({ length: 100 }, (_, i) => remote.add(i, 1)));
    expect(many).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });

  it('a thrown error keeps its code and errno', async () => {
    const ref = await exposed();
    const remote = system!.proxy<Calc>(ref);
    const err = await remote.fail().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ message: 'no', code: 'E_NO', errno: -5 });
    // The actor lives on after a failed call.
    expect(await remote.add(1, 1)).toBe(2);
  });

  it('a pending call rejects with ERR_ACTOR_EXITED when the actor exits, and later calls reject too', async () => {
    const ref = await exposed();
    const remote = system!.proxy<Calc>(ref);
    const pending = settled(remote.hang());
    const quit = await settled(remote.quit());
    expect(quit.ok).toBe(false);
    expect(quit.value.code).toBe('ERR_ACTOR_EXITED');
    const hang = await pending;
    expect(hang.ok).toBe(false);
    expect(hang.value.code).toBe('ERR_ACTOR_EXITED');
    expect((await settled(remote.add(1, 2))).value.code).toBe('ERR_ACTOR_EXITED');
    expect((await settled(remote.hang())).value.code).toBe('ERR_ACTOR_EXITED');
  });

  it('a pending call rejects when the actor crashes; the exit reason is its cause', async () => {
    const ref = await exposed();
    const remote = system!.proxy<Calc>(ref);
    const pending = settled(remote.hang());
    expect(await remote.add(0, 0)).toBe(0); // the hang call is with the actor by now
    await ref.send('crash');
    const hang = await pending;
    expect(hang.value.code).toBe('ERR_ACTOR_EXITED');
    expect(hang.value.cause).toMatchObject({ code: 'E_CRASH' });
    expect((await settled(remote.add(1, 2))).value.code).toBe('ERR_ACTOR_EXITED');
  });

  it('a pending call rejects when the supervisor stops the actor', async () => {
    system = await ActorSystem.start({ threads: 1 });
    const sup = await system.supervise({
      strategy: 'one_for_one',
      intensity: 1,
      periodMs: 1000,
      children: [{ id: 'calc', actor: calc, restart: 'permanent', thread: 1 }],
    });
    const remote = system.proxy<Calc>(system.whereis('calc')!);
    expect(await remote.add(20, 22)).toBe(42);
    const pending = settled(remote.hang());
    await sup.stop();
    expect((await pending).value.code).toBe('ERR_ACTOR_EXITED');
    expect((await settled(remote.add(1, 2))).value.code).toBe('ERR_ACTOR_EXITED');
  });

  it('a pending call rejects when the actor\'s thread exits', async () => {
    const ref = await exposed();
    const remote = system!.proxy<Calc>(ref);
    const pending = settled(remote.hang());
    const die = await settled(remote.die());
    expect(die.value.code).toBe('ERR_ACTOR_EXITED');
    expect((await pending).value.code).toBe('ERR_ACTOR_EXITED');
    expect((await settled(remote.add(1, 2))).value.code).toBe('ERR_ACTOR_EXITED');
    // The thread is restarted: a new actor there answers.
    const again = system!.proxy<Calc>(await system!.spawn(calc, undefined, { thread: 1 }));
    expect(await again.add(3, 4)).toBe(7);
  });

  it('a call that hangs its thread in a busy loop rejects once the watchdog restarts the thread', async () => {
    const ref = await exposed({ watchdogMs: 100 });
    const remote = system!.proxy<Calc>(ref);
    const pending = settled(remote.hang());
    const t0 = performance.now();
    const spin = await settled(remote.spin());
    expect(spin.value.code).toBe('ERR_ACTOR_EXITED');
    // Its cause says the thread hung (not merely that it is gone).
    expect(spin.value.cause?.cause?.message).toMatch(/thread 1 hung/);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect((await pending).value.code).toBe('ERR_ACTOR_EXITED');
    expect((await settled(remote.add(1, 2))).value.code).toBe('ERR_ACTOR_EXITED');
    // Detected and replaced once, not more.
    for (let i = 0; i < 500 && system!.stats().threads[1]!.restarts === 0; i++) await sleep(10);
    expect(system!.stats().threads[1]!.restarts).toBe(1);
  });
});
