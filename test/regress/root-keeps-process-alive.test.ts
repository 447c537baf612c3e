// Regress: a process that only created the root controller never exited (its uv_poll started ref'd).
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';

function run(script: string) {
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: process.cwd(), encoding: 'utf8', timeout: 10_000 });
}

it('a process exits once nothing waits on the root controller', () => {
  const r = run(`import { Controller } from 'troupe'; Controller.root(); console.log('done');`);
  expect(r.error).toBeUndefined(); // no timeout
  expect(r.status).toBe(0);
  expect(r.stdout.trim()).toBe('done');
});

it('but stays alive while a root task sleeps, and runs it to the end', () => {
  const r = run(`import { Controller } from 'troupe'; const root = Controller.root(); root.wrap(async () => { await root.sleep(50); console.log('woke'); });`);
  expect(r.status).toBe(0);
  expect(r.stdout.trim()).toBe('woke');
});
