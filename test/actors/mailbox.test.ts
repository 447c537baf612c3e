// Mailbox: FIFO, selective receive, bounded with wait / fail / drop-oldest, close.
import { describe, expect, it } from 'vitest';
import { sleep } from 'troupe';
import { Mailbox } from '../../actors/mailbox.js';

describe('Mailbox', () => {
  it('delivers in FIFO order', async () => {
    const mb = new Mailbox<number>();
    for (let i = 0; i < 5; i++) await mb.post(i);
    expect(mb.size).toBe(5);
    const got: number[] = [];
    for (let i = 0; i < 5; i++) got.push((await mb.receive())!);
    expect(got).toEqual([0, 1, 2, 3, 4]);
  });

  it('receives selectively, leaving the others in order', async () => {
    const mb = new Mailbox<{ k: string; v: number }>();
    for (const [k, v] of [['a', 1], ['b', 2], ['a', 3], ['b', 4]] as const) await mb.post({ k, v });
    expect(await mb.receive({ match: (m) => m.k === 'b' })).toEqual({ k: 'b', v: 2 });
    expect(await mb.receive()).toEqual({ k: 'a', v: 1 });
    expect(await mb.receive()).toEqual({ k: 'a', v: 3 });
    expect(await mb.receive()).toEqual({ k: 'b', v: 4 });
  });

  it('a selective receiver waits for a match that arrives later', async () => {
    const mb = new Mailbox<string>();
    const p = mb.receive({ match: (m) => m === 'wanted', timeoutMs: 5000 });
    await mb.post('other');
    await mb.post('wanted');
    expect(await p).toBe('wanted');
    expect(await mb.receive()).toBe('other');
  });

  it('receive with a timeout rejects ETIMEDOUT', async () => {
    const mb = new Mailbox<number>();
    await expect(mb.receive({ timeoutMs: 20 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  });

  it("'wait' makes a sender wait for room (backpressure), with one deadline", async () => {
    const mb = new Mailbox<number>({ capacity: 2 });
    await mb.post(1);
    await mb.post(2);
    let posted = false;
    const p = mb.post(3).then(() => (posted = true));
    await sleep(10);
    expect(posted).toBe(false);
    expect(mb.size).toBe(2);
    expect(await mb.receive()).toBe(1);
    await p;
    expect(posted).toBe(true);
    expect(mb.size).toBe(2);
    await expect(mb.post(4, 20)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    expect(mb.tryPost(4)).toBe(false);
  });

  it("'wait' lets blocked senders in at half empty, in the order they came, and not before", async () => {
    const mb = new Mailbox<number>({ capacity: 4 });
    for (let i = 1; i <= 4; i++) expect(mb.tryPost(i)).toBe(true);
    const admitted: number[] = [];
    const waits = [5, 6, 7].map((m) => mb.post(m).then(() => admitted.push(m)));
    expect(await mb.receive()).toBe(1);
    await sleep(5);
    expect(admitted).toEqual([]); // 3 of 4: not yet
    expect(mb.tryPost(99)).toBe(false); // nor does anyone jump the queue
    expect(await mb.receive()).toBe(2);
    await Promise.all(waits.slice(0, 2));
    expect(admitted).toEqual([5, 6]); // at 2 of 4, as many as fit
    expect(mb.size).toBe(4);
    const rest: number[] = [];
    for (let i = 0; i < 5; i++) rest.push((await mb.receive())!);
    await waits[2];
    expect(rest).toEqual([3, 4, 5, 6, 7]);
  });

  it("'fail' refuses with ERR_MAILBOX_FULL", async () => {
    const mb = new Mailbox<number>({ capacity: 1, overflow: 'fail' });
    await mb.post(1);
    await expect(mb.post(2)).rejects.toMatchObject({ code: 'ERR_MAILBOX_FULL' });
    expect(mb.tryPost(2)).toBe(false);
  });

  it("'drop-oldest' keeps the newest messages and counts the dropped", async () => {
    const mb = new Mailbox<number>({ capacity: 3, overflow: 'drop-oldest' });
    for (let i = 0; i < 10; i++) await mb.post(i);
    expect(mb.size).toBe(3);
    expect(mb.dropped).toBe(7);
    expect([await mb.receive(), await mb.receive(), await mb.receive()]).toEqual([7, 8, 9]);
  });

  it('stays bounded when a producer outruns the consumer', async () => {
    const mb = new Mailbox<number>({ capacity: 8 });
    let max = 0;
    const producer = (async () => {
      for (let i = 0; i < 2000; i++) {
        await mb.post(i);
        max = Math.max(max, mb.size);
      }
      mb.close();
    })();
    let got = 0;
    for (let m = await mb.receive(); m !== null; m = await mb.receive()) got++;
    await producer;
    expect(max).toBeLessThanOrEqual(8);
    expect(got).toBeGreaterThan(1990); // the last few may be handed back by close()
  });

  it('close: receivers get null, senders ERR_ACTOR_EXITED, leftovers come back', async () => {
    const mb = new Mailbox<number>();
    const waiting = mb.receive();
    await sleep(1);
    expect(mb.close()).toEqual([]);
    expect(await waiting).toBeNull();
    const mb2 = new Mailbox<number>();
    await mb2.post(1);
    expect(mb2.close()).toEqual([1]);
    await expect(mb2.post(2)).rejects.toMatchObject({ code: 'ERR_ACTOR_EXITED' });
    expect(await mb2.receive()).toBeNull();
  });

  it('rejects bad options with Node codes', () => {
    expect(() => new Mailbox({ capacity: 0 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => new Mailbox({ overflow: 'spill' as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });
});
