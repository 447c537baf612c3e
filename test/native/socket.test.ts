// The socket calls through the binding: numbers and caller-owned buffers in, a result or -errno out.
import { readdirSync } from 'node:fs';
import { constants } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { EPOLLIN, EPOLLOUT, FLAG_CLOEXEC, FLAG_NONBLOCK, addon, type NativePoller } from '../../runtime/native.js';

const { EAGAIN, EBADF, ECONNREFUSED, EINPROGRESS, EINVAL, ENAMETOOLONG, ENOBUFS, ENOTSOCK, EPIPE } =
  constants.errno;
const C = addon.constants;
const BOTH = FLAG_CLOEXEC | FLAG_NONBLOCK;
const enc = new TextEncoder();
const dec = new TextDecoder();

// Every fd and poller a test opens is closed after it, pass or fail, so the leak gate reports only leaks
// of the code under test.
const owned = new Set<number>();
const pollers: NativePoller[] = [];
afterEach(() => {
  for (const fd of owned) addon.close(fd);
  owned.clear();
  for (const p of pollers.splice(0)) p.close();
});

function own(fd: number): number {
  expect(fd).toBeGreaterThanOrEqual(0);
  owned.add(fd);
  return fd;
}

function close(fd: number): void {
  owned.delete(fd);
  expect(addon.close(fd)).toBe(0);
}

function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Waits (up to 5 s) until fd reports one of `events`, through a native Poller: no sleeps. */
function waitFor(fd: number, events: number): number {
  const p = new addon.Poller();
  pollers.push(p);
  expect(p.open()).toBe(0);
  expect(p.set(fd, events, 7)).toBe(0);
  const out = new Int32Array(2);
  const n = p.wait(5000, out);
  p.close();
  expect(n).toBe(1);
  expect(out[0]).toBe(7);
  return out[1]!;
}

function pair(type: number): [number, number] {
  const out = new Int32Array(2);
  expect(addon.socketpair(type, out)).toBe(0);
  return [own(out[0]!), own(out[1]!)];
}

/** Reads exactly `n` bytes, waiting for readiness whenever the kernel says EAGAIN. */
function readExactly(fd: number, n: number): string {
  const buf = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const rc = addon.read(fd, buf, got, n - got);
    if (rc === -EAGAIN) {
      waitFor(fd, EPOLLIN);
      continue;
    }
    expect(rc).toBeGreaterThan(0);
    got += rc;
  }
  return dec.decode(buf);
}

function send(fd: number, s: string): void {
  const b = enc.encode(s);
  expect(addon.write(fd, b, 0, b.length)).toBe(b.length);
}

/** A listener on 127.0.0.1:0, a connected client and the accepted end. */
function tcp(): { listener: number; client: number; server: number; port: number } {
  const listener = own(addon.socket(C.AF_INET!, C.SOCK_STREAM!));
  expect(addon.setSockOpt(listener, C.SOL_SOCKET!, C.SO_REUSEADDR!, 1)).toBe(0);
  expect(addon.bind(listener, C.AF_INET!, '127.0.0.1', 0)).toBe(0);
  expect(addon.listen(listener, 8)).toBe(0);
  const name = addon.sockName(listener, false);
  if (typeof name === 'number' || name.family === 'unix') throw new Error(`sockName: ${JSON.stringify(name)}`);
  const client = own(addon.socket(C.AF_INET!, C.SOCK_STREAM!));
  const rc = addon.connect(client, C.AF_INET!, '127.0.0.1', name.port);
  expect([0, -EINPROGRESS]).toContain(rc);
  expect(waitFor(client, EPOLLOUT) & EPOLLOUT).toBeTruthy();
  expect(addon.sockError(client)).toBe(0);
  waitFor(listener, EPOLLIN);
  const server = own(addon.accept(listener));
  return { listener, client, server, port: name.port };
}

