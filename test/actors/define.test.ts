// Actor definitions across threads: found by module and place, with no import of the defining module on
// the spawning side (an entry script awaiting its main() at top level spawns its own actors), and refused
// where a module defines differently per thread.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ActorSystem } from 'troupe/actors';
import { shifty } from '../fixtures/actors-conditional.mjs';

const ENTRY = fileURLToPath(new URL('../fixtures/actors-tla-entry.mjs', import.meta.url));

describe('actor definitions across threads', () => {
  it('an entry script that defines its actors and awaits main() at top level spawns them on a worker, exported or not', () => {
    const r = spawnSync(process.execPath, [ENTRY], { encoding: 'utf8', timeout: 30_000 });
    expect(r.error).toBeUndefined();
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('answers 42 15 on 1,1');
    expect(r.status).toBe(0);
  });

  it('a definition the module makes differently on another thread is refused there with ERR_INVALID_ARG_VALUE', async () => {
    const system = await ActorSystem.start({ threads: 1 });
    try {
      await expect(system.spawn(shifty, undefined, { thread: 1 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
      // Locally it is the main thread's own definition.
      const local = await system.spawn(shifty, undefined, { thread: 'local' });
      expect(await local.ask('hi')).toBe('main hi');
    } finally {
      await system.shutdown();
    }
  });
});
