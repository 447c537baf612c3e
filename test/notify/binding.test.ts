// The inotify binding: numbers, a path and caller-owned arrays in; a result or -errno out; bad arguments throw.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FLAG_CLOEXEC, FLAG_NONBLOCK, addon } from '../../runtime/native.js';

const I = addon.inotifyConstants;
const { EAGAIN, EBADF, EINVAL, ENOENT, ENOTDIR } = constants.errno;

describe('inotify binding', () => {
  it('init, add, read records with names, remove, close', () => {
    const dir = mkdtempSync(join(tmpdir(), 'troupe-inotify-'));
    const fd = addon.inotifyInit();
    try {
      expect(addon.fdFlags(fd)).toBe(FLAG_CLOEXEC | FLAG_NONBLOCK);
      const wd = addon.inotifyAddWatch(fd, dir, I.IN_CREATE! | I.IN_DELETE! | I.IN_ONLYDIR!);
      expect(wd).toBeGreaterThan(0);
      expect(addon.inotifyAddWatch(fd, join(dir, 'nope'), I.IN_CREATE!)).toBe(-ENOENT);
      writeFileSync(join(dir, 'f'), '');
      expect(addon.inotifyAddWatch(fd, join(dir, 'f'), I.IN_ONLYDIR!)).toBe(-ENOTDIR);
      const buf = Buffer.alloc(4096);
      const out = new Int32Array((4096 / 16) * 5);
      rmSync(join(dir, 'f'));
      expect(addon.inotifyRead(fd, buf, out)).toBe(2);
      const names = [0, 5].map((k) => buf.toString('utf8', out[k + 3]!, out[k + 3]! + out[k + 4]!));
      expect(names).toEqual(['f', 'f']);
      expect([out[1]! & I.IN_CREATE!, out[6]! & I.IN_DELETE!]).toEqual([I.IN_CREATE, I.IN_DELETE]);
      expect(addon.inotifyRead(fd, buf, out)).toBe(-EAGAIN);
      expect(addon.inotifyRmWatch(fd, wd)).toBe(0);
      expect(addon.inotifyRmWatch(fd, wd)).toBe(-EINVAL);
    } finally {
      expect(addon.close(fd)).toBe(0);
      rmSync(dir, { recursive: true, force: true });
    }
    // NB: never a closed fd's number (another thread may have it already): -1, and one above any RLIMIT_NOFILE.
    for (const bad of [-1, 0x7fffffff]) expect(addon.inotifyRead(bad, Buffer.alloc(512), new Int32Array(160))).toBe(-EBADF);
  });

  it('refuses bad arguments with Node codes before any syscall', () => {
    const fd = addon.inotifyInit();
    try {
      expect(() => addon.inotifyAddWatch('x' as never, '/', 1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
      expect(() => addon.inotifyAddWatch(fd, 1 as never, 1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
      expect(() => addon.inotifyRmWatch(fd, 1.5)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
      expect(() => addon.inotifyRead(fd, [] as never, new Int32Array(160))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
      // Too small for one record with the longest name, or an output too short for the buffer's records.
      expect(() => addon.inotifyRead(fd, Buffer.alloc(271), new Int32Array(100))).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }));
      expect(() => addon.inotifyRead(fd, Buffer.alloc(512), new Int32Array(159))).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }));
      expect(() => addon.inotifyRead(fd, Buffer.alloc(512), new Uint32Array(160) as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
      expect(addon.inotifyAddWatch(fd, '/tmp\0/x', 1)).toBe(-EINVAL);
    } finally {
      addon.close(fd);
    }
  });
});