describe('native socket calls', () => {
  it('exports the constants under their C names, frozen', () => {
    expect(C).toMatchObject({ AF_INET: 2, AF_INET6: 10, AF_UNIX: 1, SOCK_STREAM: 1, SOCK_DGRAM: 2 });
    expect(C.EAGAIN).toBe(EAGAIN);
    expect(C.EINPROGRESS).toBe(EINPROGRESS);
    expect(Object.keys(C)).toHaveLength(27);
    expect(Object.isFrozen(C)).toBe(true);
  });

  it('TCP over loopback: connect, accept, EAGAIN, round trip, writev, half-close both ways', () => {
    const { listener, client, server, port } = tcp();
    for (const fd of [listener, client, server]) expect(addon.fdFlags(fd)).toBe(BOTH);
    expect(addon.sockName(client, true)).toEqual({ family: 'inet', address: '127.0.0.1', port });
    expect(addon.accept(listener)).toBe(-EAGAIN);
    expect(addon.read(server, new Uint8Array(8), 0, 8)).toBe(-EAGAIN);

    // off and len select the bytes, on both sides, also in a view with its own byteOffset.
    const out = enc.encode('..hello..');
    expect(addon.write(client, out, 2, 5)).toBe(5);
    waitFor(server, EPOLLIN);
    const backing = new Uint8Array(16);
    const view = new Uint8Array(backing.buffer, 4, 8);
    expect(addon.read(server, view, 1, 7)).toBe(5);
    expect(dec.decode(backing.subarray(5, 10))).toBe('hello');

    // writev: only the first `count` buffers, an empty one among them.
    const parts = ['ab', '', 'cde', 'not sent'].map((s) => enc.encode(s));
    expect(addon.writev(client, parts, 3)).toBe(5);
    expect(readExactly(server, 5)).toBe('abcde');

    expect(addon.shutdown(client, C.SHUT_WR!)).toBe(0);
    waitFor(server, EPOLLIN);
    expect(addon.read(server, new Uint8Array(8), 0, 8)).toBe(0);
    send(server, 'still open');
    expect(readExactly(client, 10)).toBe('still open');
    expect(addon.shutdown(server, C.SHUT_WR!)).toBe(0);
    waitFor(client, EPOLLIN);
    expect(addon.read(client, new Uint8Array(8), 0, 8)).toBe(0);
    for (const fd of [listener, client, server]) close(fd);
  });

  it('reports a refused connection through sockError, EPIPE on a closed peer', () => {
    const probe = own(addon.socket(C.AF_INET!, C.SOCK_STREAM!));
    expect(addon.bind(probe, C.AF_INET!, '127.0.0.1', 0)).toBe(0);
    const { port } = addon.sockName(probe, false) as { port: number };
    close(probe);
    const s = own(addon.socket(C.AF_INET!, C.SOCK_STREAM!));
    const rc = addon.connect(s, C.AF_INET!, '127.0.0.1', port);
    if (rc === -EINPROGRESS) {
      waitFor(s, EPOLLOUT);
      expect(addon.sockError(s)).toBe(-ECONNREFUSED);
    } else {
      expect(rc).toBe(-ECONNREFUSED);
    }
    close(s);

    const [a, b] = pair(C.SOCK_STREAM!);
    close(b);
    expect(addon.write(a, new Uint8Array(1), 0, 1)).toBe(-EPIPE);
    expect(addon.writev(a, [new Uint8Array(1)], 1)).toBe(-EPIPE);
    close(a);
  });

  it('unix sockets in the abstract namespace: names with the leading NUL, peer credentials', () => {
    const path = `\0troupe-js-${process.pid}`;
    const listener = own(addon.socket(C.AF_UNIX!, C.SOCK_STREAM!));
    expect(addon.bind(listener, C.AF_UNIX!, path, 0)).toBe(0);
    expect(addon.listen(listener, 4)).toBe(0);
    const client = own(addon.socket(C.AF_UNIX!, C.SOCK_STREAM!));
    expect(addon.connect(client, C.AF_UNIX!, path, 0)).toBe(0);
    const server = own(addon.accept(listener));
    expect(addon.sockName(server, false)).toEqual({ family: 'unix', path });
    expect(addon.sockName(client, false)).toEqual({ family: 'unix', path: '' });
    expect(addon.sockName(client, true)).toEqual({ family: 'unix', path });
    const cred = new Int32Array(3);
    expect(addon.peerCred(server, cred)).toBe(0);
    expect([...cred]).toEqual([process.pid, process.getuid!(), process.getgid!()]);
    expect(addon.bind(client, C.AF_UNIX!, 'x'.repeat(200), 0)).toBe(-ENAMETOOLONG);
    expect(addon.bind(client, C.AF_INET!, 'localhost', 0)).toBe(-EINVAL);
    for (const fd of [listener, client, server]) close(fd);
  });

  it('datagram socketpairs keep message boundaries; recv with MSG_TRUNC gives the real length', () => {
    const [a, b] = pair(C.SOCK_DGRAM!);
    send(a, 'one');
    send(a, '0123456789');
    const buf = new Uint8Array(16);
    expect(addon.recv(b, buf, 0, 16, 0)).toBe(3);
    expect(addon.recv(b, buf, 0, 4, C.MSG_TRUNC!)).toBe(10);
    expect(dec.decode(buf.subarray(0, 4))).toBe('0123');
    expect(addon.recv(b, buf, 0, 16, 0)).toBe(-EAGAIN);
    expect(addon.getSockOpt(a, C.SOL_SOCKET!, C.SO_TYPE!)).toBe(C.SOCK_DGRAM);
    close(a);
    close(b);
  });

  it('sendFds/recvFds pass 1 and 3 fds with bytes; received fds are new, CLOEXEC|NONBLOCK, same files', () => {
    const [a, b] = pair(C.SOCK_STREAM!);
    const [x, y] = pair(C.SOCK_STREAM!);
    expect(addon.sendFds(a, enc.encode('one'), 0, 3, Int32Array.of(x))).toBe(3);
    const buf = new Uint8Array(16);
    const fdsOut = new Int32Array(5);
    expect(addon.recvFds(b, buf, 0, 16, fdsOut)).toBe(3);
    expect(fdsOut[0]).toBe(1);
    const x2 = own(fdsOut[1]!);
    expect(x2).not.toBe(x);
    expect(addon.fdFlags(x2)).toBe(BOTH);
    send(x2, 'through the copy');
    expect(readExactly(y, 16)).toBe('through the copy');

    expect(addon.sendFds(a, enc.encode('three'), 0, 5, Int32Array.of(x, y, a))).toBe(5);
    expect(addon.recvFds(b, buf, 0, 16, fdsOut)).toBe(5);
    expect(dec.decode(buf.subarray(0, 5))).toBe('three');
    expect(fdsOut[0]).toBe(3);
    const got = [...fdsOut.subarray(1, 4)].map(own);
    for (const fd of got) expect(addon.fdFlags(fd)).toBe(BOTH);
    send(got[1]!, 'y2 to x');
    expect(readExactly(x, 7)).toBe('y2 to x');

    // No fds: bytes only.
    expect(addon.sendFds(a, enc.encode('bare'), 0, 4, new Int32Array(0))).toBe(4);
    expect(addon.recvFds(b, buf, 0, 16, fdsOut)).toBe(4);
    expect(fdsOut[0]).toBe(0);
    expect(addon.recvFds(b, buf, 0, 16, fdsOut)).toBe(-EAGAIN);
    for (const fd of [a, b, x, y, x2, ...got]) close(fd);
  });

  it('truncated control data: -ENOBUFS, and every fd that arrived is closed', () => {
    const [a, b] = pair(C.SOCK_STREAM!);
    const before = fdCount();
    const buf = new Uint8Array(16);
    const room1 = new Int32Array(2);
    expect(addon.sendFds(a, enc.encode('abc'), 0, 3, Int32Array.of(a, b, a))).toBe(3);
    expect(addon.recvFds(b, buf, 0, 16, room1)).toBe(-ENOBUFS);
    expect(room1[0]).toBe(0);
    expect(fdCount()).toBe(before);
    // Room for none.
    expect(addon.sendFds(a, enc.encode('d'), 0, 1, Int32Array.of(a))).toBe(1);
    expect(addon.recvFds(b, buf, 0, 16, new Int32Array(1))).toBe(-ENOBUFS);
    expect(fdCount()).toBe(before);
    close(a);
    close(b);
  });

  it('setBlocking sets CLOEXEC and sets or clears O_NONBLOCK', () => {
    const [a, b] = pair(C.SOCK_STREAM!);
    expect(addon.setBlocking(a, true)).toBe(0);
    expect(addon.fdFlags(a)).toBe(FLAG_CLOEXEC);
    expect(addon.setBlocking(a, false)).toBe(0);
    expect(addon.fdFlags(a)).toBe(BOTH);
    expect(addon.setBlocking(-1, false)).toBe(-EBADF);
    close(a);
    close(b);
  });

  it('argument errors throw with codes; system errors come back as -errno', () => {
    const [a, b] = pair(C.SOCK_STREAM!);
    const buf = new Uint8Array(4);
    const call = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return { name: (err as Error).name, code: (err as NodeJS.ErrnoException).code };
      }
      return 'no throw';
    };
    const type = { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' };
    const range = { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' };
    const anyAddon = addon as unknown as Record<string, (...args: unknown[]) => number>;

    expect(call(() => anyAddon.read!('3', buf, 0, 1))).toEqual(type);
    expect(call(() => anyAddon.read!(a, new Int32Array(1), 0, 1))).toEqual(type);
    expect(call(() => anyAddon.read!(a, [1, 2], 0, 1))).toEqual(type);
    expect(call(() => addon.read(a, buf, 0, 5))).toEqual(range);
    expect(call(() => addon.read(a, buf, 3, 2))).toEqual(range);
    expect(call(() => addon.write(a, buf, -1, 1))).toEqual(range);
    expect(call(() => addon.write(a, buf, 0.5, 1))).toEqual(range);
    expect(call(() => addon.close(1.5))).toEqual(range);
    expect(call(() => addon.close(2 ** 31))).toEqual(range);
    expect(call(() => anyAddon.bind!(a, C.AF_UNIX, 42, 0))).toEqual(type);
    expect(call(() => anyAddon.sockName!(a, 1))).toEqual(type);
    expect(call(() => addon.socketpair(C.SOCK_STREAM!, new Int32Array(1)))).toEqual(range);
    expect(call(() => addon.peerCred(a, new Int32Array(2)))).toEqual(range);
    expect(call(() => addon.recvFds(a, buf, 0, 4, new Int32Array(0)))).toEqual(range);
    expect(call(() => addon.writev(a, [buf], 2))).toEqual(range);
    expect(call(() => anyAddon.writev!(a, [buf, 'x'], 2))).toEqual(type);
    expect(call(() => anyAddon.writev!(a, buf, 1))).toEqual(type);
    expect(call(() => anyAddon.sendFds!(a, buf, 0, 1, [a]))).toEqual(type);
    expect(call(() => anyAddon.setBlocking!(a, 0))).toEqual(type);

    // A Buffer is a Uint8Array; an empty range is fine.
    expect(addon.write(a, Buffer.from('ok'), 0, 2)).toBe(2);
    expect(addon.write(a, buf, 4, 0)).toBe(0);
    expect(readExactly(b, 2)).toBe('ok');

    expect(addon.close(-1)).toBe(-EBADF);
    expect(addon.sockError(-1)).toBe(-EBADF);
    expect(addon.bind(a, 12345, '', 0)).toBeLessThan(0);
    expect(addon.sendFds(a, buf, 0, 1, new Int32Array(254).fill(a))).toBe(-EINVAL);
    const notSock = own(addon.socket(C.AF_INET!, C.SOCK_DGRAM!));
    expect(addon.sockName(notSock, true)).toBeLessThan(0); // not connected
    expect(addon.getSockOpt(notSock, C.SOL_SOCKET!, C.SO_DOMAIN!)).toBe(C.AF_INET);
    const epfd = new addon.Poller();
    pollers.push(epfd);
    expect(epfd.open()).toBe(0);
    expect(addon.getSockOpt(epfd.fd(), C.SOL_SOCKET!, C.SO_TYPE!)).toBe(-ENOTSOCK);
    for (const fd of [a, b, notSock]) close(fd);
  });
});
