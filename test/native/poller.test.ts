// The native Poller through its binding: numbers in, numbers or -errno out, one instance per thread.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { constants } from 'node:os';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
// NB: the compiled module, not '../../runtime/native.js': loaded from source, native.ts resolves the addon
// one directory above the package root (see the 'loads from source' test below). pretest builds dist/.
import { EPOLLIN, EPOLLOUT, FLAG_CLOEXEC, FLAG_NONBLOCK, addon, type NativePoller } from '../../runtime/native.js';

const { EBADF, EBUSY, EINVAL, ELOOP } = constants.errno;
const WORKER = new URL('../fixtures/native-worker.mjs', import.meta.url);

// Every poller a test opens is closed after it, pass or fail, so the leak gate reports only real leaks.
const opened: NativePoller[] = [];
afterEach(() => {
  for (const p of opened.splice(0)) p.close();
});

function poller(): NativePoller {
  const p = new addon.Poller();
  expect(p.open()).toBe(0);
  opened.push(p);
  return p;
}

/** fd number -> link target, for what this process holds now. */
function fds(): Map<number, string> {
  const out = new Map<number, string>();
  for (const name of readdirSync('/proc/self/fd')) {
    try {
      out.set(Number(name), readlinkSync(`/proc/self/fd/${name}`));
    } catch {
      // the directory listing's own fd
    }
  }
  return out;
}

/** The registrations the kernel holds in an epoll fd: target fd -> events ("tfd:" lines of fdinfo). */
function kernelRegs(epfd: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const m of readFileSync(`/proc/self/fdinfo/${epfd}`, 'utf8').matchAll(/^tfd:\s*(\d+)\s+events:\s*([0-9a-f]+)/gm))
    out.set(Number(m[1]), parseInt(m[2]!, 16));
  return out;
}

/** Whether p's fd is readable now, seen through another poller (JS has no poll(2)). */
function readable(p: NativePoller): boolean {
  const outer = poller();
  expect(outer.set(p.fd(), EPOLLIN, 1)).toBe(0);
  const n = outer.wait(0, new Int32Array(2));
  outer.close();
  return n === 1;
}

