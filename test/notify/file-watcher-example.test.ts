// examples/file-watcher.mjs as a child process: one line per change, globs, --add, the end of the directory.
import { spawn } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ROOT } from '../lib/example-process.js';

const TIMEOUT = 30_000;

let dir: string;
let staging: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'troupe-watcher-'));
  staging = mkdtempSync(join(tmpdir(), 'troupe-watcher-staging-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(staging, { recursive: true, force: true });
});

/** Runs the example; `lines(n)` waits for n lines of stdout; `exited` gives the code and stderr. */
function run(...args: string[]) {
  const child = spawn(process.execPath, ['examples/file-watcher.mjs', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let wake: () => void = () => {};
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    wake();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  // 'close' comes after the exit and after both pipes are closed: nothing of the child is left open here.
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.on('close', (code) => {
      wake();
      resolve({ code, stderr: err });
    }),
  );
  const lines = async (n: number): Promise<string[]> => {
    while (out.split('\n').length <= n) {
      if (child.exitCode !== null) throw new Error(`exited early; stdout ${JSON.stringify(out)}, stderr ${JSON.stringify(err)}`);
      await new Promise<void>((resolve) => (wake = resolve));
    }
    return out.split('\n').slice(0, n);
  };
  return { child, lines, exited, stdout: () => out };
}

/** Moves a file made elsewhere into the directory: one record, so one line (CREATE). */
function drop(name: string): void {
  writeFileSync(join(staging, name), name);
  renameSync(join(staging, name), join(dir, name));
}

describe('examples/file-watcher.mjs', () => {
  it('prints one line per change, filtered by --glob, and exits 0 once the directory is gone', { timeout: TIMEOUT }, async () => {
    const w = run(dir, '--glob', '*.txt', '--glob', '*.md', '--add', 'special.log');
    expect(await w.lines(1)).toEqual([`watching ${dir}`]);
    drop('skipped.log');
    drop('a.txt');
    await w.lines(2);
    drop('special.log');
    drop('b.md');
    await w.lines(4);
    rmSync(dir, { recursive: true });
    const { code, stderr } = await w.exited;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = w.stdout().trimEnd().split('\n');
    expect(lines.slice(0, 4)).toEqual([`watching ${dir}`, 'CREATE a.txt', 'CREATE special.log', 'CREATE b.md']);
    // The deletions come in the order rm chose, a name's flags on one line or split if the reads fell between
    // them; the directory's end is last.
    expect(lines.at(-1)).toBe('REVOKE|DELETE .');
    const flags = new Map<string, Set<string>>();
    for (const line of lines.slice(4, -1)) {
      const [names, name] = line.split(' ') as [string, string];
      for (const f of names.split('|')) flags.set(name, (flags.get(name) ?? new Set()).add(f));
    }
    expect(flags).toEqual(new Map([
      ['a.txt', new Set(['DELETE'])],
      ['special.log', new Set(['ATTRIB', 'DELETE'])], // add()ed: its own watch sees the link count drop
      ['b.md', new Set(['DELETE'])],
    ]));
    expect(lines.join('\n')).not.toContain('skipped');
  });

  it('SIGTERM ends it with 0; a missing directory is exit 1 with ENOENT; bad usage is exit 2', { timeout: TIMEOUT }, async () => {
    const w = run(dir);
    await w.lines(1);
    w.child.kill('SIGTERM');
    expect((await w.exited).code).toBe(0);

    const missing = run(join(dir, 'missing'));
    const m = await missing.exited;
    expect(m.code).toBe(1);
    expect(m.stderr).toMatch(/ENOENT/);

    for (const args of [[], [dir, dir], [dir, '--glob', 'a/b'], [dir, '--bogus']]) {
      const bad = run(...args);
      const b = await bad.exited;
      expect(b.code).toBe(2);
      expect(b.stderr).toMatch(/usage|ERR_INVALID_ARG_VALUE/);
    }
  });
});
