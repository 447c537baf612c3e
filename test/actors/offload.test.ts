// offload: CPU-bound tasks on the system's piscina pool, from the main thread and from an actor on a worker
// thread (its call goes through the main thread), and aborting a task with an AbortSignal.
import { describe, expect, it } from 'vitest';
import { ActorSystem } from 'troupe/actors';
import { offloader } from '../fixtures/actors-misc.mjs';

const TASK = new URL('../fixtures/offload-task.mjs', import.meta.url).href;

function start(): Promise<ActorSystem> {
  return ActorSystem.start({ threads: 1, offload: { filename: TASK, maxThreads: 1, minThreads: 1 } });
}

describe('offload', () => {
  it('runs a task on the pool', async () => {
    const system = await start();
    try {
      expect(await system.offload({ a: 2, b: 3 })).toBe(5);
      const sums = await Promise.all(Array.from({ length: 10 }, (_, i) => system.offload<number>({ a: i, b: i })));
      expect(sums).toEqual(Array.from({ length: 10 }, (_, i) => 2 * i));
    } finally {
      await system.shutdown();
    }
  });

  it('an actor on a worker thread offloads and replies with the result', async () => {
    const system = await start();
    try {
      const ref = await system.spawn(offloader, undefined, { thread: 1 });
      expect(ref.thread).toBe(1);
      expect(await ref.ask({ a: 2, b: 3 })).toBe(5);
      expect(await Promise.all([ref.ask({ a: 1, b: 1 }), ref.ask({ a: 40, b: 2 })])).toEqual([2, 42]);
    } finally {
      await system.shutdown();
    }
  });

  it('an aborted signal rejects a slow task with AbortError; the pool serves on', async () => {
    const system = await start();
    try {
      const ac = new AbortController();
      const slow = system.offload({ a: 1, b: 1, slowMs: 10_000 }, { signal: ac.signal });
      const t0 = performance.now();
      ac.abort();
      await expect(slow).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
      expect(performance.now() - t0).toBeLessThan(5000);
      // An already aborted signal rejects at once.
      await expect(system.offload({ a: 1, b: 1 }, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORT_ERR' });
      expect(await system.offload({ a: 3, b: 4 })).toBe(7);
    } finally {
      await system.shutdown();
    }
  });

  for (const thread of [1, 'local'] as const) {
    it(`an aborted offload of an actor on thread ${thread} rejects there with AbortError; the pool serves on`, async () => {
      const system = await start();
      try {
        const ref = await system.spawn(offloader, undefined, { thread });
        const t0 = performance.now();
        // The actor replies with the error it caught, which makes the ask reject with it.
        const err = await ref.ask({ a: 1, b: 1, slowMs: 10_000, abortMs: 50 }, { timeoutMs: 8000 }).catch((e: unknown) => e);
        expect(err).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', cause: { name: 'TimeoutError' } });
        expect(performance.now() - t0).toBeLessThan(5000);
        // The pool's one thread is free again: the aborted task was cancelled there, not left running.
        expect(await ref.ask({ a: 5, b: 6 }, { timeoutMs: 5000 })).toBe(11);
      } finally {
        await system.shutdown();
      }
    });
  }

  it('offload() without the offload option rejects with ERR_INVALID_STATE', async () => {
    const system = await ActorSystem.start({ threads: 0 });
    try {
      await expect(system.offload({ a: 1, b: 2 })).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    } finally {
      await system.shutdown();
    }
  });
});
