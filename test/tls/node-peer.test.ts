// starttls/checktls against Node's own TLS: a troupe client of tls.createServer, a troupe server of
// tls.connect; SNI and ALPN as the peer sees them; verification failures with Node's codes.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { randomBytes } from 'node:crypto';
import { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Socket, monotime, type TlsOptions } from 'troupe';
import { makeCerts, type Certs } from '../lib/tls-certs.js';

let certs: Certs;
beforeAll(() => {
  certs = makeCerts();
});
afterAll(() => certs.remove());

interface NodeServer {
  port: number;
  close(): Promise<void>;
}

/** A Node TLS server on 127.0.0.1; `onConn` gets each secure connection. */
async function nodeServer(opts: tls.TlsOptions, onConn: (s: tls.TLSSocket) => void = () => {}): Promise<NodeServer> {
  const conns = new Set<tls.TLSSocket>();
  const srv = tls.createServer(opts, (s) => {
    conns.add(s);
    s.on('close', () => conns.delete(s));
    s.on('error', () => {});
    onConn(s);
  });
  srv.on('tlsClientError', () => {});
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return {
    port: (srv.address() as AddressInfo).port,
    close: async () => {
      for (const s of conns) s.destroy();
      await new Promise<void>((resolve) => srv.close(() => resolve()));
    },
  };
}

/** An upper-casing line echo over TLS. */
function upperEcho(s: tls.TLSSocket): void {
  s.setEncoding('utf8');
  s.on('data', (d: string) => s.write(d.toUpperCase()));
  s.on('end', () => s.end());
}

/** What Node's tls.connect makes of the same server: its error code, or undefined when it connects. */
async function nodeClientCode(port: number, opts: tls.ConnectionOptions): Promise<string | undefined> {
  const c = tls.connect({ port, host: '127.0.0.1', ...opts });
  try {
    return await new Promise<string | undefined>((resolve) => {
      c.once('secureConnect', () => resolve(undefined));
      c.once('error', (e: NodeJS.ErrnoException) => resolve(e.code));
    });
  } finally {
    c.destroy();
  }
}

function server(): TlsOptions {
  return { isServer: true, key: certs.server.key, cert: certs.server.cert };
}

