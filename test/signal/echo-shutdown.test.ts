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

/** Connects until the server refuses (it has taken the signal and closed its listener). */
async function untilRefused(s: Server): Promise<void> {
  for (let attempt = 0; attempt < 10_000; attempt++) {
    if ((await tryConnect(s.port)) === 'refused') return;
  }
  throw new Error(`the server kept accepting; stderr: ${s.stderr()}`);
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
    expect(await s.exited).toBe(0);
    expect(s.stderr()).toBe('');
  });

  it('closes connections still open when the grace period ends, and exits 0', { timeout: TIMEOUT }, async () => {
    const s = await start(SCRIPT, '--grace-ms', '200');
    const idle = await served(s.port, 'idle');
    const t0 = performance.now();
    s.child.kill('SIGTERM');
    await idle.closed; // closed by the server, not by us
    expect(performance.now() - t0).toBeGreaterThanOrEqual(150);
    expect(await s.exited).toBe(0);
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
    expect(await s.exited).toBe(0);
    expect(s.stderr()).toMatch(/closing 2 open connection\(s\) on a second SIG(TERM|INT)/);
  });

  it('with threads, SIGTERM closes the server and exits 0', { timeout: TIMEOUT }, async () => {
    const s = await start(SCRIPT, '--threads', '2');
    const c = await served(s.port, 'x');
    s.child.kill('SIGTERM');
    await c.closed;
    expect(await s.exited).toBe(0);
  });
});
