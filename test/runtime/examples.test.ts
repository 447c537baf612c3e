// The example servers with a fixed command line (API.md), run as child processes and driven over Node `net`.
import { describe, expect, it } from 'vitest';
import { Client, resetEndsOnlyItsConnection, start, stop } from '../lib/example-process.js';
const TIMEOUT = 30_000;

describe('examples/echo-server.mjs', () => {
  it('echoes lines, including ones split across packets, byte for byte', { timeout: TIMEOUT }, async () => {
    const s = await start('examples/echo-server.mjs');
    const c = new Client(s.port);
    c.write('one\ntw');
    await c.until((d) => d === 'one\n');
    // The rest of "two" and a line in three pieces, each sent only after the previous reply proves the
    // earlier piece was a packet of its own.
    c.write('o\n');
    await c.until((d) => d.endsWith('two\n'));
    c.write('th');
    c.write('re');
    c.write('e\r\n\n');
    await c.until((d) => d.endsWith('\n\n'));
    expect(c.data).toBe('one\ntwo\nthree\r\n\n');
    await c.close();
    expect(await stop(s)).toBe(0);
  });

  it('answers 2,000 pipelined lines in order', { timeout: TIMEOUT }, async () => {
    const s = await start('examples/echo-server.mjs');
    const c = new Client(s.port);
    const sent = Array.from({ length: 2000 }, (_, i) => `line ${i} ${'x'.repeat(i % 50)}`);
    c.write(sent.map((l) => `${l}\n`).join(''));
    expect(await c.lines(sent.length)).toEqual(sent);
    await c.close();
    expect(await stop(s)).toBe(0);
  });

  it('serves every connection at once; a reset client ends only its own connection', { timeout: TIMEOUT }, async () => {
    const s = await start('examples/echo-server.mjs', '--flush-per-line');
    await resetEndsOnlyItsConnection(s);
    expect(await stop(s, 'SIGINT')).toBe(0);
    expect(s.stderr()).toBe('');
  });

  it('closes the connection after echoing when the client ends its side', { timeout: TIMEOUT }, async () => {
    const s = await start('examples/echo-server.mjs');
    const c = new Client(s.port);
    c.sock.end('last\n');
    await c.closed;
    expect(c.data).toBe('last\n');
    expect(await stop(s)).toBe(0);
  });

  for (const placement of ['least-loaded', 'round-robin', 'reuseport']) {
    it(`serves on several threads with --threads 2 --placement ${placement}`, { timeout: TIMEOUT }, async () => {
      const s = await start('examples/echo-server.mjs', '--threads', '2', '--placement', placement);
      const clients = Array.from({ length: 6 }, () => new Client(s.port));
      clients.forEach((c, i) => c.write(`hi ${i}\n`));
      await Promise.all(clients.map((c, i) => c.until((d) => d === `hi ${i}\n`)));
      await Promise.all(clients.map((c) => c.close()));
      expect(await stop(s)).toBe(0);
    });
  }
});

describe('examples/chat-server.mjs', () => {
  /** A client that is known to be registered: its own line came back to it. */
  async function join(port: number, name: string): Promise<{ c: Client; from: string }> {
    const c = new Client(port);
    await c.connected();
    const from = `[127.0.0.1]:${c.sock.localPort}`;
    c.write(`${name} joined\n`);
    await c.until((d) => d.includes(`${from} ${name} joined\n`));
    return { c, from };
  }

  it('sends every line to every client, prefixed with the sender address', { timeout: TIMEOUT }, async () => {
    const s = await start('examples/chat-server.mjs');
    const a = await join(s.port, 'a');
    const b = await join(s.port, 'b');
    await a.c.until((d) => d.includes(`${b.from} b joined\n`));
    a.c.write('hello from a\r\n'); // a CR before the LF is dropped
    b.c.write('hello ');
    b.c.write('from b\n');
    for (const { c } of [a, b]) {
      await c.until((d) => d.includes(`${a.from} hello from a\n`) && d.includes(`${b.from} hello from b\n`));
    }
    // a joined before b: b sees only what was sent after it joined.
    expect(b.c.data).not.toContain('a joined');
    await a.c.close();
    await b.c.close();
    expect(await stop(s)).toBe(0);
  });

  it('/who lists the clients and /quit ends the connection; a client that leaves is forgotten', { timeout: TIMEOUT }, async () => {
    const s = await start('examples/chat-server.mjs');
    const a = await join(s.port, 'a');
    const b = await join(s.port, 'b');
    b.c.write('/who\n');
    await b.c.until((d) => d.includes('# end\n'));
    expect(b.c.data).toContain(`# ${a.from}\n# ${b.from}\n# end\n`);
    a.c.write('/quit\n');
    await a.c.closed;
    expect(a.c.data.endsWith('# goodbye\n')).toBe(true);
    b.c.write('/who\n');
    await b.c.until((d) => d.split('# end\n').length === 3);
    expect(b.c.data.split('# end\n')[1]).toBe(`# ${b.from}\n`);
    await b.c.close();
    expect(await stop(s)).toBe(0);
  });
});
