// starttls against another TLS stack: Debian's `openssl s_server` and `openssl s_client` as child processes.
import { spawn, type ChildProcess } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Socket } from 'troupe';
import { makeCerts, type Certs } from '../lib/tls-certs.js';

let certs: Certs;
beforeAll(() => {
  certs = makeCerts();
});
afterAll(() => certs.remove());

/** An openssl child process, its output (stdout and stderr together) and a way to wait for some of it. */
class OpenSsl {
  readonly child: ChildProcess;
  out = '';
  readonly closed: Promise<number | null>;
  #waiters: (() => void)[] = [];

  constructor(args: string[], stdin: 'pipe' | 'ignore' = 'ignore') {
    this.child = spawn('openssl', args, { cwd: certs.dir, stdio: [stdin, 'pipe', 'pipe'] });
    for (const s of [this.child.stdout!, this.child.stderr!]) {
      s.setEncoding('utf8').on('data', (d: string) => {
        this.out += d;
        for (const w of this.#waiters.splice(0)) w();
      });
    }
    // 'close' comes once the process is gone and its pipes are closed: no descriptor of it is left here.
    this.closed = new Promise((resolve) => this.child.on('close', (code) => {
      for (const w of this.#waiters.splice(0)) w();
      resolve(code);
    }));
  }

  /** Waits (5 s at most) until the output matches `re`; returns the match. */
  async until(re: RegExp): Promise<RegExpExecArray> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const m = re.exec(this.out);
      if (m) return m;
      if (Date.now() > deadline || this.child.exitCode !== null) throw new Error(`openssl output never matched ${re}:\n${this.out}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill();
    await this.closed;
  }
}

/** `openssl s_server` on an ephemeral port, echoing each line reversed; resolves with it and the port. */
async function sServer(...extra: string[]): Promise<[OpenSsl, number]> {
  const s = new OpenSsl(['s_server', '-accept', '127.0.0.1:0', '-cert', 'server.pem', '-key', 'server.key', '-rev', '-naccept', '1', ...extra]);
  const m = await s.until(/ACCEPT [^\n]*:(\d+)/);
  return [s, Number(m[1])];
}

describe('a troupe client of openssl s_server', () => {
  it('handshakes, agrees on ALPN, verifies the server, and exchanges data', async () => {
    const [srv, port] = await sServer('-alpn', 'http/1.1');
    const sock = Socket.connect('127.0.0.1', port, { tls: { ca: certs.ca, servername: 'localhost', ALPNProtocols: ['h2', 'http/1.1'] } });
    await sock.write('hello openssl\n');
    expect(await sock.read('*l', { timeoutMs: 5000 })).toBe('lssnepo olleh');
    expect(sock.checktls()).toMatchObject({ protocol: 'TLSv1.3', alpnProtocol: 'http/1.1', authorized: true });
    sock.close();
    await srv.stop();
  });

  it('sends SNI: the server sees the name, and refuses a wrong one (-servername_fatal) with its alert', async () => {
    const sni = ['-servername', 'localhost', '-cert2', 'server.pem', '-key2', 'server.key', '-servername_fatal'];
    const [srv, port] = await sServer(...sni);
    const sock = Socket.connect('localhost', port, { family: 'inet', tls: { ca: certs.ca } }); // SNI: the connect host
    await sock.write('abc\n');
    expect(await sock.read('*l', { timeoutMs: 5000 })).toBe('cba');
    sock.close();
    await srv.closed; // -naccept 1: it exits after this connection, its output flushed
    expect(srv.out).toMatch(/Hostname in TLS extension: "localhost"/);

    const [srv2, port2] = await sServer(...sni);
    const wrong = Socket.connect('127.0.0.1', port2);
    await expect(wrong.starttls({ ca: certs.ca, servername: 'wrong.example' }, 5000)).rejects.toMatchObject({
      code: 'ERR_SSL_TLSV1_UNRECOGNIZED_NAME',
    });
    wrong.close();
    await srv2.stop();
  });

  it('speaks TLS 1.2 to a server limited to it', async () => {
    const [srv, port] = await sServer('-tls1_2');
    const sock = Socket.connect('127.0.0.1', port, { tls: { ca: certs.ca, servername: 'localhost' } });
    await sock.write('twelve\n');
    expect(await sock.read('*l', { timeoutMs: 5000 })).toBe('evlewt');
    expect(sock.checktls()).toMatchObject({ protocol: 'TLSv1.2', authorized: true });
    sock.close();
    await srv.stop();
  });
});

describe('close_notify, as openssl sees it (Node ends a stream on a bare FIN too, and cannot tell)', () => {
  it("a client's close() and shutdown('w') send close_notify (s_server: DONE); destroy() does not (ERROR)", async () => {
    for (const [how, seen] of [['close', 'DONE'], ['shutdown', 'DONE'], ['destroy', 'ERROR']] as const) {
      // NB: stdin stays open: s_server ends the connection itself ("DONE" as well) at its EOF.
      const srv = new OpenSsl(['s_server', '-accept', '127.0.0.1:0', '-cert', 'server.pem', '-key', 'server.key', '-naccept', '1'], 'pipe');
      const port = Number((await srv.until(/ACCEPT [^\n]*:(\d+)/))[1]);
      const sock = Socket.connect('127.0.0.1', port, { tls: { ca: certs.ca, servername: 'localhost' } });
      await sock.write(`before ${how}\n`);
      await srv.until(new RegExp(`before ${how}`));
      // A line back: what s_server sent before it (its session tickets) is read, so that our close does
      // not meet unread input (a reset, whatever went before it).
      srv.child.stdin!.write('back\n');
      expect(await sock.read('*l', { timeoutMs: 5000 })).toBe('back');
      if (how === 'shutdown') sock.shutdown('w');
      else sock[how]();
      expect((await srv.until(/^(DONE|ERROR)$/m))[1], how).toBe(seen);
      sock.close();
      srv.child.stdin!.end();
      await srv.stop();
    }
  });

  it("a server's close() sends close_notify (s_client: closed); with output it could not write, none (unexpected eof)", async () => {
    for (const cut of [false, true]) {
      const l = Socket.listen('127.0.0.1', 0);
      const port = (l.localname() as AddressInfo).port;
      const cli = new OpenSsl(['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', '-CAfile', 'ca.pem'], 'pipe');
      const conn = await l.accept({ timeoutMs: 5000, modes: ['b', 'bf'] });
      await conn.starttls({ isServer: true, key: certs.server.key, cert: certs.server.cert }, 5000);
      conn.setbufsiz(undefined, 1 << 20); // full buffering: the write below stays buffered
      // More than one attempt sends (at most 256 KiB of plaintext): close() cuts the stream short.
      await conn.write(cut ? Buffer.alloc(600 * 1024, 0x61) : 'all of it\n');
      if (!cut) await conn.flush();
      expect(conn.pending().output).toBe(cut ? 600 * 1024 : 0);
      conn.close();
      const m = await cli.until(/closed\n|unexpected eof/);
      expect(m[0], cut ? 'cut short' : 'whole').toBe(cut ? 'unexpected eof' : 'closed\n');
      cli.child.stdin!.end();
      await cli.stop();
      l.close();
    }
  });
});

describe('a troupe server of openssl s_client', () => {
  it('s_client verifies us and gets ALPN; we see its SNI; lines both ways; our close ends it', async () => {
    const l = Socket.listen('127.0.0.1', 0);
    const port = (l.localname() as AddressInfo).port;
    const cli = new OpenSsl(
      ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', '-alpn', 'h2,http/1.1', '-CAfile', 'ca.pem', '-verify_return_error'],
      'pipe',
    );
    const conn = await l.accept({ timeoutMs: 5000 });
    await conn.starttls({ isServer: true, key: certs.server.key, cert: certs.server.cert, ALPNProtocols: ['http/1.1'] }, 5000);
    expect(conn.checktls()).toMatchObject({ servername: 'localhost', alpnProtocol: 'http/1.1', isServer: true });
    cli.child.stdin!.write('hello from s_client\n');
    expect(await conn.read('*l', { timeoutMs: 5000 })).toBe('hello from s_client');
    await conn.write('hello from troupe\n');
    await cli.until(/hello from troupe/);
    expect(conn.checktls()!.sessionReused).toBe(false);
    conn.close();
    await cli.until(/closed\n/); // close_notify
    cli.child.stdin!.end();
    await cli.closed;
    expect(cli.out).toMatch(/ALPN protocol: http\/1\.1/);
    expect(cli.out).toMatch(/Verify return code: 0 \(ok\)/);
    // No session resumption: no tickets (TLS 1.3 sends them after the handshake), no session cache.
    expect(cli.out).not.toMatch(/New Session Ticket|TLS session ticket/);
    expect(cli.out).toMatch(/Reused: no|^New, /m);
    l.close();
  });

  it('verifies the client certificate s_client presents', async () => {
    const l = Socket.listen('127.0.0.1', 0);
    const port = (l.localname() as AddressInfo).port;
    const cli = new OpenSsl(
      ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', '-CAfile', 'ca.pem', '-cert', 'client.pem', '-key', 'client.key'],
      'pipe',
    );
    const conn = await l.accept({ timeoutMs: 5000 });
    await conn.starttls({ isServer: true, key: certs.server.key, cert: certs.server.cert, requestCert: true, ca: certs.ca }, 5000);
    expect(conn.checktls()).toMatchObject({ authorized: true });
    expect(conn.checktls()!.peerCertificate!.subject).toBe('CN=troupe client');
    conn.close();
    cli.child.stdin!.end();
    await cli.closed;
    l.close();
  });
});
