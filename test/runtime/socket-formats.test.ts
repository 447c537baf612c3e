// Socket read formats and modes over a real socketpair: lines, counts, headers, boundaries, RegExps.
import { describe, expect, it } from 'vitest';
import { Socket } from 'troupe';

/** A pair whose writer side is binary and unbuffered, so the reader sees exactly the bytes written. */
async function feed(data: string | Buffer, opts: { eof?: boolean } = {}): Promise<[Socket, Socket]> {
  const [w, r] = Socket.pair();
  w.setmode('b', 'bn');
  await w.write(data);
  if (opts.eof !== false) w.shutdown('w');
  return [w, r];
}

async function readAll(r: Socket, format: Parameters<Socket['read']>[0], n = 10): Promise<(string | null)[]> {
  const out: (string | null)[] = [];
  for (let i = 0; i < n; i++) {
    const v = await r.read(format);
    out.push(v);
    if (v === null) break;
  }
  return out;
}

describe('read formats', () => {
  it("'*l' strips CRLF and LF, returns a partial last line, then null", async () => {
    const [w, r] = await feed('line1\r\nline2\npartial');
    expect(await readAll(r, '*l')).toEqual(['line1', 'line2', 'partial', null]);
    w.close();
    r.close();
  });

  it("'*L' keeps the EOL, normalised to LF in text mode and raw in binary mode", async () => {
    const [w, r] = await feed('x\r\ny\r\n');
    expect(await r.read('*L')).toBe('x\n');
    r.setmode('b');
    expect(await r.read('*L')).toBe('y\r\n');
    w.close();
    r.close();
  });

  it("'*a' reads to EOF; on an empty stream it is null, not ''", async () => {
    const [w, r] = await feed('a\r\nb');
    expect(await r.read('*a')).toBe('a\nb');
    expect(await r.read('*a')).toBeNull();
    const [w2, r2] = await feed('');
    expect(await r2.read('*a')).toBeNull();
    for (const s of [w, r, w2, r2]) s.close();
  });

  it('read(0) is always the empty string, even at EOF', async () => {
    const [w, r] = await feed('');
    expect(await r.read(0)).toBe('');
    w.close();
    r.close();
  });

  it('read(n) returns exactly n, fewer only at EOF; text mode counts translated characters', async () => {
    const [w, r] = await feed('ab\r\ncdefg');
    expect(await r.read(4)).toBe('ab\nc');
    expect(await r.read(10)).toBe('defg');
    expect(await r.read(10)).toBeNull();
    w.close();
    r.close();
  });

  it('read(-n) returns what is there without waiting for more', async () => {
    const [w, r] = await feed('0123456789', { eof: false });
    expect(await r.read(4)).toBe('0123');
    expect(await r.read(-100)).toBe('456789');
    await w.write('ab');
    expect(await r.read(-1)).toBe('a');
    w.close();
    r.close();
  });

  it('holds back a trailing CR in text mode until the next byte shows whether it starts a CRLF', async () => {
    const [w, r] = await feed('abc\r', { eof: false });
    expect(await r.read(-100)).toBe('abc');
    expect(r.pending().input).toBe(1);
    await w.write('\nz');
    expect(await r.read(-100)).toBe('\nz');
    w.close();
    r.close();
  });

  it("'*h' unfolds a header and stops at the blank line without consuming it", async () => {
    const [w, r] = await feed('Foo: bar\r\n baz\r\nX-Y : z\r\n\r\nbody');
    expect(await r.read('*h')).toBe('Foo: bar baz');
    expect(await r.read('*h')).toBe('X-Y : z');
    expect(await r.read('*h')).toBeNull();
    expect(await r.read('*l')).toBe('');
    expect(await r.read('*a')).toBe('body');
    w.close();
    r.close();
  });

  it("'*H' keeps the folded EOLs; a request line is not a header", async () => {
    const [w, r] = await feed('Foo: bar\r\n baz\r\n\r\n');
    expect(await r.read('*H')).toBe('Foo: bar\n baz\n');
    const [w2, r2] = await feed('GET / HTTP/1.1\r\n');
    expect(await r2.read('*h')).toBeNull();
    expect(await r2.read('*l')).toBe('GET / HTTP/1.1');
    for (const s of [w, r, w2, r2]) s.close();
  });

  it('reads MIME parts up to the boundary, which it leaves for the next read', async () => {
    const [w, r] = await feed('part one\r\nline two\r\n--XYZ\r\nnext');
    const chunks: string[] = [];
    for (let c = await r.read('--XYZ'); c !== null; c = await r.read('--XYZ')) chunks.push(c);
    expect(chunks.join('')).toBe('part one\nline two');
    expect(await r.read('*l')).toBe('--XYZ');
    expect(await r.read('*a')).toBe('next');
    w.close();
    r.close();
  });

  it('reads up to and including the first match of a RegExp', async () => {
    const [w, r] = await feed('GET / HTTP/1.1\r\nHost: x\r\n\r\nrest');
    r.setmode('b');
    expect(await r.read(/\r\n\r\n/)).toBe('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await r.read(/never/)).toBe('rest');
    w.close();
    r.close();
  });

  it('splits a line longer than maxline, as the original', async () => {
    const [w, r] = await feed('abcdefghij\nk\n');
    r.setmaxline(5);
    expect(await readAll(r, '*l')).toEqual(['abcde', 'fghij', '', 'k', null]);
    w.close();
    r.close();
  });

  it('returns Buffers from readBytes and decodes read() with setEncoding', async () => {
    const [w, r] = await feed(Buffer.from([0xff, 0x00, 0x41, 0x0a, 0x68, 0x69, 0x0a]));
    expect(await r.readBytes(2)).toEqual(Buffer.from([0xff, 0x00]));
    r.setEncoding('hex');
    expect(await r.read()).toBe('41');
    r.setEncoding('utf8');
    expect(await r.read()).toBe('hi');
    w.close();
    r.close();
  });

  it('iterates lines() until EOF', async () => {
    const [w, r] = await feed('a\nb\r\nc');
    const got: string[] = [];
    for await (const l of r.lines()) got.push(l);
    expect(got).toEqual(['a', 'b', 'c']);
    w.close();
    r.close();
  });

  it('rejects an unknown format with ERR_INVALID_FORMAT', async () => {
    const [w, r] = await feed('x');
    await expect(r.read('*n' as never)).rejects.toMatchObject({ code: 'ERR_INVALID_FORMAT' });
    w.close();
    r.close();
  });
});

describe('output modes', () => {
  it('text mode sends LF as CRLF without doubling an existing CRLF; binary sends bytes as they are', async () => {
    const [w, r] = Socket.pair();
    r.setmode('b');
    await w.write('a\nb\r\n');
    expect(await r.read('*L')).toBe('a\r\n');
    expect(await r.read('*L')).toBe('b\r\n');
    w.setmode('b', 'bn');
    await w.write('c\n');
    expect(await r.read('*L')).toBe('c\n');
    w.close();
    r.close();
  });

  it('line mode holds a partial line until flush; a read autoflushes it', async () => {
    const [a, b] = Socket.pair();
    await a.write('no newline yet');
    expect(a.pending().output).toBe(14);
    await a.flush();
    expect(a.pending().output).toBe(0);
    expect(await b.read(-100)).toBe('no newline yet');
    await b.write('ping');
    expect(b.pending().output).toBe(4);
    b.settimeout(20);
    await expect(b.read()).rejects.toMatchObject({ code: 'ETIMEDOUT' }); // the read flushed 'ping' first
    expect(b.pending().output).toBe(0);
    expect(await a.read(4)).toBe('ping');
    a.close();
    b.close();
  });

  it('full mode flushes whole buffers; setmode returns the previous modes in the original notation', async () => {
    const [a, b] = Socket.pair();
    expect(a.setmode('b', 'bf')).toEqual(['t-p', 'tla']);
    expect(a.setbufsiz(undefined, 8)).toEqual([4096, 4096]);
    await a.write('0123456789');
    expect(a.pending().output).toBe(2);
    expect(await b.read(8)).toBe('01234567');
    expect(a.setmode()).toEqual(['b-p', 'bfa']);
    a.close();
    b.close();
  });
});
