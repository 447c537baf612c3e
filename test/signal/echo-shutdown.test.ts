// examples/echo-server.mjs shuts down gracefully on SIGTERM/SIGINT (signal.listen): it stops accepting,
// lets open connections finish within the grace period, closes the rest, and exits 0.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { Client, start, type Server } from '../lib/example-process.js';

const TIMEOUT = 30_000;
const SCRIPT = 'examples/echo-server.mjs';

/**
 * Connects once: 'refused', or 'accepted' (the connection is destroyed at once). A connection reset while
 * connecting (it sat in the backlog of a listener that closed) counts as accepted: try again.
 */
function tryConnect(port: number): Promise<'refused' | 'accepted'> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve('accepted');
    });
    s.once('error', (err: NodeJS.ErrnoException) => {
      s.destroy();
      if (err.code === 'ECONNREFUSED') resolve('refused');
      else if (err.code === 'ECONNRESET') resolve('accepted');
      else reject(err);
    });
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Connects until the server refuses (it has taken the signal and closed its listener), for up to 15 s. */
async function untilRefused(s: Server): Promise<void> {
  const deadline = performance.now() + 15_000;
  while (performance.now() < deadline) {
    if ((await tryConnect(s.port)) === 'refused') return;
    await sleep(10);
  }
  throw new Error(`the server kept accepting for 15 s; stderr: ${s.stderr()}`);
}

/**
 * Sends sig every few ms until the server is gone (as an impatient supervisor might); returns its exit
 * code. Any of them landing while the signal's default action is back ends the process by the signal.
 */
/**
 * Sends sig every 5 ms until `done` settles (the server has finished its shutdown: it closed our
 * connection) or the process has exited; then its exit code. NB: signals that land in the last moments of
 * the process's own teardown, after the listener is closed, take their default action in any Node program
 * (process.on's handler goes the same way): not what this checks.
 */
async function keepSignalling(s: Server, sig: NodeJS.Signals, done: Promise<unknown>): Promise<number | null> {
  let stop = false;
  void done.finally(() => (stop = true));
  const exited = s.exited.then((code) => {
    stop = true;
    return code;
  });
  while (!stop) {
    s.child.kill(sig);
    await sleep(5);
  }
  return exited;
}

/** An open client whose connection is known to be served: its line came back. */
async function served(port: number, line: string): Promise<Client> {
  const c = new Client(port);
  c.write(`${line}\n`);
  await c.until((d) => d === `${line}\n`);
  return c;
}

describe('echo-server shutdown on a signal', () => {
  it('SIGTERM: stops accepting, an open connection finishes its session, then a clean exit', { timeout: TIMEOUT }, async () => {
    const s = await start(SCRIPT);
    const c = await served(s.port, 'before');
    s.child.kill('SIGTERM');
    await untilRefused(s);
    // The connection open at the signal is still served.
    c.write('after\n');
    await c.until((d) => d.endsWith('after\n'));
    expect(c.data).toBe('before\nafter\n');
    c.sock.end();
    await c.closed;
    expect({ code: await s.exited, stderr: s.stderr() }).toEqual({ code: 0, stderr: '' });
  });

  it('closes connections still open when the grace period ends, and exits 0', { timeout: TIMEOUT }, async () => {
    const s = await start(SCRIPT, '--grace-ms', '200');
    const idle = await served(s.port, 'idle');
    const t0 = performance.now();
    s.child.kill('SIGTERM');
    await idle.closed; // closed by the server, not by us
    expect(performance.now() - t0).toBeGreaterThanOrEqual(150);
    expect({ code: await s.exited, stderr: s.stderr() }).toMatchObject({ code: 0 });
    expect(s.stderr()).toMatch(/closing 1 open connection\(s\) after 200 ms/);
  });

  it('a second signal during the grace period closes the connections at once', { timeout: TIMEOUT }, async () => {
    const s = await start(SCRIPT, '--grace-ms', '600000');
    const a = await served(s.port, 'a');
    const b = await served(s.port, 'b');
    s.child.kill('SIGINT');
    await untilRefused(s);
    s.child.kill('SIGTERM');
    await Promise.all([a.closed, b.closed]);
    expect({ code: await s.exited, stderr: s.stderr() }).toMatchObject({ code: 0 });
    expect(s.stderr()).toMatch(/closing 2 open connection\(s\) on a second SIG(TERM|INT)/);
  });

  it('further signals after the second, until the connections are closed, do not end it by signal', { timeout: TIMEOUT }, async () => {
    const s = await start(SCRIPT, '--grace-ms', '600000');
    const a = await served(s.port, 'a');
    s.child.kill('SIGINT');
    await untilRefused(s);
    const code = await keepSignalling(s, 'SIGTERM', a.closed);
    expect({ code, stderr: s.stderr() }).toEqual({ code: 0, stderr: expect.stringMatching(/closing 1 open connection\(s\) on a second SIGTERM/) });
    await a.closed;
  });

  it('SIGTERM as soon as `listening` appears (no connection first) is a clean exit 0', { timeout: TIMEOUT }, async () => {
    // API.md: the line means ready; drivers act on it at once. Several runs: a lost race shows as a kill.
    for (let run = 0; run < 5; run++) {
      const s = await start(SCRIPT);
      s.child.kill('SIGTERM');
      expect({ run, code: await s.exited, stderr: s.stderr() }).toEqual({ run, code: 0, stderr: '' });
    }
  });

  it('with threads, SIGTERM closes the server and exits 0', { timeout: TIMEOUT }, async () => {
    const s = await start(SCRIPT, '--threads', '2');
    const c = await served(s.port, 'x');
    s.child.kill('SIGTERM');
    await c.closed;
    expect({ code: await s.exited, stderr: s.stderr() }).toMatchObject({ code: 0 });
  });

  it('with threads, SIGTERM as soon as `listening` appears is a clean exit 0', { timeout: TIMEOUT }, async () => {
    for (let run = 0; run < 2; run++) {
      const s = await start(SCRIPT, '--threads', '2');
      s.child.kill('SIGTERM');
      expect({ run, code: await s.exited, stderr: s.stderr() }).toEqual({ run, code: 0, stderr: '' });
    }
  });

  it('with threads, signals during the shutdown are taken too: exit 0', { timeout: TIMEOUT }, async () => {
    const s = await start(SCRIPT, '--threads', '2');
    const c = await served(s.port, 'x');
    expect(await keepSignalling(s, 'SIGTERM', c.closed)).toBe(0);
    await c.closed;
    expect(s.stderr()).toBe('');
  });

  it('with threads, --grace-ms is reported as not applying (connections close at once)', { timeout: TIMEOUT }, async () => {
    const s = await start(SCRIPT, '--threads', '2', '--grace-ms', '600000');
    const c = await served(s.port, 'x');
    s.child.kill('SIGTERM');
    await c.closed; // at once, not after 600 s
    expect({ code: await s.exited, stderr: s.stderr() }).toMatchObject({ code: 0 });
    expect(s.stderr()).toMatch(/--grace-ms does not apply with threads/);
  });
});
