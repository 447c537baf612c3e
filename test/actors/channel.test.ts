// The actors' framed channel between threads: order, batching, errors, corrupt frames.
import { describe, expect, it } from 'vitest';
import { Condition, Socket, SystemError, thread } from 'troupe';
import { Channel } from '../../actors/channel.js';

describe('Channel', () => {
  it('carries 10,000 messages to another thread and back, in order', async () => {
    const [t, sock] = await thread.start(new URL('../fixtures/channel-echo.mjs', import.meta.url));
    const got: unknown[] = [];
    const done = new Condition();
    const ch = new Channel(sock, {
      message(m) {
        got.push(m);
        if (got.length === 10_000) done.signal();
      },
    });
    for (let i = 0; i < 10_000; i++) ch.send({ i, err: i % 1000 === 0 ? new SystemError(-104, 'read') : undefined });
    expect(await done.wait(20_000)).toBe(true);
    expect(got.map((m) => (m as { i: number }).i)).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    expect((got[1000] as { err: SystemError }).err).toMatchObject({ code: 'ECONNRESET', errno: -104 });
    ch.close();
    expect(await t.join(10_000)).toBe(10_000);
  });

  it('closes with ERR_INVALID_FRAME when the peer writes garbage, and the process lives on', async () => {
    const [mine, theirs] = Socket.pair();
    let ended: unknown = 'not yet';
    const gone = new Condition();
    const ch = new Channel(mine, {
      message() {},
      closed(err) {
        ended = err;
        gone.signal();
      },
    });
    theirs.setmode('b', 'bn');
    await theirs.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
    expect(await gone.wait(5000)).toBe(true);
    expect(ended).toMatchObject({ code: 'ERR_INVALID_FRAME' });
    expect(ch.closed).toBe(true);
    expect(() => ch.send('late')).toThrow(expect.objectContaining({ code: 'ERR_HANDLE_CLOSED' }));
    theirs.close();
  });

  it('ends cleanly when the peer closes', async () => {
    const [mine, theirs] = Socket.pair();
    const gone = new Condition();
    let ended: unknown = 'not yet';
    new Channel(mine, {
      message() {},
      closed(err) {
        ended = err;
        gone.signal();
      },
    });
    const waiting = gone.wait(5000);
    theirs.close();
    expect(await waiting).toBe(true);
    expect(ended).toBeUndefined();
  });
});
