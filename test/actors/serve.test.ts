// system.serve: an actor per connection on the system's threads (each placement), or Node's http per worker;
// closing the server and the system leaves no descriptor behind (the suite's leak gate checks).
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { Socket, sleep } from 'troupe';
import { ActorSystem } from 'troupe/actors';
import { lineEcho } from '../fixtures/actors-misc.mjs';

const handler = { module: new URL('../fixtures/serve-handler.mjs', import.meta.url) };

/** A troupe client: sends n lines, one at a time, and checks each comes back. */
async function troupeClient(port: number, tag: string, n: number): Promise<void> {
  const s = Socket.connect('127.0.0.1', port, { timeoutMs: 10_000 });
  try {
    for (let i = 0; i < n; i++) {
      await s.write(`${tag} line ${i}\n`);
      expect(await s.read('*l', { timeoutMs: 10_000 })).toBe(`${tag} line ${i}`);
    }
  } finally {
    s.close();
  }
}

/** A Node client: pipelines n lines at once and resolves with everything echoed once the server has ended. */
function netClient(port: number, lines: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.connect({ port, host: '127.0.0.1' });
    let got = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => (got += d));
    c.on('error', reject);
    c.on('close', () => resolve(got));
    // The server closes its side after echoing everything up to our EOF.
    c.end(lines.map((l) => `${l}\n`).join(''));
  });
}

/** Waits (polling the system's shared counters) until check() holds. */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await sleep(10);
  expect(check()).toBe(true);
}

/** Actors on the worker threads (each connection is one, plus one acceptor per serving thread). */
function workerActors(system: ActorSystem): number[] {
  return system.stats().threads.slice(1).map((t) => t.actors);
}

describe('system.serve with an actor per connection', () => {
  for (const placement of ['least-loaded', 'round-robin', 'reuseport'] as const) {
    it(`${placement}: every line of several concurrent clients is echoed on a 2-thread system`, async () => {
      const system = await ActorSystem.start({ threads: 2 });
      try {
        const server = await system.serve({ port: 0, host: '127.0.0.1', placement, actor: lineEcho });
        expect(server.port).toBeGreaterThan(0);
        expect(server.threads).toBe(2);
        await Promise.all(Array.from({ length: 8 }, (_, k) => troupeClient(server.port, `c${k}`, 20)));
        const lines = Array.from({ length: 500 }, (_, i) => `pipelined ${i} ${'x'.repeat(i % 40)}`);
        const echoed = await Promise.all(Array.from({ length: 4 }, () => netClient(server.port, lines)));
        for (const got of echoed) expect(got).toBe(lines.map((l) => `${l}\n`).join(''));
        if (placement !== 'reuseport') expect(server.accepted).toBe(12);
        // Each connection's actor ends with its connection: only the acceptors are left.
        await until(() => workerActors(system).every((n) => n === 1));
        await server.close();
      } finally {
        await system.shutdown();
      }
    });
  }

  it('round-robin puts connections on both threads; least-loaded steers them away from a busy thread', async () => {
    const system = await ActorSystem.start({ threads: 2 });
    const open: Socket[] = [];
    const connect = async (port: number): Promise<void> => {
      const s = Socket.connect('127.0.0.1', port, { timeoutMs: 10_000 });
      open.push(s);
      await s.write('hi\n');
      expect(await s.read()).toBe('hi');
    };
    try {
      const rr = await system.serve({ port: 0, host: '127.0.0.1', placement: 'round-robin', actor: lineEcho });
      for (let i = 0; i < 4; i++) await connect(rr.port);
      await until(() => workerActors(system).every((n) => n === 3)); // an acceptor and two connections each
      for (const s of open.splice(0)) s.close();
      await until(() => workerActors(system).every((n) => n === 1));
      await rr.close();
      await until(() => workerActors(system).every((n) => n === 0));

      // Thread 1 holds three idle actors: the next three connections go to thread 2.
      for (let i = 0; i < 3; i++) await system.spawn(lineEcho, undefined, { thread: 1 });
      const ll = await system.serve({ port: 0, host: '127.0.0.1', placement: 'least-loaded', actor: lineEcho });
      await until(() => workerActors(system).join() === '4,1');
      for (let i = 0; i < 3; i++) {
        await connect(ll.port);
        // Counts reach the main thread with each worker's next stats sample (every 500 ms).
        await until(() => workerActors(system).join() === `4,${2 + i}`);
      }
      for (const s of open.splice(0)) s.close();
      await ll.close();
    } finally {
      for (const s of open) s.close();
      await system.shutdown();
    }
  });

  it('close() stops accepting; connections then are refused', async () => {
    const system = await ActorSystem.start({ threads: 2 });
    try {
      const server = await system.serve({ port: 0, host: '127.0.0.1', placement: 'round-robin', actor: lineEcho });
      await troupeClient(server.port, 'before', 3);
      await server.close();
      await server.close(); // idempotent
      const late = Socket.connect('127.0.0.1', server.port, { timeoutMs: 5000 });
      await expect(late.connect()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      late.close();
    } finally {
      await system.shutdown();
    }
  });

  it('shutdown with connections still open closes them', async () => {
    const system = await ActorSystem.start({ threads: 2 });
    const server = await system.serve({ port: 0, host: '127.0.0.1', placement: 'least-loaded', actor: lineEcho });
    const s = Socket.connect('127.0.0.1', server.port, { timeoutMs: 10_000 });
    try {
      await s.write('open\n');
      expect(await s.read()).toBe('open');
      await server.close();
      await system.shutdown();
      expect(await s.read('*l', { timeoutMs: 5000 })).toBeNull();
    } finally {
      s.close();
      await system.shutdown();
    }
  });
});

describe('system.serve with http', () => {
  it("answers a GET through Node's http.Server in each worker", async () => {
    const system = await ActorSystem.start({ threads: 1 });
    try {
      const server = await system.serve({ port: 0, host: '127.0.0.1', threads: 2, http: { ...handler, export: 'http' } });
      const bodies = await Promise.all(
        Array.from({ length: 4 }, (_, i) =>
          fetchText(server.port, `/hi/${i}`).then((body) => {
            expect(body).toMatch(new RegExp(`^thread \\d+ /hi/${i}$`));
          }),
        ),
      );
      expect(bodies).toHaveLength(4);
      await server.close();
    } finally {
      await system.shutdown();
    }
  });
});

/** GET path with node:http (no keep-alive, so nothing is left open). */
async function fetchText(port: number, path: string): Promise<string> {
  const http = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        expect(res.statusCode).toBe(200);
        resolve(body);
      });
    });
    req.on('error', reject);
  });
}
