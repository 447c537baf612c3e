// Multi-core serving: placements, steering by load, reuseport, Node's http, and no descriptor left behind.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { Socket, serve, sleep } from 'troupe';

const handler = { module: new URL('../fixtures/serve-handler.mjs', import.meta.url) };

async function greet(port: number): Promise<[Socket, string]> {
  const s = Socket.connect('127.0.0.1', port, { timeoutMs: 10_000 });
  return [s, (await s.read())!];
}

/** Waits (polling the shared counters) until the server's load looks as wanted. */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await sleep(10);
  expect(check()).toBe(true);
}

describe('serve', () => {
  it('round-robin hands connections to each worker in turn, which serves them', async () => {
    const server = await serve({ port: 0, host: '127.0.0.1', threads: 2, placement: 'round-robin', handler });
    const conns = await Promise.all(Array.from({ length: 4 }, () => greet(server.port)));
    const threads = conns.map(([, hello]) => hello);
    expect(new Set(threads).size).toBe(2);
    for (const [s] of conns) {
      await s.write('echo me\n');
      expect(await s.read()).toBe('echo me');
      s.close();
    }
    await until(() => server.load().every((n) => n === 0));
    await server.close();
  });

  it('least-loaded steers new connections away from a worker holding long-lived ones', async () => {
    const server = await serve({ port: 0, host: '127.0.0.1', threads: 2, placement: 'least-loaded', handler });
    const held: [Socket, string][] = [];
    for (let i = 0; i < 6; i++) held.push(await greet(server.port));
    const [busy] = [...new Set(held.map(([, t]) => t))];
    // Free the other worker completely: the busy one keeps its long-lived connections.
    for (const [s, t] of held) if (t !== busy) s.close();
    await until(() => server.load().includes(0));
    const fresh: [Socket, string][] = [];
    for (let i = 0; i < 3; i++) fresh.push(await greet(server.port));
    expect(fresh.every(([, t]) => t !== busy)).toBe(true);
    for (const [s] of [...held, ...fresh]) s.close();
    await server.close();
  });

  it('reuseport: every worker listens itself and the kernel spreads connections', async () => {
    const server = await serve({ port: 0, host: '127.0.0.1', threads: 2, placement: 'reuseport', handler });
    const conns: [Socket, string][] = [];
    for (let i = 0; i < 24; i++) conns.push(await greet(server.port));
    expect(new Set(conns.map(([, t]) => t)).size).toBe(2);
    for (const [s] of conns) s.close();
    await server.close();
  });

  it("serves with Node's http.Server in each worker", async () => {
    const server = await serve({ port: 0, host: '127.0.0.1', threads: 2, http: { ...handler, export: 'http' } });
    const body = await new Promise<string>((resolve, reject) => {
      const c = net.connect(server.port, '127.0.0.1');
      let got = '';
      c.on('data', (d) => (got += d));
      c.on('end', () => resolve(got));
      c.on('error', reject);
      c.write('GET /hi HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    });
    expect(body).toMatch(/^HTTP\/1.1 200 OK[\s\S]*thread \d+ \/hi$/);
    await server.close();
  });

  it('10,000 connections handed across threads and closed leave the fd table as it was', async () => {
    const server = await serve({ port: 0, host: '127.0.0.1', threads: 2, placement: 'round-robin', handler });
    for (let batch = 0; batch < 100; batch++) {
      await Promise.all(Array.from({ length: 100 }, async () => {
        const [s, hello] = await greet(server.port);
        expect(hello).toMatch(/^thread \d+$/);
        s.close();
      }));
    }
    expect(server.accepted).toBe(10_000);
    await until(() => server.load().every((n) => n === 0));
    await server.close();
    // The suite's leak gate then compares the whole fd table with the one before this test.
  }, 120_000);
});