describe('a troupe client of a Node TLS server', () => {
  it('handshakes; SNI and ALPN reach the server; data flows both ways; checktls() reports it', async () => {
    let seen: { servername: unknown; alpn: unknown } | undefined;
    const srv = await nodeServer({ key: certs.server.key, cert: certs.server.cert, ALPNProtocols: ['h2', 'http/1.1'] }, (s) => {
      seen = { servername: s.servername, alpn: s.alpnProtocol };
      upperEcho(s);
    });
    const sock = Socket.connect('localhost', srv.port, { family: 'inet' });
    expect(sock.checktls()).toBeNull();
    expect(await sock.starttls({ ca: certs.ca, ALPNProtocols: ['spdy/1', 'http/1.1'] }, 5000)).toBe(sock);
    await sock.write('hello tls\n');
    expect(await sock.read('*l', { timeoutMs: 5000 })).toBe('HELLO TLS');
    expect(seen).toEqual({ servername: 'localhost', alpn: 'http/1.1' });
    const info = sock.checktls()!;
    expect(info).toMatchObject({
      protocol: 'TLSv1.3',
      alpnProtocol: 'http/1.1',
      servername: 'localhost',
      authorized: true,
      authorizationError: undefined,
      isServer: false,
    });
    expect(info.cipher.standardName).toMatch(/^TLS_/);
    expect(info.cipher.version).toBe('TLSv1.3');
    expect(info.peerCertificate!.subject).toBe('CN=localhost');
    expect(info.peerCertificate!.checkIssued(new (await import('node:crypto')).X509Certificate(certs.ca))).toBe(true);
    sock.close();
    await srv.close();
  });

  it('connects with `tls` in the connect options: DNS, connect and handshake before the first I/O', async () => {
    const srv = await nodeServer({ key: certs.server.key, cert: certs.server.cert }, upperEcho);
    const sock = Socket.connect('127.0.0.1', srv.port, { tls: { ca: certs.ca, servername: 'localhost' } });
    await sock.write('lazy\n');
    expect(await sock.read('*l', { timeoutMs: 5000 })).toBe('LAZY');
    expect(sock.checktls()!.authorized).toBe(true);
    sock.close();
    await srv.close();
  });

  it('moves megabytes both ways intact (binary mode, reads of every shape)', async () => {
    const srv = await nodeServer({ key: certs.server.key, cert: certs.server.cert }, (s) => s.pipe(s));
    const sock = Socket.connect('127.0.0.1', srv.port, { modes: ['b', 'bf'], tls: { ca: certs.ca, servername: 'localhost' } });
    const data = randomBytes(3 * 1024 * 1024 + 123);
    const writer = (async () => {
      for (let off = 0; off < data.length; off += 50_000) await sock.write(data.subarray(off, off + 50_000));
      await sock.flush({ timeoutMs: 10_000 });
    })();
    const parts: Buffer[] = [];
    const head = await sock.readBytes(1000, { timeoutMs: 10_000 });
    parts.push(head!);
    let got = head!.length;
    while (got < data.length) {
      const b = (await sock.readBytes(-65536, { timeoutMs: 10_000 }))!;
      parts.push(b);
      got += b.length;
    }
    await writer;
    expect(Buffer.concat(parts).equals(data)).toBe(true);
    sock.close();
    await srv.close();
  });

  // NB: Node ends the stream on a bare FIN as well: that close_notify goes out is checked against openssl
  // (openssl.test.ts), which tells the two apart.
  it('close(): the Node peer sees the end of the stream', async () => {
    let ended!: Promise<unknown>;
    const srv = await nodeServer({ key: certs.server.key, cert: certs.server.cert }, (s) => {
      ended = once(s, 'end');
      s.resume();
    });
    const sock = Socket.connect('127.0.0.1', srv.port, { tls: { ca: certs.ca, servername: 'localhost' } });
    await sock.write('bye\n');
    sock.close();
    await ended;
    await srv.close();
  });
});

describe('the end of the stream', () => {
  it('plaintext and close_notify in one read, with no FIN behind them: the next read is the end', async () => {
    const [sock, other] = Socket.pair();
    const raw = other.toNodeSocket();
    // Node's TLS over a Duplex that never ends the raw socket: its close_notify comes without a FIN.
    const wire = new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        raw.write(chunk, cb);
      },
      final(cb) {
        cb();
      },
    });
    raw.on('data', (d: Buffer) => wire.push(d));
    const peer = new tls.TLSSocket(wire, { isServer: true, key: certs.server.key, cert: certs.server.cert });
    peer.on('error', () => {});
    const secure = once(peer, 'secure');
    await sock.starttls({ ca: certs.ca, servername: 'localhost' }, 5000);
    await secure;
    peer.end('last line\n');
    await once(peer, 'finish');
    await new Promise((r) => setTimeout(r, 100)); // both records wait in the socket: one read takes them
    expect(await sock.read('*l', { timeoutMs: 5000 })).toBe('last line');
    expect(await sock.read('*l', { timeoutMs: 2000 })).toBeNull();
    expect(sock.eof('r')).toBe(true);
    peer.destroy();
    raw.destroy();
    sock.close();
  });
});

