// Each worker thread has its own root controller, embedded in that thread's event loop.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Controller, sleep } from 'troupe';

function runWorker(): Promise<{ fd: number; slept: number; value: number; same: boolean }> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('../fixtures/root-worker.mjs', import.meta.url));
    let msg: { fd: number; slept: number; value: number; same: boolean } | undefined;
    w.once('message', (m) => (msg = m));
    w.once('error', reject);
    w.once('exit', (code) => (code === 0 && msg ? resolve(msg) : reject(new Error(`worker exited ${code}`))));
  });
}

describe('root controller per thread', () => {
  it('each worker gets its own root controller, which runs tasks and timers', async () => {
    const main = Controller.root();
    const [a, b] = await Promise.all([runWorker(), runWorker()]);
    for (const r of [a, b]) {
      expect(r.same).toBe(true);
      expect(r.value).toBe(42);
      expect(r.slept).toBeGreaterThanOrEqual(20);
      expect(r.fd).not.toBe(main.pollfd());
    }
    expect(a.fd).not.toBe(b.fd);
    // The main thread's root is untouched and still works.
    await sleep(1);
    expect(Controller.root()).toBe(main);
  });
});
