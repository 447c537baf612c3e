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

  it('sends, asks and replies travel in fixed headers, cut anywhere, in order with other envelopes', () => {
    const e = new FrameEncoder();
    e.appendSend(7, 3, { hello: 'world' });
    e.appendAsk(0xffffffff, 0, 42, [1, 2]);
    e.appendReply(42, false, new RuntimeError('ERR_ACTOR_EXITED', 'gone'));
    e.append([6, 1, 0, 'killed']);
    e.appendSend(2 ** 40, 1, 'too big for a header: an envelope');
    let bytes!: Buffer;
    e.flush((b, n) => ((bytes = Buffer.from(b.subarray(0, n))), true));
    const want = [
      [1, 7, 3, { hello: 'world' }],
      [2, 0xffffffff, 0, [1, 2], 42],
      [3, 42, 0, expect.objectContaining({ code: 'ERR_ACTOR_EXITED' })],
      [6, 1, 0, 'killed'],
      [1, 2 ** 40, 1, 'too big for a header: an envelope'],
    ];
    for (let cut = 0; cut <= bytes.length; cut++) {
      const dec = new FrameDecoder();
      expect([...dec.push(bytes.subarray(0, cut)), ...dec.push(bytes.subarray(cut))]).toEqual(want);
      expect(dec.pending).toBe(0);
    }
  });

  it('scalars keep their value and type whichever way they are encoded and decoded', () => {
    const e = new FrameEncoder();
    const values = [0, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, -1, -32, -33, -(2 ** 31), 1.5, NaN, null, true, false, '', 'x', undefined];
    for (const v of values) e.appendSend(1, 0, v);
    let bytes!: Buffer;
    e.flush((b, n) => ((bytes = Buffer.from(b.subarray(0, n))), true));
    expect(new FrameDecoder().push(bytes).map((env) => (env as unknown[])[3])).toEqual(values);
  });

  it('objects of a shape seen before travel as records, and a decoder reading the whole stream gets them back', () => {
    const e = new FrameEncoder();
    const want: unknown[] = [];
    // More shapes than msgpackr keeps record numbers for (64), used over and over: definitions are reused.
    for (let i = 0; i < 400; i++) {
      const shape = i % 90;
      const m = { [`k${shape}`]: i, seq: i, tag: shape % 2 === 0 ? 'even' : { nested: [shape] } };
      e.appendSend(1, 0, m);
      want.push([1, 1, 0, m]);
    }
    let bytes!: Buffer;
    e.flush((b, n) => ((bytes = Buffer.from(b.subarray(0, n))), true));
    const dec = new FrameDecoder();
    const got: unknown[] = [];
    for (let at = 0; at < bytes.length; at += 37) got.push(...dec.push(bytes.subarray(at, Math.min(bytes.length, at + 37))));
    expect(got).toEqual(want);
  });

  it('a message that fails to encode leaves nothing behind: both sides start their records over', () => {
    const e = new FrameEncoder();
    const dec = new FrameDecoder();
    const frames = (): unknown[] => {
      let bytes!: Buffer;
      e.flush((b, n) => ((bytes = Buffer.from(b.subarray(0, n))), true));
      return dec.push(bytes);
    };
    e.appendSend(1, 0, { a: 1, b: 2 });
    expect(frames()).toEqual([[1, 1, 0, { a: 1, b: 2 }]]);
    const circular: Record<string, unknown> = { x: 1 };
    circular.self = circular;
    // A new shape, then a value msgpackr cannot encode inside it.
    expect(() => e.appendSend(1, 0, { fresh: 1, inner: { deep: circular } })).toThrow(RangeError);
    expect(() => e.appendSend(1, 0, { fresh: 2, inner: Symbol('no') })).toThrow();
    e.appendSend(1, 0, { fresh: 3, inner: { deep: 4 } });
    e.appendSend(1, 0, { a: 5, b: 6 });
    expect(frames()).toEqual([[1, 1, 0, { fresh: 3, inner: { deep: 4 } }], [1, 1, 0, { a: 5, b: 6 }]]);
  });

  it('decoded values never alias the bytes read: the reader may reuse its buffer', () => {
    const e = new FrameEncoder();
    const payload = { bin: Buffer.from('binary bytes'), text: 'text' };
    e.appendSend(1, 0, payload);
    let bytes!: Buffer;
    e.flush((b, n) => ((bytes = Buffer.from(b.subarray(0, n))), true));
    const [env] = new FrameDecoder().push(bytes) as [unknown[]];
    bytes.fill(0); // the reader's buffer, reused for the next read
    expect(env[3]).toEqual(payload);
  });

  it('reads only the first length bytes of a lent buffer, whatever follows them, cut anywhere', () => {
    const e = new FrameEncoder();
    for (let i = 0; i < 5; i++) e.appendSend(1, 0, { i, s: 'x'.repeat(i * 40) });
    let bytes!: Buffer;
    e.flush((b, n) => ((bytes = Buffer.from(b.subarray(0, n))), true));
    for (let cut = 1; cut < bytes.length; cut += 7) {
      const d = new FrameDecoder();
      const out: unknown[] = [];
      const sink = { send: (_s: number, _g: number, m: unknown) => out.push(m), ask: () => {}, reply: () => {}, envelope: () => {} };
      // A reader's buffer: the bytes read, then garbage left from earlier reads (a frame length of 0xff..).
      const lent = Buffer.alloc(bytes.length + 64, 0xff);
      bytes.copy(lent, 0, 0, cut);
      d.decode(lent, sink, cut);
      lent.fill(0xff);
      bytes.copy(lent, 0, cut);
      d.decode(lent, sink, bytes.length - cut);
      expect(out).toEqual(Array.from({ length: 5 }, (_, i) => ({ i, s: 'x'.repeat(i * 40) })));
      expect(d.pending).toBe(0);
    }
  });

  it('refuses a message past the frame limit at the sender, with the batch unchanged', () => {
    const e = new FrameEncoder();
    e.appendSend(1, 0, 'before');
    expect(() => e.appendSend(1, 0, Buffer.alloc(MAX_FRAME))).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    let bytes!: Buffer;
    e.flush((b, n) => ((bytes = Buffer.from(b.subarray(0, n))), true));
    expect(new FrameDecoder().push(bytes)).toEqual([[1, 1, 0, 'before']]);
  });

  it('rejects an unknown frame kind, and a frame without its payload, with ERR_INVALID_FRAME', () => {
    for (const f of [[0, 0, 0, 2, 9, 0xc0], [0, 0, 0, 9, 1, 0, 0, 0, 1, 0, 0, 0, 0], [0, 0, 0, 0]]) {
      expect(() => new FrameDecoder().push(Buffer.from(f))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_FRAME' }));
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
    const bad = Buffer.from([0, 0, 0, 3, 0, 0x92, 0x01]); // an envelope frame: an array of 2 holding 1 element
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
