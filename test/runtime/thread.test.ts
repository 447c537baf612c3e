// thread.start / join / terminate: entries, arguments, outcomes and errors across the thread boundary.
import { describe, expect, it } from 'vitest';
import { Socket, poll, thread } from 'troupe';

describe('thread.start', () => {
  it('runs a closure-free function with its arguments; join gives its return value', async () => {
    const [t, sock] = await thread.start(async (s: Socket, a: number, b: { x: number[] }) => {
      await s.write(`${await s.read()}!\n`);
      return a + b.x.length;
    }, 40, { x: [1, 2] });
    await sock.write('ping\n');
    expect(await sock.read()).toBe('ping!');
    expect(await t.join(10_000)).toBe(42);
    expect(t.id).toBeGreaterThan(0);
    sock.close();
  });

  it('runs a module entry (its default export); thread.self() is that thread there, undefined here', async () => {
    expect(thread.self()).toBeUndefined();
    const [t, sock] = await thread.start(new URL('../fixtures/thread-entry.mjs', import.meta.url), 'A');
    await sock.write('hi\n');
    expect(await sock.read()).toBe('A:hi');
    expect(await t.join(10_000)).toEqual({ tag: 'A', self: t.id });
    sock.close();
  });

  it('keeps the code, errno and syscall of an error thrown in the thread', async () => {
    const [t1, s1] = await thread.start(new URL('../fixtures/thread-throws.mjs', import.meta.url));
    await expect(t1.join(10_000)).rejects.toMatchObject({ name: 'SystemError', code: 'ECONNRESET', errno: -104, syscall: 'read', port: 9 });
    const [t2, s2] = await thread.start(() => {
      throw Object.assign(new RangeError('custom'), { code: 'E_CUSTOM' });
    });
    const err = await t2.join(10_000).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'RangeError', message: 'custom', code: 'E_CUSTOM' });
    expect((err as Error).stack).toMatch(/custom/);
    s1.close();
    s2.close();
  });

  it('reports a thread that dies abnormally as ERR_THREAD_DIED', async () => {
    const [t, s] = await thread.start(() => process.exit(3));
    await expect(t.join(10_000)).rejects.toMatchObject({ code: 'ERR_THREAD_DIED', message: expect.stringMatching(/exit code 3/) });
    s.close();
  });

  it('join(timeout) rejects with ETIMEDOUT; terminate() ends the thread; the Thread is pollable', async () => {
    const [t, s] = await thread.start(async (sock: Socket) => {
      await sock.read(); // never answered
    });
    await expect(t.join(30)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    const exited = poll(t, 10_000);
    await t.terminate();
    expect(await exited).toEqual([t]);
    await expect(t.join()).rejects.toMatchObject({ code: 'ERR_THREAD_DIED' });
    s.close();
  });

  it('moves a socket argument mid-stream: the thread reads the partial line it had buffered first', async () => {
    const [peer, moving] = Socket.pair();
    await peer.write('first\nsecond\nthi');
    expect(await moving.read()).toBe('first');
    const [t, s] = await thread.start(async (_: Socket, m: Socket) => [await m.read(), await m.read()], moving);
    expect(moving.closed).toBe(true);
    await expect(moving.read()).rejects.toMatchObject({ code: 'ERR_HANDLE_TRANSFERRED' });
    await peer.write('rd\n');
    expect(await t.join(10_000)).toEqual(['second', 'third']);
    peer.close();
    s.close();
  });

  it('fails to start with a clear error when the entry is not a function', async () => {
    await expect(thread.start(42 as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    const [t, s] = await thread.start(new URL('../fixtures/socket-holder.mjs', import.meta.url));
    // That module has no default export: the thread reports it and ends.
    await expect(t.join(10_000)).rejects.toMatchObject({ name: 'TypeError', message: expect.stringMatching(/not a function/) });
    s.close();
  });
});
