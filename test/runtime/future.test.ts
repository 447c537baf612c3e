// Future: settle once, get with a timeout, poll and await it.
import { describe, expect, it } from 'vitest';
import { Future, monotime, poll, sleep } from 'troupe';

describe('Future', () => {
  it('resolves once; a second settle throws ERR_FUTURE_SETTLED', async () => {
    const f = new Future<number>();
    expect(f.status()).toBe('pending');
    f.resolve(7);
    expect(f.status()).toBe('fulfilled');
    expect(() => f.resolve(8)).toThrow(expect.objectContaining({ code: 'ERR_FUTURE_SETTLED' }));
    expect(() => f.reject(new Error('late'))).toThrow(expect.objectContaining({ code: 'ERR_FUTURE_SETTLED' }));
    expect(await f.get()).toBe(7);
    expect(await f).toBe(7);
  });

  it('rejects once; get() throws the reason', async () => {
    const f = new Future<number>();
    const reason = Object.assign(new Error('nope'), { code: 'E_NOPE' });
    f.reject(reason);
    expect(f.status()).toBe('rejected');
    expect(() => f.resolve(1)).toThrow(expect.objectContaining({ code: 'ERR_FUTURE_SETTLED' }));
    await expect(f.get()).rejects.toBe(reason);
    await expect(Promise.resolve(f)).rejects.toBe(reason);
  });

  it('get(timeout) rejects with ETIMEDOUT while pending, and resolves when settled in time', async () => {
    const f = new Future<string>();
    expect(() => f.get(NaN)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => f.wait('1' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    const t0 = monotime();
    await expect(f.get(30)).rejects.toMatchObject({ code: 'ETIMEDOUT', errno: -110 });
    expect(monotime() - t0).toBeGreaterThanOrEqual(30);
    expect(await f.wait(10)).toBe(false);
    setTimeout(() => f.resolve('late but in time'), 10);
    expect(await f.get(5000)).toBe('late but in time');
    expect(await f.wait(0)).toBe(true);
  });

  it('runs a function as a task with its arguments and settles with its outcome', async () => {
    const ok = new Future(async (a: number, b: number) => {
      await sleep(5);
      return a + b;
    }, 2, 3);
    expect(await ok.get(5000)).toBe(5);
    const bad = new Future(() => {
      throw new RangeError('bad');
    });
    await expect(bad.get(5000)).rejects.toBeInstanceOf(RangeError);
  });

  it('is pollable: ready once settled, at once if already settled', async () => {
    const f = new Future<void>();
    const p = poll(f, 5000);
    await sleep(5);
    f.resolve();
    expect(await p).toEqual([f]);
    expect(await poll(f, 5000)).toEqual([f]);
  });
});
