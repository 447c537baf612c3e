// Regressions found by a review of the runtime; each test failed before its fix.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Controller, Socket, sleep, thread } from 'troupe';

function run(script: string) {
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: process.cwd(), encoding: 'utf8', timeout: 10_000 });
}

describe('review fixes', () => {
  it('closing the root settles a loop() on it, and pending waits reject ERR_CONTROLLER_CLOSED', () => {
    const r = run(`
      import { Controller } from 'troupe';
      const root = Controller.root();
      let unwound = false;
      root.wrap(async () => { try { await root.sleep(60_000); } finally { unwound = true; } });
      const outside = root.sleep(60_000).then(() => 'resolved', (e) => e.code);
      const looping = root.loop().then(() => 'returned', (e) => e.code);
      setTimeout(() => root.close(), 20);
      console.log(await looping, await outside);
      await new Promise((r) => setTimeout(r, 10));
      console.log('task unwound:', unwound);
    `);
    expect(r.stdout.trim().split('\n')).toEqual(['returned ERR_CONTROLLER_CLOSED', 'task unwound: true']);
    expect(r.status).toBe(0);
  });

  it('a wait on a non-root controller from outside its tasks rejects when it closes', async () => {
    const c = new Controller();
    const p = c.sleep(60_000);
    c.close();
    await expect(p).rejects.toMatchObject({ code: 'ERR_CONTROLLER_CLOSED' });
  });

  it('thread.start with a closed socket argument fails before moving anything (no fd leaks)', async () => {
    const [a, b] = Socket.pair();
    const [c, d] = Socket.pair();
    d.close();
    await expect(thread.start(() => {}, a, d)).rejects.toMatchObject({ code: 'ERR_HANDLE_CLOSED' });
    expect(a.closed).toBe(false); // not moved
    for (const s of [a, b, c]) s.close();
    // The leak gate after this test checks that no descriptor was stranded.
  });

  it('two concurrent writes both complete once the peer drains (no spinning flush)', async () => {
    const [a, b] = Socket.pair();
    a.setmode('b', 'bn');
    b.setmode('b', 'bn');
    const big = a.write(Buffer.alloc(1 << 20, 0x61));
    await sleep(5);
    const small = a.write('y');
    let got = 0;
    while (got < (1 << 20) + 1) got += (await b.readBytes(-65536, { timeoutMs: 5000 }))!.length;
    await Promise.all([big, small]);
    expect(got).toBe((1 << 20) + 1);
    a.close();
    b.close();
  });

  it('sendfd of a socket still connecting waits for its connect; the channel keeps no error', async () => {
    const srv = Socket.listen('127.0.0.1', 0);
    const port = (srv.localname() as { port: number }).port;
    const [chanA, chanB] = Socket.pair();
    const connecting = Socket.connect('localhost', port); // resolves a name: not connected yet
    await chanA.sendfd('moving', connecting, 5000);
    expect(chanA.error('w')).toBeUndefined();
    const { message, socket } = await chanB.recvfd(5000);
    expect(message.toString()).toBe('moving');
    const conn = await srv.accept();
    await socket!.write('through the moved socket\n');
    expect(await conn.read()).toBe('through the moved socket');
    for (const s of [chanA, chanB, socket!, conn, srv]) s.close();
  });

  it('a Future whose function finishes after it was settled by hand does not crash the process', () => {
    const r = run(`
      import { Future, sleep } from 'troupe';
      const f = new Future(async () => { await sleep(10); return 1; });
      f.resolve(2);
      console.log(await f.get());
      await sleep(50);
      console.log('alive');
    `);
    expect(r.stdout.trim().split('\n')).toEqual(['2', 'alive']);
    expect(r.status).toBe(0);
  });
});

