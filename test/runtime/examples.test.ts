// The example servers with a fixed command line (API.md), run as child processes and driven over Node `net`.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TIMEOUT = 30_000;

interface Server {
  child: ChildProcess;
  port: number;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts `node <script> --port 0 ...args` and resolves once it printed `listening P`. */
function start(script: string, ...args: string[]): Promise<Server> {
  const child = spawn(process.execPath, [script, '--port', '0', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  // 'close' comes after the exit and after both pipes are closed: nothing of the child is left open here.
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /^listening (\d+)$/m.exec(out);
      if (m) resolve({ child, port: Number(m[1]), stderr: () => err, exited });
    });
    void exited.then((code) => reject(new Error(`${script} exited (${code}) before listening: ${err}`)));
  });
}

/** Sends sig and waits for the child to be gone; returns its exit code. */
async function stop(s: Server, sig: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  s.child.kill(sig);
  return s.exited;
}

/** A Node `net` client that collects what arrives and lets a test wait for it. */
class Client {
  readonly sock: net.Socket;
  data = '';
  #waiters: (() => void)[] = [];
  readonly closed: Promise<void>;

  constructor(port: number) {
    this.sock = net.connect({ port, host: '127.0.0.1', noDelay: true });
    this.sock.setEncoding('utf8');
    this.sock.on('data', (d: string) => {
      this.data += d;
      for (const w of this.#waiters.splice(0)) w();
    });
    this.sock.on('error', () => {});
    this.closed = new Promise((resolve) => this.sock.on('close', () => {
      for (const w of this.#waiters.splice(0)) w();
      resolve();
    }));
  }

  connected(): Promise<void> {
    return new Promise((resolve) => (this.sock.connecting ? this.sock.once('connect', () => resolve()) : resolve()));
  }

  /** Waits until what arrived satisfies pred (or the connection closed: pred is then checked once more). */
  async until(pred: (data: string) => boolean): Promise<string> {
    while (!pred(this.data)) {
      if (this.sock.destroyed) throw new Error(`connection closed; got ${JSON.stringify(this.data)}`);
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    return this.data;
  }

  /** Waits until at least n lines arrived; returns all of them. */
  async lines(n: number): Promise<string[]> {
    await this.until((d) => d.split('\n').length > n);
    return this.data.split('\n').slice(0, -1);
  }

  write(s: string): void {
    this.sock.write(s);
  }

  async close(): Promise<void> {
    this.sock.destroy();
    await this.closed;
  }
}

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
    const a = new Client(s.port);
    const b = new Client(s.port);
    a.write('a1\n');
    b.write('b1\n');
    await a.until((d) => d === 'a1\n');
    await b.until((d) => d === 'b1\n');
    a.write('half a line');
    a.sock.resetAndDestroy();
    await a.closed;
    b.write('b2\n');
    await b.until((d) => d === 'b1\nb2\n');
    const late = new Client(s.port);
    late.write('still here\n');
    await late.until((d) => d === 'still here\n');
    await b.close();
    await late.close();
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