describe('native Poller', () => {
  it('open() makes an epoll fd, an eventfd and a timerfd, all CLOEXEC; the latter two NONBLOCK', () => {
    const before = fds();
    const p = poller();
    const mine = [...fds()].filter(([fd]) => !before.has(fd));
    expect(mine.map(([, target]) => target).sort()).toEqual([
      'anon_inode:[eventfd]',
      'anon_inode:[eventpoll]',
      'anon_inode:[timerfd]',
    ]);
    for (const [fd, target] of mine) {
      const want = fd === p.fd() ? FLAG_CLOEXEC : FLAG_CLOEXEC | FLAG_NONBLOCK;
      expect(addon.fdFlags(fd) & want, target).toBe(want);
    }
    expect(mine.find(([fd]) => fd === p.fd())?.[1]).toBe('anon_inode:[eventpoll]');
    expect(p.open()).toBe(-EBUSY);
  });

  it('the epoll fd is NONBLOCK too', () => {
    const p = poller();
    expect(addon.fdFlags(p.fd())).toBe(FLAG_CLOEXEC | FLAG_NONBLOCK);
  });

  it('fdFlags() of a closed fd is -EBADF', () => {
    const p = poller();
    const fd = p.fd();
    p.close();
    expect(addon.fdFlags(fd)).toBe(-EBADF);
  });

  it('set/wait round trip: the token given to set() comes back with the events', () => {
    const a = poller();
    const b = poller();
    const buf = new Int32Array(8);
    expect(a.set(b.fd(), EPOLLIN, 7)).toBe(0);
    expect(a.wait(0, buf)).toBe(0);
    expect(b.alert()).toBe(0);
    expect(a.wait(0, buf)).toBe(1);
    expect([buf[0], buf[1]]).toEqual([7, EPOLLIN]);
    // Level-triggered: still ready until B consumes its alert.
    expect(a.wait(0, buf)).toBe(1);
    expect(b.wait(0, buf)).toBe(0);
    expect(a.wait(0, buf)).toBe(0);
    // Tokens are uint32 and come back as int32.
    expect(a.set(b.fd(), EPOLLIN, 0xffffffff)).toBe(0);
    b.alert();
    expect(a.wait(0, buf)).toBe(1);
    expect(buf[0]).toBe(-1);
  });

  it('fd() is readable only when there is work: an alert or an expired timer', () => {
    const p = poller();
    const buf = new Int32Array(2);
    expect(readable(p)).toBe(false);
    p.alert();
    expect(readable(p)).toBe(true);
    expect(p.wait(0, buf)).toBe(0); // consumed, not reported
    expect(readable(p)).toBe(false);
    p.arm(0);
    expect(p.wait(5000, buf)).toBe(0);
    expect(readable(p)).toBe(false);
  });

  it('arm() never expires early; disarm() stops it', () => {
    const p = poller();
    const buf = new Int32Array(2);
    const start = performance.now();
    expect(p.arm(20)).toBe(0);
    expect(p.wait(-1, buf)).toBe(0);
    // performance.now() and the timerfd both run on CLOCK_MONOTONIC.
    expect(performance.now() - start).toBeGreaterThanOrEqual(19.9);
    expect(p.arm(5)).toBe(0);
    expect(p.disarm()).toBe(0);
    const outer = poller();
    outer.set(p.fd(), EPOLLIN, 1);
    expect(outer.wait(40, buf)).toBe(0);
  });

  it('mask() mirrors the kernel: the same mask twice changes nothing, 0 removes', () => {
    const a = poller();
    const b = poller();
    const fd = b.fd();
    expect(kernelRegs(a.fd()).size).toBe(2); // the alert and the timer
    expect(a.mask(fd)).toBe(0);
    expect(a.set(fd, EPOLLIN, 1)).toBe(0);
    expect(a.set(fd, EPOLLIN, 1)).toBe(0);
    expect(a.mask(fd)).toBe(EPOLLIN);
    expect(a.size()).toBe(1);
    expect(kernelRegs(a.fd()).size).toBe(3);
    expect(kernelRegs(a.fd()).get(fd)! & 0x7).toBe(EPOLLIN);
    // Bits outside EPOLLIN|EPOLLPRI|EPOLLOUT are dropped.
    expect(a.set(fd, EPOLLIN | 0x8 | 0x80000000, 1)).toBe(0);
    expect(a.mask(fd)).toBe(EPOLLIN);
    expect(a.set(fd, EPOLLIN | EPOLLOUT, 1)).toBe(0);
    expect(a.mask(fd)).toBe(EPOLLIN | EPOLLOUT);
    expect(kernelRegs(a.fd()).get(fd)! & 0x7).toBe(EPOLLIN | EPOLLOUT);
    expect(a.set(fd, 0, 0)).toBe(0);
    expect(a.set(fd, 0, 0)).toBe(0);
    expect(a.mask(fd)).toBe(0);
    expect(a.size()).toBe(0);
    expect(kernelRegs(a.fd()).has(fd)).toBe(false);
  });

  it('set() of an invalid or closed fd is -EBADF and registers nothing', () => {
    const a = poller();
    const b = poller();
    const gone = b.fd();
    b.close();
    expect(a.set(gone, EPOLLIN, 1)).toBe(-EBADF);
    expect(a.set(-1, EPOLLIN, 1)).toBe(-EBADF);
    expect(a.set(0x7fffffff, EPOLLIN, 1)).toBe(-EBADF);
    expect(a.size()).toBe(0);
    expect(a.mask(gone)).toBe(0);
    // A poller cannot watch itself.
    expect(a.set(a.fd(), EPOLLIN, 1)).toBe(-EINVAL);
    expect(a.size()).toBe(0);
  });

  it('nesting pollers deeper than the kernel allows is -ELOOP, and so is a cycle', () => {
    // The kernel allows 5 epoll fds in a chain; linking a 6th level is refused.
    const chain = Array.from({ length: 6 }, () => poller());
    const rcs = chain.slice(0, 5).map((p, i) => p.set(chain[i + 1]!.fd(), EPOLLIN, i));
    expect(rcs).toEqual([0, 0, 0, 0, -ELOOP]);
    expect(chain[4]!.size()).toBe(0);
    // What was accepted works: an alert at the bottom wakes the top.
    chain[4]!.alert();
    const buf = new Int32Array(2);
    expect(chain[0]!.wait(0, buf)).toBe(1);
    expect(buf[0]).toBe(0);

    const a = poller();
    const b = poller();
    expect(a.set(b.fd(), EPOLLIN, 1)).toBe(0);
    expect(b.set(a.fd(), EPOLLIN, 1)).toBe(-ELOOP);
  });

  it('wait() with a buffer smaller than the ready set returns what fits, the rest once those are handled', () => {
    const a = poller();
    const bs = [poller(), poller(), poller()];
    bs.forEach((b, i) => {
      expect(a.set(b.fd(), EPOLLIN, i)).toBe(0);
      b.alert();
    });
    const one = new Int32Array(3); // odd length: room for one pair
    const seen = new Set<number>();
    for (let round = 0; round < 3; round++) {
      expect(a.wait(0, one)).toBe(1);
      expect(one[2]).toBe(0); // nothing written past the last whole pair
      seen.add(one[0]!);
      bs[one[0]!]!.wait(0, one);
    }
    expect([...seen].sort()).toEqual([0, 1, 2]);
    expect(a.wait(0, one)).toBe(0);
  });

  // Regress: wait() once took more events than it could report and dropped the rest; the kernel requeued them
  // behind the same first fds, which starved the others while those stayed ready.
  it('wait() with a small buffer goes round all ready fds even if none is handled', () => {
    const a = poller();
    const bs = [poller(), poller(), poller()];
    bs.forEach((b, i) => {
      a.set(b.fd(), EPOLLIN, i);
      b.alert();
    });
    const one = new Int32Array(2);
    const seen = new Set<number>();
    for (let round = 0; round < 3; round++) {
      a.wait(0, one);
      seen.add(one[0]!);
    }
    expect(seen.size).toBe(3);
  });

  it('close() twice is fine, and every method after it answers -EBADF', () => {
    const p = new addon.Poller();
    expect(p.open()).toBe(0);
    const before = fds();
    const fd = p.fd();
    p.close();
    p.close();
    expect(fds().has(fd)).toBe(false);
    expect(before.size - fds().size).toBe(3);
    const buf = new Int32Array(2);
    expect(p.set(0, EPOLLIN, 1)).toBe(-EBADF);
    expect(p.alert()).toBe(-EBADF);
    expect(p.arm(1)).toBe(-EBADF);
    expect(p.disarm()).toBe(-EBADF);
    expect(p.wait(0, buf)).toBe(-EBADF);
    expect(p.embed(() => {})).toBe(-EBADF);
    expect(p.fd()).toBeLessThan(0);
    expect(p.mask(0)).toBe(0);
    expect(p.size()).toBe(0);
    expect(() => p.ref(false)).not.toThrow();
    // And it can open again.
    expect(p.open()).toBe(0);
    p.close();
  });

  it('embed(): the callback runs on the poller when it becomes readable', async () => {
    const p = poller();
    const buf = new Int32Array(2);
    let self: unknown;
    const woke = new Promise<void>((resolve) => {
      expect(
        p.embed(function (this: unknown) {
          self = this;
          p.wait(0, buf);
          resolve();
        }),
      ).toBe(0);
    });
    expect(p.embed(() => {})).toBe(-EBUSY);
    p.alert();
    await woke;
    expect(self).toBe(p);
    p.ref(false);
  });

  it('closing an embedded poller inside its own callback is fine', async () => {
    const p = poller();
    const closed = new Promise<void>((resolve) =>
      p.embed(() => {
        p.close();
        resolve();
      }),
    );
    p.alert();
    await closed;
    expect(p.alert()).toBe(-EBADF);
  });
});

