// The actors' frame codec: round trips cut anywhere, errors with their codes, and malformed frames.
import { describe, expect, it } from 'vitest';
import { RuntimeError, SystemError } from 'troupe';
import { FrameDecoder, FrameEncoder, MAX_FRAME } from '../../actors/codec.js';

const enc = new FrameEncoder();

describe('frame codec', () => {
  it('round-trips messages through a stream cut at every point', () => {
    const msgs = [{ to: 'a', n: 1 }, 'text', [1, 2, 3], null, { big: 2n ** 70n, nested: { deep: [true, 1.5] } }];
    const bytes = enc.encodeAll(msgs);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const dec = new FrameDecoder();
      const got = [...dec.push(bytes.subarray(0, cut)), ...dec.push(bytes.subarray(cut))];
      expect(got).toEqual(msgs);
      expect(dec.pending).toBe(0);
    }
  });

  it('keeps errors: class, code, errno, syscall, message, stack and cause', () => {
    const sys = new SystemError(-104, 'read', { address: '10.0.0.1', port: 9 });
    const rt = new RuntimeError('ERR_ACTOR_EXITED', 'gone', { cause: Object.assign(new TypeError('inner'), { code: 'E_INNER' }) });
    const [a, b] = new FrameDecoder().push(enc.encodeAll([sys, { wrapped: rt }])) as [SystemError, { wrapped: RuntimeError }];
    expect(a).toBeInstanceOf(SystemError);
    expect(a).toMatchObject({ code: 'ECONNRESET', errno: -104, syscall: 'read', address: '10.0.0.1', port: 9 });
    expect(a.stack).toBe(sys.stack);
    expect(b.wrapped).toBeInstanceOf(RuntimeError);
    expect(b.wrapped).toMatchObject({ code: 'ERR_ACTOR_EXITED', message: 'gone', cause: { name: 'TypeError', code: 'E_INNER' } });
  });

  it('rejects a frame longer than the limit with ERR_INVALID_FRAME', () => {
    const bad = Buffer.alloc(8);
    bad.writeUInt32BE(MAX_FRAME + 1, 0);
    expect(() => new FrameDecoder().push(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_FRAME' }));
  });

  it('rejects a payload that does not decode with ERR_INVALID_FRAME, keeping the cause', () => {
    const bad = Buffer.from([0, 0, 0, 2, 0xc1, 0xc1]); // 0xc1 is never used in MessagePack
    let err: unknown;
    try {
      new FrameDecoder().push(bad);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'ERR_INVALID_FRAME' });
    expect((err as Error).cause).toBeDefined();
  });
});
