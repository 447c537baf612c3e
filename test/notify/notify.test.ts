// notify.watch: changes per name with the right flags, coalesced; globs; add/remove; timeouts; the end of the
// directory; no watch or descriptor leaks; argument and state errors.
import { chmodSync, linkSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, rmdirSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Notifier, SystemError, monotime, notify, type FileChange } from 'troupe';
import { all, watches } from '../lib/notify-helpers.js';

const { CREATE, ATTRIB, MODIFY, REVOKE, DELETE, ALL } = notify;

let dir: string;
const open: Notifier[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'troupe-notify-'));
});
afterEach(() => {
  for (const n of open.splice(0)) n.close();
  rmSync(dir, { recursive: true, force: true });
});

function watch(path: string = dir, opts?: Parameters<typeof notify.watch>[1]): Notifier {
  const n = notify.watch(path, opts);
  open.push(n);
  return n;
}

describe('flags and names', () => {
  it('the constants have the original bit values', () => {
    expect([CREATE, ATTRIB, MODIFY, REVOKE, DELETE, ALL]).toEqual([1, 2, 4, 8, 16, 31]);
    expect(notify.strflag(CREATE | MODIFY)).toEqual(['CREATE', 'MODIFY']);
    expect(notify.strflag(ALL)).toEqual(['CREATE', 'ATTRIB', 'MODIFY', 'REVOKE', 'DELETE']);
    expect([...notify.flags(DELETE | ATTRIB)]).toEqual([ATTRIB, DELETE]);
  });

  it('reports create, modify, attrib and delete under the file name, each change coalesced per name', async () => {
    const n = watch();
    writeFileSync(join(dir, 'a.txt'), 'one'); // create + write: one change, CREATE|MODIFY
    expect(await n.get(5000)).toEqual({ flags: CREATE | MODIFY, name: 'a.txt' });
    writeFileSync(join(dir, 'a.txt'), 'two');
    writeFileSync(join(dir, 'a.txt'), 'three');
    expect(await n.get(5000)).toEqual({ flags: MODIFY, name: 'a.txt' });
    chmodSync(join(dir, 'a.txt'), 0o600);
    utimesSync(join(dir, 'a.txt'), 1, 1);
    expect(await n.get(5000)).toEqual({ flags: ATTRIB, name: 'a.txt' });
    unlinkSync(join(dir, 'a.txt'));
    expect(await n.get(5000)).toEqual({ flags: DELETE, name: 'a.txt' });
    expect(await n.get(50)).toBeNull();
  });

  it('keeps names apart and hands them out in the order they first changed', async () => {
    const n = watch();
    writeFileSync(join(dir, 'b'), '');
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'a'), 'x');
    writeFileSync(join(dir, 'b'), 'more'); // b is already pending: it keeps its place
    expect(await all(n)).toEqual([
      { flags: CREATE | MODIFY, name: 'b' },
      { flags: CREATE, name: 'sub' },
      { flags: CREATE | MODIFY, name: 'a' },
    ]);
  });

  it('a rename is DELETE of the old name and CREATE of the new; a file moved out is a DELETE', async () => {
    writeFileSync(join(dir, 'old'), 'x');
    const elsewhere = mkdtempSync(join(tmpdir(), 'troupe-notify-out-'));
    try {
      const n = watch();
      renameSync(join(dir, 'old'), join(dir, 'new'));
      expect(await all(n)).toEqual([{ flags: DELETE, name: 'old' }, { flags: CREATE, name: 'new' }]);
      renameSync(join(dir, 'new'), join(elsewhere, 'gone'));
      expect(await n.get(5000)).toEqual({ flags: DELETE, name: 'new' });
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('changes of the directory itself are reported as "."', async () => {
    const n = watch();
    chmodSync(dir, 0o755);
    expect(await n.get(5000)).toEqual({ flags: ATTRIB, name: '.' });
  });

  it('a trailing slash or a relative path watches the same directory; path is absolute', async () => {
    const n = watch(`${dir}/`);
    const m = watch(relative(process.cwd(), dir));
    expect(n.path).toBe(dir);
    expect(m.path).toBe(dir);
    writeFileSync(join(dir, 'x'), '');
    expect(await n.get(5000)).toEqual({ flags: CREATE, name: 'x' });
    expect(await m.get(5000)).toEqual({ flags: CREATE, name: 'x' });
  });
});

describe('globs', () => {
  it('report only names matching a pattern; "." always', async () => {
    const n = watch(dir, { glob: '*.log' });
    writeFileSync(join(dir, 'a.txt'), 'x');
    writeFileSync(join(dir, 'b.log'), 'x');
    writeFileSync(join(dir, '.hidden.log'), 'x'); // "*" does not match a leading dot
    chmodSync(dir, 0o755);
    expect(await all(n)).toEqual([{ flags: CREATE | MODIFY, name: 'b.log' }, { flags: ATTRIB, name: '.' }]);
  });

  it('take a list of patterns with classes and braces', async () => {
    const n = watch(dir, { glob: ['data-[0-9].csv', '*.{json,yaml}'] });
    for (const f of ['data-1.csv', 'data-x.csv', 'c.json', 'd.yaml', 'e.yml']) writeFileSync(join(dir, f), '');
    expect((await all(n)).map((c) => c.name)).toEqual(['data-1.csv', 'c.json', 'd.yaml']);
  });

  it('[] matches no name: only add()ed names and "." are reported', async () => {
    const n = watch(dir, { glob: [] });
    n.add('wanted');
    writeFileSync(join(dir, 'other'), '');
    writeFileSync(join(dir, 'wanted'), '');
    expect(await all(n)).toEqual([{ flags: CREATE, name: 'wanted' }]);
  });
});

describe('add(name)', () => {
  it('reports an add()ed name whatever the glob, with only the flags asked for', async () => {
    const n = watch(dir, { glob: '*.log' });
    n.add('config', MODIFY | DELETE);
    writeFileSync(join(dir, 'config'), 'v1'); // CREATE is not asked for: only MODIFY
    chmodSync(join(dir, 'config'), 0o600); // ATTRIB is not asked for: nothing
    expect(await all(n)).toEqual([{ flags: MODIFY, name: 'config' }]);
    n.add('config'); // again: all flags now
    chmodSync(join(dir, 'config'), 0o644);
    expect(await n.get(5000)).toEqual({ flags: ATTRIB, name: 'config' });
    expect(n.remove('config')).toBe(true);
    expect(n.remove('config')).toBe(false);
    writeFileSync(join(dir, 'config'), 'v2'); // removed, and "*.log" does not match
    expect(await n.get(100)).toBeNull();
  });

  it('watches the file itself: a write through a hard link in another directory is seen', async () => {
    writeFileSync(join(dir, 'shared'), '');
    writeFileSync(join(dir, 'plain'), '');
    const elsewhere = mkdtempSync(join(tmpdir(), 'troupe-notify-link-'));
    try {
      linkSync(join(dir, 'shared'), join(elsewhere, 'alias'));
      linkSync(join(dir, 'plain'), join(elsewhere, 'plain-alias'));
      const n = watch();
      n.add('shared');
      writeFileSync(join(elsewhere, 'alias'), 'via the other link');
      writeFileSync(join(elsewhere, 'plain-alias'), 'not add()ed: the directory does not see this');
      expect(await all(n)).toEqual([{ flags: MODIFY, name: 'shared' }]);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('a name added before it exists is watched once created, and again after it is replaced', async () => {
    const n = watch();
    n.add('later');
    expect(watches(n)).toBe(1); // only the directory
    writeFileSync(join(dir, 'later'), 'x');
    expect(await n.get(5000)).toEqual({ flags: CREATE | MODIFY, name: 'later' });
    expect(watches(n)).toBe(2);
    writeFileSync(join(dir, 'next'), 'y');
    renameSync(join(dir, 'next'), join(dir, 'later')); // replaces the file: its watch moves to the new one
    expect(await all(n)).toEqual([{ flags: CREATE | MODIFY | DELETE, name: 'next' }, { flags: CREATE, name: 'later' }]);
    expect(watches(n)).toBe(2);
  });
});

describe('watch descriptors', () => {
  it('every wd is freed: by remove(), by the file going, and with the last of two hard links', async () => {
    writeFileSync(join(dir, 'a'), '');
    linkSync(join(dir, 'a'), join(dir, 'b'));
    writeFileSync(join(dir, 'c'), '');
    const n = watch();
    expect(watches(n)).toBe(1);
    n.add('a');
    n.add('b'); // the same inode: one watch for both names
    n.add('c');
    expect(watches(n)).toBe(3);
    expect(n.remove('a')).toBe(true);
    expect(watches(n)).toBe(3); // b still holds it
    expect(n.remove('b')).toBe(true);
    expect(watches(n)).toBe(2);
    unlinkSync(join(dir, 'c'));
    // The file's own watch sees its link count drop (ATTRIB, as the original's NOTE_LINK), the directory the DELETE.
    expect(await all(n)).toEqual([{ flags: ATTRIB | DELETE, name: 'c' }]);
    expect(watches(n)).toBe(1);
    writeFileSync(join(dir, 'c'), ''); // still add()ed: watched again
    expect(await n.get(5000)).toEqual({ flags: CREATE, name: 'c' });
    expect(watches(n)).toBe(2);
    n.close();
    // The descriptor itself is gone (the leak gate checks that no fd stays open).
    expect(n.pollfd()).toBeUndefined();
  });

  it('the inotify descriptor is CLOEXEC and NONBLOCK', () => {
    const n = watch();
    const flags = parseInt(/flags:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${n.pollfd()}`, 'utf8'))![1]!, 8);
    expect(flags & 0o2000000).not.toBe(0); // O_CLOEXEC
    expect(flags & 0o4000).not.toBe(0); // O_NONBLOCK
  });
});

describe('timeouts and the end of the watch', () => {
  it('get() resolves null when the timeout passes, and get(0) polls once', async () => {
    const n = watch();
    const t0 = monotime();
    expect(await n.get(60)).toBeNull();
    const waited = monotime() - t0;
    expect(waited).toBeGreaterThanOrEqual(59);
    expect(waited).toBeLessThan(5000);
    expect(await n.get(0)).toBeNull();
    writeFileSync(join(dir, 'x'), '');
    expect(await n.get(0)).toEqual({ flags: CREATE, name: 'x' });
  });

  it('the directory deleted: "." DELETE|REVOKE, then null at once; every watch freed', async () => {
    const n = watch();
    writeFileSync(join(dir, 'f'), '');
    n.add('f');
    expect(await n.get(5000)).toEqual({ flags: CREATE, name: 'f' });
    rmSync(dir, { recursive: true });
    expect(await all(n)).toEqual([{ flags: ATTRIB | DELETE, name: 'f' }, { flags: DELETE | REVOKE, name: '.' }]);
    expect(watches(n)).toBe(0);
    const t0 = monotime();
    expect(await n.get()).toBeNull(); // no timeout, yet it returns: nothing can follow
    expect(monotime() - t0).toBeLessThan(1000);
    expect(n.timeout()).toBe(0);
  });

  it('the directory moved away: "." DELETE|REVOKE, and later changes in it are not reported', async () => {
    const moved = `${dir}-moved`;
    const n = watch();
    renameSync(dir, moved);
    try {
      expect(await n.get(5000)).toEqual({ flags: DELETE | REVOKE, name: '.' });
      expect(watches(n)).toBe(0);
      writeFileSync(join(moved, 'after'), '');
      expect(await n.get(100)).toBeNull();
    } finally {
      rmSync(moved, { recursive: true, force: true });
    }
  });

  it('changes() yields each change and ends after the REVOKE', async () => {
    const n = watch();
    writeFileSync(join(dir, 'one'), '');
    rmSync(dir, { recursive: true });
    const seen: FileChange[] = [];
    for await (const c of n.changes()) seen.push(c);
    expect(seen).toEqual([{ flags: CREATE | DELETE, name: 'one' }, { flags: DELETE | REVOKE, name: '.' }]);
  });

  it('changes(timeoutMs) ends when no change comes in time', async () => {
    const n = watch();
    writeFileSync(join(dir, 'x'), '');
    const seen: string[] = [];
    for await (const c of n.changes(100)) seen.push(c.name);
    expect(seen).toEqual(['x']);
  });

  it('close() ends a changes() iteration waiting for the next change', async () => {
    const n = watch();
    const seen: string[] = [];
    const loop = (async () => {
      for await (const c of n) {
        seen.push(c.name);
        if (c.name === 'first') setImmediate(() => n.close());
      }
    })();
    writeFileSync(join(dir, 'first'), '');
    await loop;
    expect(seen).toEqual(['first']);
  });

  it('close() rejects a get() waiting for a change with ERR_HANDLE_CLOSED', async () => {
    const n = watch();
    const waiting = n.get();
    setImmediate(() => n.close());
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_HANDLE_CLOSED' });
  });
});

describe('errors', () => {
  it('a missing directory is a SystemError ENOENT; a file is ENOTDIR; no descriptor is left open', () => {
    const missing = join(dir, 'missing');
    let err: unknown;
    try {
      notify.watch(missing);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SystemError);
    expect(err).toMatchObject({ code: 'ENOENT', errno: -2, syscall: 'inotify_add_watch', path: missing });
    writeFileSync(join(dir, 'file'), '');
    expect(() => notify.watch(join(dir, 'file'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
  });

  it('bad arguments throw TypeError/RangeError with Node codes, synchronously', () => {
    expect(() => notify.watch(42 as never)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => notify.watch('a\0b')).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => notify.watch(dir, null as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => notify.watch(dir, { glob: 5 as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => notify.watch(dir, { glob: ['*.a', 7] as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => notify.watch(dir, { glob: 'sub/*.log' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => notify.watch(dir, { glob: '' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => notify.watch(dir, { controller: {} as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));

    const n = watch();
    for (const bad of ['', '.', '..', 'a/b', 'a\0b']) {
      expect(() => n.add(bad)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }));
    }
    expect(() => n.add(5 as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    for (const flags of [0, 32, 1.5, NaN]) {
      expect(() => n.add('x', flags)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }));
    }
    expect(() => n.add('x'.repeat(256))).toThrow(expect.objectContaining({ code: 'ENAMETOOLONG' }));
    expect(() => n.remove(1 as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => n.get('soon' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => n.get(NaN)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => n.changes('soon' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(watches(n)).toBe(1); // nothing was watched by the refused calls
  });

  it('after close(): close again is fine; add/remove/changes throw and get rejects ERR_HANDLE_CLOSED', async () => {
    const n = watch();
    n.close();
    n.close();
    expect(n.closed).toBe(true);
    expect(n.pollfd()).toBeUndefined();
    expect(n.timeout()).toBeUndefined();
    const closed = expect.objectContaining({ code: 'ERR_HANDLE_CLOSED' });
    expect(() => n.add('x')).toThrow(closed);
    expect(() => n.remove('x')).toThrow(closed);
    expect(() => n.changes()).toThrow(closed);
    await expect(n.get(0)).rejects.toMatchObject({ code: 'ERR_HANDLE_CLOSED' });
  });

  it('await using closes it', async () => {
    let ref: Notifier | undefined;
    {
      await using n = notify.watch(dir);
      ref = n;
      expect(typeof n.pollfd()).toBe('number');
    }
    expect(ref.closed).toBe(true);
  });
});
