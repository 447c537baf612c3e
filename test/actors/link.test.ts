import { describe, expect, it } from 'vitest';
import { Socket } from 'troupe';
import { ActorRef } from '../../actors/ref.js';
import { ActorNode } from '../../actors/node.js';
import { FrameDecoder } from '../../actors/codec.js';

// A node on this thread, linked over a socketpair to a "thread 1" the test plays by hand.
function linked(): { node: ActorNode; peer: Socket; closed: Promise<unknown> } {
  const node = new ActorNode(7, 0);
  const [mine, peer] = Socket.pair();
  let done!: (e: unknown) => void;
  const closed = new Promise<unknown>((res) => (done = res));
  node.onLinkClosed = (_link, err) => done(err);
  node.addLink(mine, 1, 0);
  return { node, peer, closed };
}

describe('actor links', () => {
  it('a frame that does not decode closes the link with ERR_INVALID_FRAME; its asks reject; the process lives', async () => {
    const { node, peer, closed } = linked();
    const warned = new Promise<Error>((res) => process.once('warning', res));
    const ask = new ActorRef(1, 0, 5).ask('anyone?', { timeoutMs: 5000 }).catch((e: unknown) => e);
    // An envelope frame (kind 0) whose payload is 0xc1, a byte msgpack never uses.
    await peer.write(Buffer.from([0, 0, 0, 3, 0, 0xc1, 0xc1]));
    await peer.flush();
    expect(await closed).toMatchObject({ code: 'ERR_INVALID_FRAME' });
    const err = (await ask) as Error & { cause?: Error & { cause?: unknown } };
    expect(err).toMatchObject({ code: 'ERR_ACTOR_EXITED' });
    expect(err.cause?.cause).toMatchObject({ code: 'ERR_INVALID_FRAME' });
    expect(await warned).toMatchObject({ code: 'ERR_INVALID_FRAME' });
    // This end closed its socket: the peer reads to EOF (the ask's frame, then nothing).
    expect(typeof (await peer.read('*a', { timeoutMs: 2000 }))).toBe('string');
    expect(node.links.size).toBe(0);
    peer.close();
    node.detach();
  });

  it('a frame longer than the limit, of an unknown kind, or an envelope of an unknown kind, ends the link the same way', async () => {
    const frames = [[0xff, 0xff, 0xff, 0xff], [0, 0, 0, 2, 0x91, 0x63], [0, 0, 0, 3, 0, 0x91, 0x63], [0, 0, 0, 0]];
    for (const bad of frames.map((f) => Buffer.from(f))) {
      const { node, peer, closed } = linked();
      const warned = new Promise<Error>((res) => process.once('warning', res));
      await peer.write(bad);
      await peer.flush();
      expect(await closed).toMatchObject({ code: 'ERR_INVALID_FRAME' });
      await warned;
      peer.close();
      node.detach();
    }
  });

  it("a message for a restarted thread's new incarnation waits for its channel; one for a gone incarnation fails at once", async () => {
    const { node, peer, closed } = linked(); // thread 1, incarnation 0
    peer.close();
    await closed;
    // Incarnation 0 is gone for good.
    await expect(new ActorRef(1, 0, 5).send('old')).rejects.toMatchObject({ code: 'ERR_ACTOR_EXITED' });
    // Incarnation 1's channel is not here yet (relayed refs can outrun the PEER message): the send waits.
    const sent = new ActorRef(1, 1, 5).send({ hello: 'new' });
    const asked = new ActorRef(1, 1, 6).ask('q', { timeoutMs: 5000 });
    const [mine, next] = Socket.pair();
    node.addLink(mine, 1, 1);
    await sent;
    next.setmode('b', 'bn');
    const dec = new FrameDecoder();
    const got: unknown[] = [];
    while (got.length < 2) {
      const chunk = await next.readBytes(-65536, { timeoutMs: 5000 });
      expect(chunk).not.toBeNull();
      got.push(...dec.push(chunk!));
    }
    expect(got).toEqual([
      [1, 5, 1, { hello: 'new' }],
      [2, 6, 1, 'q', expect.any(Number)],
    ]);
    next.close();
    await expect(asked).rejects.toMatchObject({ code: 'ERR_ACTOR_EXITED' });
    node.detach();
  });

  it('the peer closing is a clean end: pending asks reject ERR_ACTOR_EXITED, nothing leaks', async () => {
    const { node, peer, closed } = linked();
    const ask = new ActorRef(1, 0, 9).ask('x', { timeoutMs: 5000 });
    peer.close();
    expect(await closed).toBeUndefined();
    await expect(ask).rejects.toMatchObject({ code: 'ERR_ACTOR_EXITED' });
    node.detach();
  });
});