describe('peer verification (client side), with the codes Node gives', () => {
  it('a self-signed server: DEPTH_ZERO_SELF_SIGNED_CERT; later I/O fails with it; checktls() says why', async () => {
    const srv = await nodeServer({ key: certs.self.key, cert: certs.self.cert }, upperEcho);
    expect(await nodeClientCode(srv.port, { servername: 'localhost' })).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    const sock = Socket.connect('127.0.0.1', srv.port);
    await expect(sock.starttls({ servername: 'localhost' }, 5000)).rejects.toMatchObject({
      name: 'RuntimeError',
      code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
      message: 'self-signed certificate',
    });
    await expect(sock.read()).rejects.toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    await expect(sock.write('x\n')).rejects.toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    expect(sock.checktls()).toMatchObject({ authorized: false, authorizationError: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    sock.close();
    await srv.close();
  });

  it('verification off accepts the self-signed server, and reports it unauthorized', async () => {
    const srv = await nodeServer({ key: certs.self.key, cert: certs.self.cert }, upperEcho);
    const sock = Socket.connect('127.0.0.1', srv.port, { tls: { rejectUnauthorized: false } });
    await sock.write('anyway\n');
    expect(await sock.read('*l', { timeoutMs: 5000 })).toBe('ANYWAY');
    expect(sock.checktls()).toMatchObject({ authorized: false, authorizationError: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    sock.close();
    await srv.close();
  });

  it('an issuer it does not trust, a wrong host name, Node root CAs only: the same codes as Node', async () => {
    const srv = await nodeServer({ key: certs.server.key, cert: certs.server.cert }, upperEcho);
    const cases: [TlsOptions, string][] = [
      [{ ca: certs.otherCa, servername: 'localhost' }, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
      [{ servername: 'localhost' }, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
      [{ ca: certs.ca, servername: 'wrong.example' }, 'ERR_TLS_CERT_ALTNAME_INVALID'],
    ];
    for (const [opts, code] of cases) {
      expect(await nodeClientCode(srv.port, opts as tls.ConnectionOptions)).toBe(code);
      const sock = Socket.connect('127.0.0.1', srv.port);
      await expect(sock.starttls(opts, 5000)).rejects.toMatchObject({ code });
      sock.close();
    }
    // The host name check uses the connect host when there is no SNI name.
    const byIp = Socket.connect('127.0.0.1', srv.port);
    await byIp.starttls({ ca: certs.ca }, 5000);
    expect(byIp.checktls()).toMatchObject({ authorized: true, servername: false });
    byIp.close();
    await srv.close();
  });
});

describe('a troupe server of Node tls.connect', () => {
  it('handshakes; the client sees ALPN and verifies us; our side sees its SNI; data both ways', async () => {
    const l = Socket.listen('127.0.0.1', 0);
    const port = (l.localname() as AddressInfo).port;
    const nc = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca, ALPNProtocols: ['h2', 'http/1.1'] });
    nc.setEncoding('utf8');
    const connected = once(nc, 'secureConnect');
    const conn = await l.accept({ timeoutMs: 5000 });
    await conn.starttls({ ...server(), ALPNProtocols: ['http/1.1'] }, 5000);
    await connected;
    expect(nc.authorized).toBe(true);
    expect(nc.alpnProtocol).toBe('http/1.1');
    expect(conn.checktls()).toMatchObject({ servername: 'localhost', alpnProtocol: 'http/1.1', isServer: true, authorized: false, peerCertificate: null });
    nc.write('ping\n');
    expect(await conn.read('*l', { timeoutMs: 5000 })).toBe('ping');
    let got = '';
    nc.on('data', (d: string) => (got += d));
    const ended = once(nc, 'end');
    await conn.write('pong\n');
    conn.close();
    await ended;
    expect(got).toBe('pong\r\n');
    nc.destroy();
    l.close();
  });

  it('asks for client certificates: verified ones are authorized; none at all fails the handshake', async () => {
    const l = Socket.listen('127.0.0.1', 0);
    const port = (l.localname() as AddressInfo).port;
    const opts: TlsOptions = { ...server(), requestCert: true, ca: certs.ca };
    const good = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca, key: certs.client.key, cert: certs.client.cert });
    const c1 = await l.accept({ timeoutMs: 5000 });
    await c1.starttls(opts, 5000);
    expect(c1.checktls()).toMatchObject({ authorized: true, authorizationError: undefined });
    expect(c1.checktls()!.peerCertificate!.subject).toBe('CN=troupe client');
    good.destroy();
    c1.close();

    const bare = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: certs.ca });
    bare.on('error', () => {});
    const c2 = await l.accept({ timeoutMs: 5000 });
    await expect(c2.starttls(opts, 5000)).rejects.toMatchObject({ code: 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE' });
    bare.destroy();
    c2.close();
    l.close();
  });
});

describe('handshake failures', () => {
  it('no ALPN protocol in common: the alert, with the code Node gives', async () => {
    const srv = await nodeServer({ key: certs.server.key, cert: certs.server.cert, ALPNProtocols: ['http/1.1'] });
    const opts = { ca: certs.ca, servername: 'localhost', ALPNProtocols: ['h2'] };
    const code = await nodeClientCode(srv.port, opts);
    expect(code).toBe('ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL');
    const sock = Socket.connect('127.0.0.1', srv.port);
    await expect(sock.starttls(opts, 5000)).rejects.toMatchObject({ code, name: 'RuntimeError', reason: 'tlsv1 alert no application protocol' });
    sock.close();
    await srv.close();
  });

  it('a peer that does not speak TLS: the code Node gives', async () => {
    const l = Socket.listen('127.0.0.1', 0);
    const port = (l.localname() as AddressInfo).port;
    const answering = (async () => {
      for (let k = 0; k < 2; k++) {
        const c = await l.accept({ timeoutMs: 5000 });
        await c.read('*l', { timeoutMs: 5000 }).catch(() => null);
        await c.write('HTTP/1.1 400 Bad Request\n\n').catch(() => null);
        c.close();
      }
    })();
    const code = await nodeClientCode(port, { servername: 'localhost' });
    expect(code).toMatch(/^ERR_SSL_/);
    const sock = Socket.connect('127.0.0.1', port);
    await expect(sock.starttls({ servername: 'localhost' }, 5000)).rejects.toMatchObject({ code });
    sock.close();
    await answering;
    l.close();
  });

  it('a peer that closes mid-handshake: ECONNRESET', async () => {
    const l = Socket.listen('127.0.0.1', 0);
    const port = (l.localname() as AddressInfo).port;
    const sock = Socket.connect('127.0.0.1', port);
    const hello = sock.starttls({ servername: 'localhost' }, 5000);
    const c = await l.accept({ timeoutMs: 5000 });
    expect(await c.fill(1, 5000)).toBe(true); // the ClientHello arrived
    c.close();
    await expect(hello).rejects.toMatchObject({ name: 'SystemError', code: 'ECONNRESET', syscall: 'starttls' });
    sock.close();
    l.close();
  });

  it('a peer that never answers: ETIMEDOUT at the deadline; a later starttls waits on for the same handshake', async () => {
    const l = Socket.listen('127.0.0.1', 0);
    const port = (l.localname() as AddressInfo).port;
    const sock = Socket.connect('127.0.0.1', port);
    const c = await l.accept({ timeoutMs: 5000 });
    const t0 = monotime();
    await expect(sock.starttls({ ca: certs.ca, servername: 'localhost' }, 150)).rejects.toMatchObject({ code: 'ETIMEDOUT', syscall: 'starttls' });
    const took = monotime() - t0;
    expect(took).toBeGreaterThanOrEqual(149);
    expect(took).toBeLessThan(3000);
    // I/O waits for the handshake too, with its own deadline.
    await expect(sock.read('*l', { timeoutMs: 50 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    const serving = c.starttls(server(), 5000);
    await sock.starttls(undefined, 5000);
    await serving;
    await c.write('late\n');
    expect(await sock.read('*l', { timeoutMs: 5000 })).toBe('late');
    sock.close();
    c.close();
    l.close();
  });
});
