// A worker thread that ends without closing its sockets (terminated) still releases their descriptors.
import { readlinkSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';

function isOpen(fd: number): boolean {
  try {
    readlinkSync(`/proc/self/fd/${fd}`);
    return true;
  } catch {
    return false;
  }
}

describe('thread exit', () => {
  it("terminating a worker closes the descriptors its sockets held", async () => {
    const w = new Worker(new URL('../fixtures/socket-holder.mjs', import.meta.url));
    const { fds } = await new Promise<{ fds: number[] }>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    expect(fds.every(isOpen)).toBe(true);
    await w.terminate();
    // The leak gate after this test checks the whole fd table; here, the very descriptors.
    expect(fds.filter(isOpen)).toEqual([]);
  });
});
