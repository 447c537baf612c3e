// Regress: comlink releases a proxy (releaseProxy, or its FinalizationRegistry once the proxy is collected)
// with a RELEASE message. The exposing actor took it as the end of its one exposure, so every other proxy
// of that actor, and every later one, was refused ('not a comlink message'). And a release after the
// system had shut down threw from the endpoint ('no actor system runs in this thread'): from the
// finalizer, an uncaught error that ended the process.
import { describe, expect, it } from 'vitest';
import { releaseProxy } from 'comlink/dist/esm/comlink.mjs';
import { ActorSystem } from 'troupe/actors';
import { calc } from '../fixtures/actors-misc.mjs';

interface Calc {
  add(a: number, b: number): number;
}

describe('releasing a comlink proxy', () => {
  it('leaves the actor serving its other proxies and new ones', async () => {
    const system = await ActorSystem.start({ threads: 1 });
    try {
      const ref = await system.spawn(calc, undefined, { thread: 1 });
      const p1 = system.proxy<Calc>(ref);
      const p2 = system.proxy<Calc>(ref);
      expect(await p1.add(1, 1)).toBe(2);
      p1[releaseProxy](); // its RELEASE reaches the actor before p2's call (FIFO per sender and receiver)
      expect(await p2.add(3, 3)).toBe(6);
      expect(await system.proxy<Calc>(ref).add(4, 4)).toBe(8);
    } finally {
      await system.shutdown();
    }
  });

  it('after shutdown settles quietly', async () => {
    const system = await ActorSystem.start({ threads: 1 });
    const p = system.proxy<Calc>(await system.spawn(calc, undefined, { thread: 1 }));
    expect(await p.add(1, 2)).toBe(3);
    await system.shutdown();
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown): void => void unhandled.push(err);
    process.on('unhandledRejection', onUnhandled);
    try {
      expect(() => p[releaseProxy]()).not.toThrow();
      // A rejection nobody handles is reported once the turn's microtasks have run.
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
