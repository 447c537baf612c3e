// The package's entry points resolve by name, from inside the package and from worker threads.
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const EXPECTED = ['AbortError', 'Condition', 'Controller', 'Future', 'RuntimeError', 'SystemError', 'Task', 'TaskError', 'monotime', 'poll', 'sleep'];

describe('package entry points', () => {
  it("'troupe' and 'troupe/actors' resolve through package.json exports", async () => {
    const runtime = await import('troupe');
    for (const name of EXPECTED) expect(runtime).toHaveProperty(name);
    await expect(import('troupe/actors')).resolves.toBeDefined();
    const require = createRequire(import.meta.url);
    expect(require.resolve('troupe/package.json')).toMatch(/package\.json$/);
  });

  it('resolve the same way inside a worker thread', async () => {
    const got = await new Promise<{ runtime: string[]; actors: string[] }>((resolve, reject) => {
      const w = new Worker(new URL('../fixtures/entry-worker.mjs', import.meta.url));
      w.once('message', resolve);
      w.once('error', reject);
    });
    expect(got.runtime).toEqual(expect.arrayContaining(EXPECTED));
    expect(got.actors).toEqual(expect.arrayContaining(['ActorSystem', 'defineActor', 'ActorRef', 'Down']));
  });
});
