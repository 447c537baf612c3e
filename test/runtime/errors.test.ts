// Error classes: codes, errno, syscall and the failure of an unobserved root task.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { AbortError, RuntimeError, SystemError, sleep } from 'troupe';

describe('errors', () => {
  it('SystemError carries Node-style code, negative errno, syscall and address', () => {
    const e = new SystemError(111, 'connect', { address: '127.0.0.1', port: 9 });
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({ name: 'SystemError', code: 'ECONNREFUSED', errno: -111, syscall: 'connect', address: '127.0.0.1', port: 9 });
    expect(e.message).toBe('connect ECONNREFUSED 127.0.0.1:9');
    expect(new SystemError(-2, 'open', { path: '/nope' })).toMatchObject({ code: 'ENOENT', errno: -2, path: '/nope' });
  });

  it('RuntimeError and AbortError carry stable codes', () => {
    expect(new RuntimeError('ERR_HANDLE_CLOSED', 'closed')).toMatchObject({ name: 'RuntimeError', code: 'ERR_HANDLE_CLOSED' });
    expect(new AbortError()).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
  });

  it('bad arguments throw synchronously with Node argument codes', () => {
    expect(() => sleep('5' as never)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }));
    // Regress: sleep(NaN) once rejected with ERR_INVALID_ARG_TYPE where every other timeout says ERR_OUT_OF_RANGE.
    expect(() => sleep(NaN)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }));
  });

  it('a root task failing with nobody looping is an unhandled rejection, as a floating async function', () => {
    const script = `
      import { Controller } from 'troupe';
      Controller.root().wrap(async () => { throw Object.assign(new Error('lost'), { code: 'E_LOST' }); });
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: process.cwd(), encoding: 'utf8', timeout: 10_000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/ERR_TASK_FAILED|task \d+ failed: lost/);
  });

  it('a root task failure is reported to root.loop() instead when someone loops', () => {
    const script = `
      import { Controller } from 'troupe';
      const root = Controller.root();
      root.wrap(async () => { throw new Error('seen'); });
      try { await root.loop(1000); console.log('no error'); } catch (e) { console.log(e.code, e.cause.message); }
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: process.cwd(), encoding: 'utf8', timeout: 10_000 });
    expect(r.stdout.trim()).toBe('ERR_TASK_FAILED seen');
    expect(r.status).toBe(0);
  });
});
