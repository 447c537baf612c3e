// busyWait: a thread's loop polls briefly before it sleeps. What a test can see: bad limits are refused,
// timers and I/O go on as before, and busy waiting keeps no process alive.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Socket, busyWait } from 'troupe';

describe('busyWait', () => {
  it('refuses what is not a limit in 0..10000 µs, with codes', () => {
    for (const bad of [-1, 10_001, Number.NaN, Infinity]) {
      expect(() => busyWait(bad)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    }
    expect(() => busyWait('5' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });

  it('timers and socket I/O go on while the loop busy waits, and it turns off', async () => {
    expect(busyWait(10_000)).toBe(0); // it was off
    expect(busyWait(250)).toBe(10_000); // each call gives back the limit it replaces
    expect(busyWait(10_000)).toBe(250);
    const [a, b] = Socket.pair();
    try {
      for (let i = 0; i < 100; i++) {
        await a.write(`${i}\n`);
        expect(await b.read('*l')).toBe(String(i));
        await new Promise((r) => setTimeout(r, i % 10 === 0 ? 2 : 0));
      }
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, 30));
      expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
    } finally {
      expect(busyWait(0)).toBe(10_000);
      a.close();
      b.close();
    }
  });

  it('keeps no process alive: a program that turns it on and has nothing left to do exits', () => {
    const script = "import { busyWait } from 'troupe'; busyWait(10000); setTimeout(() => {}, 5); setTimeout(() => {}, 10);";
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: process.cwd(), encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(performance.now() - t0).toBeLessThan(15_000);
  });
});
