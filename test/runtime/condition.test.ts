// Condition: FIFO/LIFO wake order, signal counts, no memory, waiters across controllers, mixed polls.
import { describe, expect, it } from 'vitest';
import { Condition, Controller, monotime, poll } from 'troupe';

async function wakeOrder(lifo: boolean): Promise<number[]> {
  const cv = new Condition({ lifo });
  const c = new Controller();
  const order: number[] = [];
  for (let i = 1; i <= 3; i++) {
    c.wrap(async () => {
      await c.poll(cv);
      order.push(i);
    });
  }
  await c.step(); // all three are waiting now, in creation order
  expect(cv.waiters).toBe(3);
  for (let i = 0; i < 3; i++) {
    expect(cv.signal(1)).toBe(1);
    await c.step();
  }
  await c.loop();
  c.close();
  return order;
}

describe('Condition', () => {
  it('wakes the oldest waiter first by default', async () => {
    expect(await wakeOrder(false)).toEqual([1, 2, 3]);
  });

  it('wakes the newest waiter first with lifo', async () => {
    expect(await wakeOrder(true)).toEqual([3, 2, 1]);
  });

  it('signal() returns how many it woke', async () => {
    const cv = new Condition();
    const waits = [cv.wait(), cv.wait(), cv.wait()];
    expect(cv.signal(2)).toBe(2);
    expect(cv.signal()).toBe(1);
    expect(cv.signal()).toBe(0);
    expect(await Promise.all(waits)).toEqual([true, true, true]);
  });

  it('does not remember a signal sent before anyone waits', async () => {
    const cv = new Condition();
    expect(cv.signal()).toBe(0);
    const t0 = monotime();
    expect(await cv.wait(30)).toBe(false);
    expect(monotime() - t0).toBeGreaterThanOrEqual(30);
  });

  it('one signal wakes waiters on several controllers', async () => {
    const cv = new Condition();
    const a = new Controller();
    const b = new Controller();
    const woke: string[] = [];
    a.wrap(async () => {
      expect(await a.poll(cv, 5000)).toEqual([cv]);
      woke.push('a');
    });
    b.wrap(async () => {
      expect(await b.poll(cv, 5000)).toEqual([cv]);
      woke.push('b');
    });
    const onRoot = cv.wait(5000).then((ok) => {
      woke.push(`root:${ok}`);
    });
    await a.step();
    await b.step();
    expect(cv.waiters).toBe(3);
    expect(cv.signal()).toBe(3);
    await Promise.all([a.loop(), b.loop(), onRoot]);
    expect(woke.sort()).toEqual(['a', 'b', 'root:true']);
    a.close();
    b.close();
  });

  it('wait() returns false when something else it polls is ready first', async () => {
    const cv = new Condition();
    const other = new Condition();
    const p = cv.wait(other, 5000);
    other.signal();
    expect(await p).toBe(false);
    // The abandoned wait does not count as a waiter any more.
    expect(cv.waiters).toBe(0);
    expect(cv.signal()).toBe(0);
  });

  it('can be polled together with other objects, returned in argument order', async () => {
    const a = new Condition();
    const b = new Condition();
    const p = poll(a, b);
    b.signal();
    a.signal();
    expect(await p).toEqual([a, b]);
  });

  it('does not grow when waits keep timing out without a signal', async () => {
    const cv = new Condition();
    for (let i = 0; i < 200; i++) expect(await cv.wait(0)).toBe(false);
    expect(cv.waiters).toBe(0);
    const p = cv.wait(5000);
    expect(cv.signal()).toBe(1);
    expect(await p).toBe(true);
  });

  it('skips waiters of a closed controller', async () => {
    const cv = new Condition();
    const c = new Controller();
    c.wrap(() => c.poll(cv));
    await c.step();
    c.close();
    expect(cv.signal()).toBe(0);
  });

  it('rejects bad arguments with Node codes', () => {
    expect(() => new Condition(3 as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => new Condition().signal('x' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });
});
