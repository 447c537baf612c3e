// Regress: an aborted offload rejected with piscina's AbortError (no code) on the main thread, with the
// bare signal reason in an actor on a worker, and an actor on the main thread could not abort at all: its
// signal was dropped on the way to the pool (the ask waited for the whole task). API.md: aborts reject
// with AbortError, code 'ABORT_ERR'.
import { describe, expect, it } from 'vitest';
import { ActorSystem } from 'troupe/actors';
import { offloader } from '../fixtures/actors-misc.mjs';

const filename = new URL('../fixtures/offload-task.mjs', import.meta.url).href;

describe('an aborted offload', () => {
  it("rejects with code ABORT_ERR from the system and from actors on any thread; the pool's thread is freed", async () => {
    const system = await ActorSystem.start({ threads: 1, offload: { filename, maxThreads: 1 } });
    try {
      const ac = new AbortController();
      const direct = system.offload({ a: 1, b: 1, slowMs: 10_000 }, { signal: ac.signal });
      ac.abort();
      await expect(direct).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
      for (const thread of [1, 'local'] as const) {
        const ref = await system.spawn(offloader, undefined, { thread });
        await expect(ref.ask({ a: 1, b: 1, slowMs: 10_000, abortMs: 20 }, { timeoutMs: 3000 })).rejects.toMatchObject({ code: 'ABORT_ERR' });
        expect(await ref.ask({ a: 2, b: 2 }, { timeoutMs: 3000 })).toBe(4);
      }
    } finally {
      await system.shutdown();
    }
  });
});
