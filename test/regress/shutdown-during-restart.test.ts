// Regress: shutdown() while a dead thread was being restarted waited its whole timeout (5 s) for the new
// incarnation, whose link to the main thread was made after shutdown had closed the links it knew.
import { describe, expect, it } from 'vitest';
import { ActorSystem } from 'troupe/actors';
import { calc } from '../fixtures/actors-misc.mjs';

describe('ActorSystem.shutdown during a thread restart', () => {
  it('ends the new incarnation at once', async () => {
    const system = await ActorSystem.start({ threads: 1 });
    const remote = system.proxy<{ die(): void }>(await system.spawn(calc, undefined, { thread: 1 }));
    // The thread exits; the rejection comes from its link closing, which also starts the restart.
    await expect(remote.die()).rejects.toMatchObject({ code: 'ERR_ACTOR_EXITED' });
    const t0 = performance.now();
    await system.shutdown({ timeoutMs: 10_000 });
    expect(performance.now() - t0).toBeLessThan(3000);
  });
});
