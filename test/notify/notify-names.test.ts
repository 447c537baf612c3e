// Names that are not UTF-8 (encoding 'utf8' and 'buffer'), and an add()ed name whose file cannot be watched
// again when it is replaced (REVOKE with the error).
import { spawn } from 'node:child_process';
import { appendFileSync, chmodSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Notifier, notify } from 'troupe';
import { all, watches } from '../lib/notify-helpers.js';
import { ROOT } from '../lib/example-process.js';

const { CREATE, ATTRIB, MODIFY, REVOKE, DELETE } = notify;
const RESCAN = CREATE | ATTRIB | MODIFY | DELETE;

let dir: string;
const open: Notifier<string | Buffer>[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'troupe-notify-names-'));
});
afterEach(() => {
  for (const n of open.splice(0)) n.close();
  rmSync(dir, { recursive: true, force: true });
});

function keep<T extends Notifier<string | Buffer>>(n: T): T {
  open.push(n);
  return n;
}

/** The bytes of a name: ASCII text, then the raw bytes given. */
function raw(text: string, ...bytes: number[]): Buffer {
  return Buffer.concat([Buffer.from(text), Buffer.from(bytes)]);
}

/** The directory's path joined with a name's bytes, for fs calls with Buffer paths. */
function at(name: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${dir}/`), name]);
}

describe('names that are not UTF-8', () => {
  it("with 'utf8' (the default) they are neither merged into one mangled name nor lost: \".\" says rescan", async () => {
    const n = keep(notify.watch(dir));
    writeFileSync(at(raw('a', 0xff)), '');
    writeFileSync(at(raw('a', 0xfe)), '');
    writeFileSync(join(dir, 'ok'), '');
    const got = await all(n);
    expect(got).toEqual([{ flags: RESCAN, name: '.' }, { flags: CREATE, name: 'ok' }]);
    expect(got.some((c) => c.name.includes('\ufffd'))).toBe(false);
  });

  it("with 'utf8', a glob decides on the name decoded (U+FFFD for bad bytes)", async () => {
    const n = keep(notify.watch(dir, { glob: '*.log' }));
    writeFileSync(at(raw('x', 0xff, 0x2e, 0x74, 0x78, 0x74)), ''); // x\xff.txt
    writeFileSync(join(dir, 'plain.txt'), '');
    expect(await n.get(200)).toBeNull();
    writeFileSync(at(raw('y', 0xff, 0x2e, 0x6c, 0x6f, 0x67)), ''); // y\xff.log
    expect(await all(n)).toEqual([{ flags: RESCAN, name: '.' }]);
  });

  it("with encoding 'buffer' every name is its bytes, kept apart, and can be add()ed and removed", async () => {
    const a = raw('a', 0xff);
    const b = raw('a', 0xfe);
    const n = keep(notify.watch(dir, { encoding: 'buffer' }));
    writeFileSync(at(a), '');
    writeFileSync(at(b), '');
    writeFileSync(join(dir, 'ok'), '');
    chmodSync(dir, 0o755);
    expect(await all(n)).toEqual([
      { flags: CREATE, name: a },
      { flags: CREATE, name: b },
      { flags: CREATE, name: Buffer.from('ok') },
      { flags: ATTRIB, name: Buffer.from('.') },
    ]);
    n.add(a, MODIFY);
    n.add('ok'); // a string names the same bytes
    expect(watches(n)).toBe(3);
    appendFileSync(at(a), 'x');
    appendFileSync(at(b), 'x');
    expect(await all(n)).toEqual([{ flags: MODIFY, name: a }, { flags: MODIFY, name: b }]);
    // Replaced: the watch follows it to the new file, found by its bytes.
    writeFileSync(join(dir, 'staging'), '');
    renameSync(join(dir, 'staging'), at(a));
    await all(n);
    expect(watches(n)).toBe(3);
    expect(n.remove(Buffer.from(a))).toBe(true);
    expect(n.remove(new Uint8Array(Buffer.from('ok')))).toBe(true);
    expect(watches(n)).toBe(1);
  });

  it("add() of a name that is not UTF-8 needs encoding 'buffer'; a bad encoding is refused", () => {
    const n = keep(notify.watch(dir));
    expect(() => n.add(raw('a', 0xff))).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => n.add(raw('a/', 0x62))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => n.add(Buffer.alloc(256, 0x61))).toThrow(expect.objectContaining({ code: 'ENAMETOOLONG' }));
    expect(() => notify.watch(dir, { encoding: 'latin1' as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(watches(n)).toBe(1);
  });
});

// The watcher runs as nobody when the tests run as root (root would be let through the file's mode 000,
// CAP_DAC_OVERRIDE); otherwise as the test's own user, whom mode 000 keeps out as well.
const NOT_ROOT = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};

describe('an add()ed name whose new file cannot be watched', () => {
  const CHILD = `
    import { readFileSync } from 'node:fs';
    import { notify } from 'troupe';
    const n = notify.watch(process.argv[1], { glob: [] }); // only the add()ed name
    n.add('target', ${MODIFY});
    const watches = () => readFileSync('/proc/self/fdinfo/' + n.pollfd(), 'utf8').split('inotify wd:').length - 1;
    console.log(JSON.stringify({ ready: watches() }));
    for await (const c of n.changes(10000)) {
      console.log(JSON.stringify({ flags: c.flags, name: c.name, error: c.error?.code, syscall: c.error?.syscall, watches: watches() }));
    }
  `;

  it('is reported with REVOKE and the SystemError, stays add()ed, and is watched again once replaced', async () => {
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'target'), 'v1');
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, dir], {
      cwd: ROOT,
      ...NOT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let wake = (): void => {};
    child.stdout!.setEncoding('utf8').on('data', (d: string) => ((out += d), wake()));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    const closed = new Promise<void>((resolve) => child.on('close', () => (wake(), resolve())));
    const lines = async (count: number): Promise<Record<string, unknown>[]> => {
      while (out.split('\n').length <= count) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`child ended: ${out} ${err}`);
        await new Promise<void>((resolve) => (wake = resolve));
      }
      return out.split('\n').slice(0, count).map((l) => JSON.parse(l) as Record<string, unknown>);
    };
    try {
      expect((await lines(1))[0]).toEqual({ ready: 2 });
      // Replaced by a file nobody may read: inotify_add_watch fails with EACCES.
      writeFileSync(join(dir, 'locked'), 'v2', { mode: 0o000 });
      renameSync(join(dir, 'locked'), join(dir, 'target'));
      // Only MODIFY was asked for, yet the REVOKE comes, with the reason.
      expect((await lines(2))[1]).toEqual({ flags: REVOKE, name: 'target', error: 'EACCES', syscall: 'inotify_add_watch', watches: 1 });
      // Replaced by a readable file again: watched again, and its writes are reported.
      writeFileSync(join(dir, 'open'), 'v3', { mode: 0o644 });
      renameSync(join(dir, 'open'), join(dir, 'target'));
      appendFileSync(join(dir, 'target'), 'more');
      expect((await lines(3))[2]).toEqual({ flags: MODIFY, name: 'target', watches: 2 });
    } finally {
      child.kill('SIGTERM');
      await closed;
    }
    expect(err).toBe('');
  });
});