// Regress: runtime/native.ts once resolved the addon only from dist/runtime/ (two levels down).
it('runtime/native.ts loads the addon from source', async () => {
  const mod = await import('../../runtime/native.js');
  expect(typeof mod.addon.Poller).toBe('function');
});

describe('native Poller in a worker thread', () => {
  function start(mode: 'return' | 'exit' | 'stay' | 'close-exit') {
    const worker = new Worker(WORKER, { workerData: { mode } });
    const queue: any[] = [];
    let wake: (() => void) | undefined;
    worker.on('message', (m) => {
      queue.push(m);
      wake?.();
    });
    const exited = new Promise<number>((resolve, reject) => {
      worker.once('exit', resolve);
      worker.once('error', reject);
    });
    const next = async (): Promise<any> => {
      while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      return queue.shift();
    };
    return { worker, next, exited };
  }

  it('has its own addon instance: its poller embeds in its own loop', async () => {
    const mine = poller();
    const { worker, next, exited } = start('exit');
    const ready = await next();
    expect(ready).toMatchObject({ ready: true, rc: 0, embedRc: 0 });
    expect(ready.flags & FLAG_CLOEXEC).toBe(FLAG_CLOEXEC);
    expect(ready.fd).not.toBe(mine.fd());
    worker.postMessage('alert');
    expect(await next()).toEqual({ woke: true, n: 0, self: true });
    worker.postMessage('exit');
    expect(await exited).toBe(0);
    // The worker's teardown closed its own pollers, not this thread's.
    expect(mine.alert()).toBe(0);
    expect(readlinkSync(`/proc/self/fd/${mine.fd()}`)).toBe('anon_inode:[eventpoll]');
  });

  // The async cleanup hook closes an embedded poller that is still open when the thread ends, however it
  // ends; the leak gate then checks its three fds are gone.
  it.each(['return', 'exit', 'stay', 'close-exit'] as const)('exits cleanly with its poller open (%s)', async (mode) => {
    const { worker, next, exited } = start(mode);
    expect(await next()).toMatchObject({ ready: true, rc: 0, embedRc: 0 });
    if (mode === 'stay') await worker.terminate();
    else if (mode !== 'return') worker.postMessage('exit');
    expect(await exited).toBe(mode === 'stay' ? 1 : 0);
  });
});

// Regress: wait() once took any typed array as an Int32Array and wrote past the end of a smaller one;
// set()/mask()/arm()/wait() went ahead with 0 after an argument error.
describe('poller argument checks', () => {
  it('wait() refuses anything but an Int32Array of at least one pair, writing nothing', () => {
    const p = new addon.Poller();
    expect(p.open()).toBe(0);
    const ab = new ArrayBuffer(8);
    const out = new Uint8Array(ab, 0, 2);
    const guard = new Uint8Array(ab, 2, 6);
    expect(() => p.wait(0, out as unknown as Int32Array)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => p.wait(0, new Int32Array(1))).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect([...guard]).toEqual([0, 0, 0, 0, 0, 0]);
    p.close();
  });

  it('set() with a bad fd throws and registers nothing', () => {
    const p = new addon.Poller();
    expect(p.open()).toBe(0);
    expect(() => p.set('7' as unknown as number, EPOLLIN, 1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(p.size()).toBe(0);
    expect(p.mask(0)).toBe(0);
    expect(() => p.arm('1' as unknown as number)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => p.embed(5 as unknown as () => void)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    p.close();
  });
});
