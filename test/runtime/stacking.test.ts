// Controllers stacked on controllers: an inner loop never blocks the outer one, and nesting has a clear limit.
import { describe, expect, it } from 'vitest';
import { Controller, monotime, sleep } from 'troupe';

describe('stacking', () => {
  it('an inner loop awaited inside an outer task does not block the outer controller', async () => {
    const outer = new Controller();
    const inner = new Controller({ controller: outer });
    const events: string[] = [];
    inner.wrap(async () => {
      await inner.sleep(30);
      events.push('inner done');
    });
    outer.wrap(async () => {
      await inner.loop();
      events.push('inner loop returned');
    });
    let ticks = 0;
    outer.wrap(async () => {
      for (let i = 0; i < 5; i++) {
        await outer.sleep(2);
        ticks++;
      }
      events.push('ticker done');
    });
    await outer.loop();
    expect(ticks).toBe(5);
    expect(events).toEqual(['ticker done', 'inner done', 'inner loop returned']);
    inner.close();
    outer.close();
  });

  it("a wrap() on an idle inner controller from another task wakes the outer poll", async () => {
    const outer = new Controller();
    const inner = new Controller({ controller: outer });
    let woke: unknown[] | undefined;
    let wokeAt = 0;
    let wrappedAt = 0;
    outer.wrap(async () => {
      woke = await outer.poll(inner, 5000);
      wokeAt = monotime();
      await inner.loop();
    });
    outer.wrap(async () => {
      await outer.sleep(30);
      wrappedAt = monotime();
      inner.wrap(() => {});
    });
    await outer.loop();
    expect(woke).toEqual([inner]);
    expect(wokeAt).toBeGreaterThanOrEqual(wrappedAt);
    expect(wokeAt - wrappedAt).toBeLessThan(1000);
    expect(inner.empty()).toBe(true);
    inner.close();
    outer.close();
  });

  it('the root keeps serving while a stacked controller loops', async () => {
    const c = new Controller();
    c.wrap(() => c.sleep(50));
    let rootTicks = 0;
    const ticker = (async () => {
      while (rootTicks < 10) {
        await sleep(1);
        rootTicks++;
      }
    })();
    await c.loop();
    await ticker;
    expect(rootTicks).toBe(10);
    c.close();
  });

  it('nesting deeper than the kernel allows fails with ELOOP, not a hang', async () => {
    const chain = [new Controller()];
    for (let i = 1; i < 8; i++) chain.push(new Controller({ controller: chain[i - 1] }));
    // Each level starts the next from inside its own task, so the stack grows from the top down.
    const nest = (k: number) => async (): Promise<void> => {
      const next = chain[k + 1];
      if (next === undefined) return chain[k]!.sleep(10);
      next.wrap(nest(k + 1));
      await next.loop();
    };
    chain[0]!.wrap(nest(0));
    const err = await chain[0]!.loop(10_000).catch((e: unknown) => e);
    let cause = err as { code?: string; cause?: unknown; message?: string };
    let depth = 0;
    while (cause?.code === 'ERR_TASK_FAILED') {
      cause = cause.cause as typeof cause;
      depth++;
    }
    expect(cause).toMatchObject({ code: 'ELOOP', syscall: 'epoll_ctl' });
    expect(cause.message).toMatch(/nest/);
    // Some controllers did stack before the kernel refused.
    expect(depth).toBeGreaterThanOrEqual(2);
    for (const c of chain.reverse()) c.close();
  });
});
