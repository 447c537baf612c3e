// A worker thread that ends without closing its sockets (terminated) still releases their descriptors.
import { readlinkSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Socket, thread } from 'troupe';

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

  it('thread.terminate() closes the sockets the thread held, moved ones included', async () => {
    const [peer, moving] = Socket.pair();
    const [t, chan] = await thread.start(async (c: Socket, m: Socket) => {
      const [x] = (m.constructor as typeof Socket).pair(); // a socket opened in the thread itself
      await c.write(`${m.pollfd()} ${x.pollfd()}\n`);
      await m.read(); // held forever
    }, moving);
    const fds = (await chan.read())!.split(' ').map(Number);
    expect(fds.every(isOpen)).toBe(true);
    await t.terminate();
    expect(fds.filter(isOpen)).toEqual([]);
    // The peer sees the moved socket's end closed.
    expect(await peer.read()).toBeNull();
    peer.close();
    chan.close();
  });
});
