// The Socket over TLS, troupe on both ends: starttls after plaintext (the original's regress 73), read
// formats, modes, timeouts and sticky errors unchanged, argument errors, sockets that must not move.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Socket, thread, type TlsOptions } from 'troupe';
import { addon } from '../../dist/runtime/native.js';
import { tlsCounts } from '../../dist/runtime/socket/tls.js';
import { makeCerts, type Certs } from '../lib/tls-certs.js';

let certs: Certs;
let serverOpts: TlsOptions;
let clientOpts: TlsOptions;
beforeAll(() => {
  certs = makeCerts();
  serverOpts = { isServer: true, key: certs.server.key, cert: certs.server.cert };
  clientOpts = { ca: certs.ca, servername: 'localhost' };
});
afterAll(() => certs.remove());

/** A socketpair with TLS up: [server end, client end]. */
async function tlsPair(modes?: [string, string]): Promise<[Socket, Socket]> {
  const [a, b] = Socket.pair('stream', modes ? { modes } : undefined);
  await Promise.all([a.starttls(serverOpts, 5000), b.starttls(clientOpts, 5000)]);
  return [a, b];
}

describe('starttls after plaintext (the original regress 73)', () => {
  it("output mode 'a': cleartext written before starttls goes out in cleartext first", async () => {
    const [a, b] = Socket.pair();
    a.setmode(undefined, 'tf'); // full buffering (+ autoflush by default): the line stays buffered
    await a.write('unsecure\n');
    expect(a.pending().output).toBe(10);
    const serving = a.starttls(serverOpts, 5000);
    expect(await b.read('*l', { timeoutMs: 5000 })).toBe('unsecure');
    await b.starttls(clientOpts, 5000);
    await serving;
    await a.write('secure\n');
    await a.flush();
    expect(await b.read('*l', { timeoutMs: 5000 })).toBe('secure');
    a.close();
    b.close();
  });

  it("without 'a' the peer never sees the cleartext: it stays buffered and goes out over TLS", async () => {
    const [a, b] = Socket.pair();
    a.setmode(undefined, 'tfA');
    await a.write('unsecure\n');
    const serving = a.starttls(serverOpts, 5000);
    await expect(b.read('*l', { timeoutMs: 150 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    b.clearerr();
    await b.starttls(clientOpts, 5000);
    await serving;
    await a.flush();
    expect(await b.read('*l', { timeoutMs: 5000 })).toBe('unsecure');
    expect(b.checktls()!.authorized).toBe(true);
    a.close();
    b.close();
  });

  it("input mode 'p': input read ahead past the cleartext line is replayed into the handshake", async () => {
    const [a, b] = Socket.pair();
    await b.write('unsecure\n'); // line-buffered: out at once
    const hello = b.starttls(clientOpts, 5000); // ...and the ClientHello right behind it
    void hello.catch(() => {});
    expect(await a.fill(11, 5000)).toBe(true); // "unsecure\r\n" and the start of the hello, buffered
    expect(await a.read('*l', { timeoutMs: 5000 })).toBe('unsecure');
    expect(a.pending().input).toBeGreaterThan(0);
    await a.starttls(serverOpts, 5000);
    await hello;
    expect(a.pending().input).toBe(0);
    await b.write('secure\n');
    expect(await a.read('*l', { timeoutMs: 5000 })).toBe('secure');
    a.close();
    b.close();
  });

  it("without 'p' the handshake never sees the hello: it times out, and the hello's bytes stay readable", async () => {
    const [a, b] = Socket.pair();
    a.setmode('tP');
    await b.write('unsecure\n');
    const hello = b.starttls(clientOpts, 400);
    void hello.catch(() => {});
    expect(await a.fill(11, 5000)).toBe(true);
    expect(await a.read('*l', { timeoutMs: 5000 })).toBe('unsecure');
    const early = a.pending().input;
    expect(early).toBeGreaterThan(0);
    await expect(a.starttls(serverOpts, 200)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    await expect(hello).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    expect(a.pending().input).toBe(early);
    a.close();
    b.close();
  });
});

describe('reads and writes over TLS behave as over plain sockets', () => {
  it('text mode, line and count formats, headers, MIME parts, RegExps, EOF by close_notify', async () => {
    const [a, b] = await tlsPair();
    await a.write('one\ntwo\r\nHost: x\r\nX-Y: a\r\n b\r\n\r\n12345-67\n--B\r\npart\r\n--B--\r\nrest');
    await a.flush();
    expect(await b.read('*l', { timeoutMs: 5000 })).toBe('one');
    expect(await b.read('*L', { timeoutMs: 5000 })).toBe('two\n');
    expect(await b.read('*h', { timeoutMs: 5000 })).toBe('Host: x');
    expect(await b.read('*h', { timeoutMs: 5000 })).toBe('X-Y: a b');
    expect(await b.read('*h', { timeoutMs: 5000 })).toBeNull();
    expect(await b.read('*l', { timeoutMs: 5000 })).toBe('');
    expect(await b.read(5, { timeoutMs: 5000 })).toBe('12345');
    expect(await b.read(/-\d+\n/, { timeoutMs: 5000 })).toBe('-67\n');
    expect(await b.read('*l', { timeoutMs: 5000 })).toBe('--B');
    expect(await b.read('--B', { timeoutMs: 5000 })).toBe('part');
    expect(await b.read('--B', { timeoutMs: 5000 })).toBeNull();
    expect(await b.read('*l', { timeoutMs: 5000 })).toBe('--B--');
    a.close();
    expect(await b.read('*a', { timeoutMs: 5000 })).toBe('rest');
    expect(await b.read('*l', { timeoutMs: 5000 })).toBeNull();
    expect(b.eof('r')).toBe(true);
    b.close();
  });

  it('binary mode, pack/unpack, setchunk and unget', async () => {
    const [a, b] = await tlsPair(['b', 'bn']);
    await a.pack(0xdeadbeef, 32);
    await a.pack(-1, 16);
    await a.write('\r\nabcdef');
    expect(await b.unpack(32)).toBe(0xdeadbeef);
    expect(await b.unpack(16)).toBe(0xffff);
    expect(await b.read(2, { timeoutMs: 5000 })).toBe('\r\n');
    b.setchunk(3);
    expect(await b.read('*a', { timeoutMs: 5000 })).toBe('abc');
    b.setchunk(null);
    b.unget('xy');
    expect(await b.read(-10, { timeoutMs: 5000 })).toBe('xydef');
    a.close();
    b.close();
  });

  it('a read timeout is sticky until clearerr, with the data kept', async () => {
    const [a, b] = await tlsPair();
    await a.write('partial');
    await a.flush();
    await expect(b.read('*l', { timeoutMs: 50 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    await a.write(' line\n');
    await expect(b.read('*l', { timeoutMs: 1000 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    expect(b.error('r')).toMatchObject({ code: 'ETIMEDOUT' });
    b.clearerr('r');
    expect(await b.read('*l', { timeoutMs: 5000 })).toBe('partial line');
    a.close();
    b.close();
  });

  it('a write to a peer that stops reading ends in ETIMEDOUT with bounded buffering', async () => {
    const [a, b] = await tlsPair(['b', 'bf']);
    a.settimeout(300);
    const chunk = Buffer.alloc(1 << 20, 0x61);
    let sent = 0;
    const err = await (async () => {
      try {
        for (; sent < 64; sent++) await a.write(chunk);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toMatchObject({ code: 'ETIMEDOUT', syscall: 'write' });
    expect(sent).toBeLessThan(64);
    expect(a.pending().output).toBeLessThanOrEqual(2 << 20);
    a.destroy();
    b.close();
  });

  it('a write after shutdown("w") fails with EPIPE and marks the output side at its end, as on a plain socket', async () => {
    const [a, b] = await tlsPair();
    a.shutdown('w');
    await expect(a.write('late\n')).rejects.toMatchObject({ name: 'SystemError', code: 'EPIPE' });
    expect(a.eof('w')).toBe(true);
    expect(a.stats().sent.eof).toBe(true);
    expect(await b.read('*l', { timeoutMs: 5000 })).toBeNull();
    a.close();
    b.close();
  });

  it('a fatal TLS error keeps its OpenSSL code on both sides, autoflush included', async () => {
    const [a, b] = await tlsPair();
    a.setmode(undefined, 'tfa'); // full buffering: output waits for the autoflush of the next read
    // A record no key made, straight onto the wire.
    const forged = Buffer.concat([Buffer.from([0x17, 0x03, 0x03, 0x00, 0x20]), Buffer.alloc(32, 7)]);
    expect(addon.write(b.pollfd() as number, forged, 0, forged.length)).toBe(forged.length);
    const fatal = await a.read('*l', { timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(fatal).toMatchObject({ name: 'RuntimeError', code: expect.stringMatching(/^ERR_SSL_/) });
    a.clearerr('r');
    await a.write('buffered\n');
    expect(a.pending().output).toBeGreaterThan(0);
    await expect(a.read('*l', { timeoutMs: 5000 })).rejects.toMatchObject({ code: (fatal as { code: string }).code });
    expect(a.error('w')).toMatchObject({ name: 'RuntimeError', code: (fatal as { code: string }).code });
    a.close();
    b.close();
  });

  it('shutdown("w") sends close_notify: the peer reads the end and can still answer', async () => {
    const [a, b] = await tlsPair();
    await a.write('last\n');
    a.shutdown('w');
    expect(await b.read('*l', { timeoutMs: 5000 })).toBe('last');
    expect(await b.read('*l', { timeoutMs: 5000 })).toBeNull();
    await b.write('reply\n');
    expect(await a.read('*l', { timeoutMs: 5000 })).toBe('reply');
    a.close();
    b.close();
  });
});

describe('I/O already waiting when starttls begins', () => {
  it('a waiting read waits for the handshake and fails with its error (no polling, no ETIMEDOUT)', async () => {
    const [a, b] = Socket.pair();
    const reading = b.read('*l', { timeoutMs: 3000 }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 20));
    const serving = a.starttls({ isServer: true, key: certs.self.key, cert: certs.self.cert }, 5000);
    await expect(b.starttls({ servername: 'localhost' }, 5000)).rejects.toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    expect(await reading).toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    await serving;
    a.close();
    b.close();
  });

  it('a waiting read gets what comes over TLS once the handshake is done', async () => {
    const [a, b] = Socket.pair();
    const reading = b.read('*l', { timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 20));
    await Promise.all([a.starttls(serverOpts, 5000), b.starttls(clientOpts, 5000)]);
    await a.write('over tls\n');
    expect(await reading).toBe('over tls');
    a.close();
    b.close();
  });

  it('a waiting write waits for the handshake and fails with its error', async () => {
    const [a, b] = Socket.pair('stream', { modes: ['b', 'bnA'] }); // no autoflush: the rest goes over TLS
    a.settimeout(3000);
    const writing = a.write(Buffer.alloc(4 << 20, 0x61)).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    const sent = a.stats().sent.bytes; // what went out in cleartext before the writer had to wait
    expect(sent).toBeLessThan(4 << 20);
    const serving = a.starttls({ ...serverOpts, ALPNProtocols: ['http/1.1'] }, 5000).catch((e: unknown) => e);
    expect((await b.readBytes(sent, { timeoutMs: 5000 }))!.length).toBe(sent); // the writer can go on now
    await expect(b.starttls({ ...clientOpts, ALPNProtocols: ['h2'] }, 5000)).rejects.toMatchObject({ code: expect.stringMatching(/^ERR_SSL_/) });
    const err = (await serving) as { code: string };
    expect(err.code).toMatch(/^ERR_SSL_/);
    expect(await writing).toMatchObject({ code: err.code });
    a.close();
    b.close();
  });
});

describe('starttls calls', () => {
  it('a second call is a no-op; concurrent calls share one handshake', async () => {
    const [a, b] = Socket.pair();
    const first = a.starttls(serverOpts, 5000);
    const again = a.starttls(serverOpts, 5000);
    await Promise.all([first, again, b.starttls(clientOpts, 5000)]);
    const info = a.checktls();
    expect(await a.starttls(serverOpts, 5000)).toBe(a);
    expect(await b.starttls(undefined, 5000)).toBe(b);
    expect(a.checktls()).toBe(info);
    await b.write('still one session\n');
    expect(await a.read('*l', { timeoutMs: 5000 })).toBe('still one session');
    a.close();
    b.close();
  });

  it('bad arguments throw synchronously with Node codes; bad keys and certificates with OpenSSL codes', () => {
    const [a, b] = Socket.pair();
    const bad: [() => unknown, string][] = [
      [() => a.starttls('x' as unknown as TlsOptions), 'ERR_INVALID_ARG_TYPE'],
      [() => a.starttls({ isServer: 1 } as unknown as TlsOptions), 'ERR_INVALID_ARG_TYPE'],
      [() => a.starttls({ ca: 5 } as unknown as TlsOptions), 'ERR_INVALID_ARG_TYPE'],
      [() => a.starttls({ ALPNProtocols: [''] }), 'ERR_INVALID_ARG_TYPE'],
      [() => a.starttls({ servername: true } as unknown as TlsOptions), 'ERR_INVALID_ARG_TYPE'],
      [() => a.starttls({}, Number.NaN), 'ERR_OUT_OF_RANGE'],
      [() => a.starttls({}, '5' as unknown as number), 'ERR_INVALID_ARG_TYPE'],
      [() => a.starttls({ isServer: true }), 'ERR_INVALID_ARG_VALUE'],
      [() => a.starttls({ minVersion: 'SSLv3' as 'TLSv1' }), 'ERR_TLS_INVALID_PROTOCOL_VERSION'],
      [() => a.starttls({ isServer: true, cert: 'junk', key: certs.server.key }), 'ERR_OSSL_PEM_NO_START_LINE'],
      [() => a.starttls({ isServer: true, cert: certs.server.cert, key: certs.client.key }), 'ERR_OSSL_X509_KEY_VALUES_MISMATCH'],
      [() => a.starttls({ ciphers: 'NOPE' }), 'ERR_SSL_NO_CIPHER_MATCH'],
      [() => Socket.connect('127.0.0.1', 1, { tls: 5 as unknown as boolean }), 'ERR_INVALID_ARG_TYPE'],
      [() => Socket.connect('127.0.0.1', 1, { tls: { isServer: true, cert: 'junk', key: 'junk' } }), 'ERR_OSSL_PEM_NO_START_LINE'],
    ];
    for (const [call, code] of bad) expect(call, code).toThrow(expect.objectContaining({ code }));
    expect(a.checktls()).toBeNull();
    a.close();
    b.close();
  });

  it('limits versions and ciphers as asked', async () => {
    const [a, b] = Socket.pair();
    await Promise.all([
      a.starttls({ ...serverOpts, ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }, 5000),
      b.starttls({ ...clientOpts, maxVersion: 'TLSv1.2' }, 5000),
    ]);
    expect(b.checktls()).toMatchObject({ protocol: 'TLSv1.2', cipher: { name: 'ECDHE-ECDSA-AES128-GCM-SHA256', version: 'TLSv1.2' } });
    a.close();
    b.close();
  });

  it('fresh options objects relying on the default CAs share one parsed root store', async () => {
    const roots = tlsCounts.rootStores;
    const contexts = tlsCounts.contexts;
    for (let i = 0; i < 8; i++) {
      const [a, b] = Socket.pair();
      const serving = a.starttls(serverOpts, 5000).catch(() => null);
      // Our test CA is no root CA: the peer is refused, after a handshake with a context of its own.
      await expect(b.starttls({ servername: 'localhost' }, 5000)).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
      await serving;
      a.close();
      b.close();
    }
    expect(tlsCounts.contexts - contexts).toBe(8);
    expect(tlsCounts.rootStores - roots).toBeLessThanOrEqual(1);
    expect(tlsCounts.rootStores).toBe(1);
  });

  it('options are taken as they were at first use: later changes to the object have no effect', async () => {
    const strict: TlsOptions = { ca: certs.otherCa, servername: 'localhost' };
    const lax: TlsOptions = { ca: certs.ca, servername: 'localhost' };
    const connect = async (opts: TlsOptions): Promise<unknown> => {
      const [a, b] = Socket.pair();
      const serving = a.starttls(serverOpts, 5000).catch(() => null);
      const r = await b.starttls(opts, 5000).then(() => 'ok', (e: { code: string }) => e.code);
      await serving;
      a.close();
      b.close();
      return r;
    };
    expect(await connect(strict)).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(await connect(lax)).toBe('ok');
    strict.rejectUnauthorized = false;
    lax.checkServerIdentity = () => new Error('refused by a later change');
    lax.servername = 'wrong.example';
    expect(await connect(strict)).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(await connect(lax)).toBe('ok');
  });

  it('needs a stream socket', async () => {
    const [a, b] = Socket.pair('dgram');
    await expect(a.starttls(clientOpts, 1000)).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    a.close();
    b.close();
  });

  it('close during the handshake rejects it with ERR_HANDLE_CLOSED; a peer gone before it is EPIPE', async () => {
    const [a, b] = Socket.pair();
    const waiting = a.starttls(serverOpts, 5000); // b says nothing
    a.close();
    a.close();
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_HANDLE_CLOSED' });
    expect(() => a.checktls()).toThrow(expect.objectContaining({ code: 'ERR_HANDLE_CLOSED' }));
    await expect(b.starttls(clientOpts, 5000)).rejects.toMatchObject({ code: 'EPIPE', syscall: 'starttls' });
    await expect(b.read('*l', { timeoutMs: 1000 })).rejects.toMatchObject({ code: 'EPIPE' });
    b.close();
  });
});

describe('sockets with TLS do not move', () => {
  it('sendfd, detach, toNodeSocket and thread.start refuse them; descriptors do not pass over TLS; the socket still works', async () => {
    const [a, b] = await tlsPair();
    const [x, y] = Socket.pair();
    await expect(x.sendfd('m', a, 1000)).rejects.toMatchObject({ code: 'ERR_TLS_SOCKET_NOT_MOVABLE' });
    expect(() => Socket.detach(a)).toThrow(expect.objectContaining({ code: 'ERR_TLS_SOCKET_NOT_MOVABLE' }));
    expect(() => a.toNodeSocket()).toThrow(expect.objectContaining({ code: 'ERR_TLS_SOCKET_NOT_MOVABLE' }));
    await expect(thread.start(() => 1, a)).rejects.toMatchObject({ code: 'ERR_TLS_SOCKET_NOT_MOVABLE' });
    await expect(a.sendfd('m', x, 1000)).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    await expect(a.recvfd(1000)).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    expect(a.closed).toBe(false);
    await b.write('still here\n');
    expect(await a.read('*l', { timeoutMs: 5000 })).toBe('still here');
    for (const s of [a, b, x, y]) s.close();
  });

  it('a socket in the middle of starttls does not move either', async () => {
    const [a, b] = Socket.pair();
    const [x, y] = Socket.pair();
    const serving = a.starttls(serverOpts, 300);
    expect(() => Socket.detach(a)).toThrow(expect.objectContaining({ code: 'ERR_TLS_SOCKET_NOT_MOVABLE' }));
    await expect(serving).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    for (const s of [a, b, x, y]) s.close();
  });
});
