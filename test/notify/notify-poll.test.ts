// Notifier as a Pollable, on other controllers and threads, and when the kernel's queue overflows.
import { closeSync, fchmodSync, ftruncateSync, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Controller, Notifier, notify, poll, thread, type FileChange } from 'troupe';
import { all, watches } from '../lib/notify-helpers.js';

const { CREATE, ATTRIB, MODIFY, REVOKE, DELETE } = notify;
const ANY_CHANGE = CREATE | ATTRIB | MODIFY | DELETE;

let dir: string;
const open: Notifier[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'troupe-notify-'));
});
afterEach(() => {
  for (const n of open.splice(0)) n.close();
  rmSync(dir, { recursive: true, force: true });
});

function watch(opts?: Parameters<typeof notify.watch>[1]): Notifier {
  const n = notify.watch(dir, opts);
  open.push(n);
  return n;
}

function inotifyFds(): number {
  let count = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:inotify') count++;
    } catch {
      // the listing's own fd
    }
  }
  return count;
}

/** Fills the kernel's queue past max_queued_events: alternating writes and chmods (equal records merge). */
function overflow(name: string): void {
  const limit = Number(readFileSync('/proc/sys/fs/inotify/max_queued_events', 'utf8'));
  const fd = openSync(join(dir, name), 'w');
  try {
    for (let i = 0; i <= limit / 2 + 1; i++) {
      ftruncateSync(fd, i % 2);
      fchmodSync(fd, i % 2 ? 0o600 : 0o644);
    }
  } finally {
    closeSync(fd);
  }
}

describe('Pollable', () => {
  it('poll() returns the notifier once a change is queued; timeout() is 0 while read changes wait', async () => {
    const n = watch();
    expect(n.events()).toBe('r');
    expect(n.timeout()).toBeUndefined();
    expect(await poll(n, 20)).toEqual([20]);
    writeFileSync(join(dir, 'a'), '');
    writeFileSync(join(dir, 'b'), '');
    expect(await poll(n, 5000)).toEqual([n]);
    expect(await n.get(0)).toEqual({ flags: CREATE, name: 'a' });
    // b was read along with a: the fd is no longer readable, but timeout() says a change waits.
    expect(n.timeout()).toBe(0);
    expect(await poll(n, 5000)).toEqual([n]);
    expect(await n.get(0)).toEqual({ flags: CREATE, name: 'b' });
    expect(n.timeout()).toBeUndefined();
  });

  it('get() waits through the controller given in opts', async () => {
    const c = new Controller();
    try {
      const n = watch({ controller: c });
      let got: FileChange | null = null;
      c.wrap(async () => {
        got = await n.get(5000);
      });
      setImmediate(() => writeFileSync(join(dir, 'x'), ''));
      await c.loop(10_000);
      expect(got).toEqual({ flags: CREATE, name: 'x' });
    } finally {
      c.close();
    }
  });
});

describe('queue overflow', () => {
  it('is not lost: "." and each add()ed name report every kind of change they watch; watching goes on', async () => {
    writeFileSync(join(dir, 'kept'), '');
    const n = watch();
    n.add('kept', MODIFY | ATTRIB);
    overflow('churn');
    const got = await all(n);
    expect(got).toContainEqual({ flags: ANY_CHANGE, name: '.' });
    expect(got).toContainEqual({ flags: MODIFY | ATTRIB, name: 'kept' });
    expect(got.some((c) => c.name === 'churn' && c.flags & CREATE)).toBe(true); // read before the overflow
    expect(watches(n)).toBe(2); // the directory and kept, renewed
    writeFileSync(join(dir, 'after'), '');
    expect(await n.get(5000)).toEqual({ flags: CREATE, name: 'after' });
  });

  it('a directory deleted while the queue was full is found gone: "." with every flag, then the end', async () => {
    const n = watch();
    overflow('churn');
    unlinkSync(join(dir, 'churn'));
    rmdirSync(dir); // its DELETE_SELF finds the queue full
    const got = await all(n);
    expect(got.at(-1)).toEqual({ flags: ANY_CHANGE | REVOKE, name: '.' });
    expect(watches(n)).toBe(0);
    expect(await n.get()).toBeNull();
  });
});

describe('many names', () => {
  it('6,000 new names all come out, once each, though fewer are held at a time', async () => {
    const n = watch();
    for (let i = 0; i < 6000; i++) closeSync(openSync(join(dir, `f${i}`), 'wx'));
    // Test-only count of the names read and pending (a registered symbol, not API): reading stops at the
    // cap of 4,096, so it stays below it, though the names queued are more; it reads in whole buffers
    // (up to 1,024 records), so it gets within one buffer of the cap.
    const pending = (): number => (n as unknown as Record<symbol, number>)[Symbol.for('troupe.notify.pendingCount(test-only)')]!;
    const got: FileChange[] = [];
    let most = 0;
    for (let c = await n.get(5000); c !== null; c = await n.get(100)) {
      got.push(c);
      most = Math.max(most, pending());
    }
    expect(most).toBeLessThanOrEqual(4096);
    expect(most).toBeGreaterThan(4096 - 1024);
    expect(got).toHaveLength(6000);
    expect(new Set(got.map((c) => c.name)).size).toBe(6000);
    expect(got.every((c) => c.flags === CREATE)).toBe(true);
  });
});

describe('threads', () => {
  it("a thread's notifier left open is closed when the thread ends", async () => {
    const before = inotifyFds();
    const [t, sock] = await thread.start(new URL('../fixtures/notify-holder.mjs', import.meta.url), dir);
    const fd = await t.join(10_000);
    sock.close();
    expect(typeof fd).toBe('number');
    for (let i = 0; i < 100 && inotifyFds() > before; i++) await new Promise((r) => setTimeout(r, 20));
    expect(inotifyFds()).toBe(before);
  });
});
