// Socket I/O: TCP and unix transports, errors and timeouts, datagrams, chunked reads, descriptor passing.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Controller, Socket, monotime } from 'troupe';
import { addon } from '../../runtime/native.js';

const dir = mkdtempSync(join(tmpdir(), 'troupe-sock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function flags(fd: number): number {
  return parseInt(/flags:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]!, 8);
}
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;

describe('TCP', () => {
  it('connects lazily by name, echoes, and reports both addresses; every fd is CLOEXEC|NONBLOCK', async () => {
    const srv = Socket.listen('127.0.0.1', 0);
    const { port } = srv.localname() as { port: number };
    expect(port).toBeGreaterThan(0);
    const cli = Socket.connect('localhost', port, { family: 'inet' });
    const accepted = srv.accept({ timeoutMs: 5000 });
    await cli.connect(5000);
    const conn = await accepted;
    for (const s of [srv, cli, conn]) {
      const fd = s.pollfd() as number;
      expect(flags(fd) & (O_NONBLOCK | O_CLOEXEC)).toBe(O_NONBLOCK | O_CLOEXEC);
    }
    expect(cli.peername()).toEqual({ family: 'inet', address: '127.0.0.1', port });
    expect(conn.localname()).toEqual({ family: 'inet', address: '127.0.0.1', port });
    await cli.write('hello\n');
    expect(await conn.read()).toBe('hello');
    await conn.write('back\n');
    expect(await cli.read()).toBe('back');
    expect(cli.stats().sent.bytes).toBe(7);
    for (const s of [cli, conn, srv]) s.close();
  });

  it('sets TCP_NODELAY and TCP_CORK when asked (nodelay, nopush)', async () => {
    const srv = Socket.listen('127.0.0.1', 0);
    const port = (srv.localname() as { port: number }).port;
    const C = addon.constants;
    for (const [opts, name] of [[{ nodelay: true }, 'TCP_NODELAY'], [{ nopush: true }, 'TCP_CORK']] as const) {
      const cli = Socket.connect('127.0.0.1', port, opts);
      await cli.connect(5000);
      const conn = await srv.accept();
      expect(addon.getSockOpt(cli.pollfd() as number, C.IPPROTO_TCP!, C[name]!)).toBeGreaterThan(0);
      cli.close();
      conn.close();
    }
    srv.close();
  });

  it('surfaces ECONNREFUSED on the first I/O and on connect()', async () => {
    const s = Socket.connect('127.0.0.1', 1);
    await expect(s.connect(5000)).rejects.toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect', address: '127.0.0.1', port: 1 });
    await expect(s.read()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    s.close();
  });

  it('surfaces a name that does not resolve on the first I/O', async () => {
    const s = Socket.connect('no-such-host.invalid', 80);
    await expect(s.connect(10_000)).rejects.toMatchObject({ code: expect.stringMatching(/ENOTFOUND|EAI_AGAIN/) });
    s.close();
  });

  it('half-closes both ways: EOF on one side, writes still flow on the other', async () => {
    const srv = Socket.listen('127.0.0.1', 0);
    const cli = Socket.connect('127.0.0.1', (srv.localname() as { port: number }).port);
    const conn = await srv.accept();
    await cli.write('request\n');
    cli.shutdown('w');
    expect(await conn.read()).toBe('request');
    expect(await conn.read()).toBeNull();
    expect(conn.eof('r')).toBe(true);
    await conn.write('response\n');
    conn.shutdown('w');
    expect(await cli.read()).toBe('response');
    expect(await cli.read()).toBeNull();
    for (const s of [cli, conn, srv]) s.close();
  });

  it('refuses a second listener on a port in use, unless both use reuseport', () => {
    const a = Socket.listen('127.0.0.1', 0);
    const { port } = a.localname() as { port: number };
    expect(() => Socket.listen('127.0.0.1', port)).toThrow(expect.objectContaining({ code: 'EADDRINUSE', syscall: 'bind' }));
    a.close();
    const b = Socket.listen({ host: '127.0.0.1', port: 0, reuseport: true });
    const c = Socket.listen({ host: '127.0.0.1', port: (b.localname() as { port: number }).port, reuseport: true });
    b.close();
    c.close();
  });
});

describe('fast paths', () => {
  it('a read served from the buffer never touches the controller', async () => {
    // The sockets wait through a controller nobody steps: any read that had to wait would hang.
    const idle = new Controller();
    const [w, r] = Socket.pair('stream', { controller: idle });
    w.setmode('b', 'bn');
    await w.write('one\ntwo\nthree\n'); // the kernel takes it at once
    r.setbufsiz(4096);
    // The first read finds the bytes in the kernel; it must not wait either (I/O is tried first).
    expect(await r.read()).toBe('one');
    expect(r.pending().input).toBeGreaterThan(0);
    expect(await r.read()).toBe('two');
    expect(await r.read()).toBe('three');
    expect(idle.stats()).toMatchObject({ steps: 0, fds: 0 });
    w.close();
    r.close();
    idle.close();
  });
});

describe('errors and timeouts', () => {
  it('a read timeout keeps partial data, is sticky until clearerr, and becomes ERR_UNCHECKED_ERRORS', async () => {
    const [w, r] = Socket.pair();
    w.setmode('b', 'bn');
    await w.write('part');
    const t0 = monotime();
    await expect(r.read('*l', { timeoutMs: 30 })).rejects.toMatchObject({ code: 'ETIMEDOUT', errno: -110 });
    expect(monotime() - t0).toBeGreaterThanOrEqual(29);
    expect(r.pending().input).toBe(4);
    await w.write('ial\n');
    // Sticky: fails at once, without I/O, although the line is complete now.
    await expect(r.read()).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    expect(r.error('r')).toMatchObject({ code: 'ETIMEDOUT' });
    r.setmaxerrs(2, 'r');
    await expect(r.read()).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    await expect(r.read()).rejects.toMatchObject({ code: 'ERR_UNCHECKED_ERRORS', cause: { code: 'ETIMEDOUT' } });
    r.clearerr();
    expect(r.error('r')).toBeUndefined();
    expect(await r.read()).toBe('partial');
    w.close();
    r.close();
  });

  it('writing to a closed peer fails with EPIPE (no SIGPIPE), sticky on the write side', async () => {
    const [a, b] = Socket.pair();
    b.close();
    await expect(a.write('x\n')).rejects.toMatchObject({ code: 'EPIPE', syscall: 'write' });
    expect(a.eof('w')).toBe(true);
    await expect(a.write('y\n')).rejects.toMatchObject({ code: 'EPIPE' });
    a.close();
  });

  it('a write to a stalled peer times out with ETIMEDOUT, its buffer bounded', async () => {
    const [a, b] = Socket.pair();
    a.setmode('b', 'bn');
    a.settimeout(100);
    const chunk = Buffer.alloc(16 * 1024, 0x61);
    let err: unknown;
    const t0 = monotime();
    for (let i = 0; i < 10_000 && err === undefined; i++) {
      await a.write(chunk).catch((e: unknown) => (err = e));
      expect(a.pending().output).toBeLessThanOrEqual(64 * 1024 + chunk.length);
    }
    expect(err).toMatchObject({ code: 'ETIMEDOUT' });
    expect(monotime() - t0).toBeLessThan(10_000);
    a.close();
    b.close();
  });

  it('close() wakes a task blocked in read, which rejects with ERR_HANDLE_CLOSED; close twice is fine', async () => {
    const [a, b] = Socket.pair();
    const c = new Controller();
    const sock = a;
    let caught: unknown;
    c.wrap(async () => {
      try {
        await sock.read();
      } catch (e) {
        caught = e;
      }
    });
    await c.step();
    sock.close();
    sock.close();
    await c.loop();
    expect(caught).toMatchObject({ code: 'ERR_HANDLE_CLOSED' });
    await expect(sock.read()).rejects.toMatchObject({ code: 'ERR_HANDLE_CLOSED' });
    await expect(sock.write('x')).rejects.toMatchObject({ code: 'ERR_HANDLE_CLOSED' });
    b.close();
    c.close();
  });
});

describe('unix sockets', () => {
  it('listen on a path and on an abstract name; peereid/peerpid are ours', async () => {
    for (const path of [join(dir, 's.sock'), `@troupe-test-${process.pid}`]) {
      const srv = Socket.listen({ path, unlink: true });
      const cli = Socket.connect({ path });
      const conn = await srv.accept();
      await cli.connect();
      expect(conn.peerpid()).toBe(process.pid);
      expect(conn.peereid()).toEqual({ uid: process.getuid!(), gid: process.getgid!() });
      expect(conn.localname()).toEqual({ family: 'unix', path: path.startsWith('@') ? `\0${path.slice(1)}` : path });
      await cli.write('over unix\n');
      expect(await conn.read()).toBe('over unix');
      for (const s of [cli, conn, srv]) s.close();
    }
  });

  it("sets the socket file's permissions with mode, or clears some with mask", () => {
    const a = Socket.listen({ path: join(dir, 'mode.sock'), mode: '0600' });
    expect(statSync(join(dir, 'mode.sock')).mode & 0o777).toBe(0o600);
    const b = Socket.listen({ path: join(dir, 'mask.sock'), mask: 0o077 });
    expect(statSync(join(dir, 'mask.sock')).mode & 0o777).toBe(0o700);
    a.close();
    b.close();
  });

  it('keeps datagram framing: each message reads like a stream that ends', async () => {
    const [a, b] = Socket.pair('dgram');
    a.setmode('b', 'bn');
    for (const m of ['abc', 'def\nghi', 'jkl']) await a.write(m);
    expect(await b.read('*a')).toBe('abc');
    expect(await b.read('*l')).toBe('def');
    expect(await b.read('*l')).toBe('ghi');
    expect(await b.read(2)).toBe('jk');
    a.close();
    b.close();
  });
});

describe('chunked reads', () => {
  it('reads an HTTP chunked body with setchunk, a chunk boundary falling inside a line', async () => {
    const [w, r] = Socket.pair();
    w.setmode('b', 'bn');
    // Two chunks: "hello\nwor" (9 bytes) and "ld\n" (3 bytes); the line "world" spans both.
    await w.write('9\r\nhello\nwor\r\n3\r\nld\n\r\n0\r\n\r\n');
    w.shutdown('w');
    const lines: string[] = [];
    let partial = '';
    for (;;) {
      const size = parseInt((await r.read('*l'))!, 16);
      if (size === 0) break;
      r.setchunk(size);
      for (let l = await r.read('*L'); l !== null; l = await r.read('*L')) {
        partial += l;
        if (partial.endsWith('\n')) {
          lines.push(partial.slice(0, -1));
          partial = '';
        }
      }
      r.setchunk(null);
      expect(await r.read('*l')).toBe(''); // the CRLF after the chunk
    }
    expect(lines).toEqual(['hello', 'world']);
    expect(await r.read('*l')).toBe('');
    w.close();
    r.close();
  });

  it('unget puts data back in front; fill waits for n bytes and says false at EOF', async () => {
    const [w, r] = Socket.pair();
    w.setmode('b', 'bn');
    await w.write('abc');
    expect(await r.fill(3, 1000)).toBe(true);
    r.unget('xy');
    expect(await r.read(4)).toBe('xyab');
    w.shutdown('w');
    expect(await r.fill(5, 1000)).toBe(false);
    expect(await r.read(-10)).toBe('c');
    w.close();
    r.close();
  });

  it('packs and unpacks bits big-endian, past 2^53 as bigint', async () => {
    const [a, b] = Socket.pair();
    a.setmode('b', 'bn');
    b.setmode('b', 'bn');
    await a.pack(5, 3);
    await a.pack(1, 5);
    await a.pack(-1, 32);
    await a.pack(2n ** 60n + 7n, 64);
    expect(await b.unpack(3)).toBe(5);
    expect(await b.unpack(5)).toBe(1);
    expect(await b.unpack(32)).toBe(4294967295);
    expect(await b.unpack(64)).toBe(2n ** 60n + 7n);
    a.close();
    expect(await b.unpack(8)).toBeNull();
    b.close();
  });
});

describe('descriptor passing', () => {
  it('moves a socket with unread buffered bytes; the receiver reads those first', async () => {
    const [chanA, chanB] = Socket.pair();
    const [peer, moving] = Socket.pair();
    await peer.write('first\nsecond\nthird');
    expect(await moving.read()).toBe('first'); // "second\nthird" now sits in moving's buffer
    moving.settimeout(5000);
    await chanA.sendfd('take this', moving);
    expect(moving.closed).toBe(true);
    await expect(moving.read()).rejects.toMatchObject({ code: 'ERR_HANDLE_TRANSFERRED' });
    const { message, socket } = await chanB.recvfd(5000);
    expect(message.toString()).toBe('take this');
    expect(socket!.timeout()).toBe(5000);
    expect(await socket!.read()).toBe('second');
    await peer.write('\n');
    expect(await socket!.read()).toBe('third');
    for (const s of [chanA, chanB, peer, socket!]) s.close();
  });

  it('passes a plain descriptor number, which stays open on the sending side', async () => {
    const [chanA, chanB] = Socket.pair();
    const [x, y] = Socket.pair();
    await chanA.sendfd('fd', y.pollfd() as number);
    const { socket } = await chanB.recvfd();
    expect(socket!.pollfd()).not.toBe(y.pollfd());
    await x.write('via dup\n');
    expect(await socket!.read()).toBe('via dup');
    for (const s of [chanA, chanB, x, y, socket!]) s.close();
  });

  it('closes what arrived and fails with ENOBUFS when control data is truncated', async () => {
    const [chanA, chanB] = Socket.pair();
    const [x, y] = Socket.pair();
    const fds = Int32Array.of(x.pollfd() as number, y.pollfd() as number);
    expect(addon.sendFds(chanA.pollfd() as number, Buffer.from('two'), 0, 3, fds)).toBe(3);
    await expect(chanB.recvfd(1000)).rejects.toMatchObject({ code: 'ENOBUFS' });
    for (const s of [chanA, chanB, x, y]) s.close();
  });
});
