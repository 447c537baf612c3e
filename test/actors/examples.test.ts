// The actor examples with a fixed command line, run as child processes: the job pool, supervision, and
// the echo server through system.serve (driven over Node `net`, as test/runtime/examples.test.ts does).
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Client, ROOT, resetEndsOnlyItsConnection, start, stop } from '../lib/example-process.js';
const TIMEOUT = 60_000;

/** Runs `node <script> ...args` to the end: its exit code and output. */
function run(script: string, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script, ...args], { cwd: ROOT, timeout: TIMEOUT - 5000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr });
    });
  });
}

describe('examples/actor-pool.mjs', () => {
  it('does every job; the mailboxes stay within their bound and memory stays flat', { timeout: TIMEOUT }, async () => {
    // 10,000 jobs of 300 µs on 2 threads: about 1.5 s, long enough for the threads' stats (every 500 ms)
    // to see the mailboxes the faster producer keeps full.
    const { code, stdout, stderr } = await run('examples/actor-pool.mjs', '--threads', '2', '--workers', '4', '--jobs', '10000', '--capacity', '8', '--work-us', '300');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^jobs done 10000 \(per worker: 2500 2500 2500 2500\)$/m);
    const depth = Number(/^max mailbox depth (\d+) \(bound 8 × 4 = 32\)$/m.exec(stdout)?.[1]);
    expect(depth).toBeGreaterThan(0);
    expect(depth).toBeLessThanOrEqual(32);
    const [, max, atStart] = /^max rss ([\d.]+) MB \(([\d.]+) MB at the start\)$/m.exec(stdout)!.map(Number);
    expect(max! - atStart!).toBeLessThan(200);
    expect(stdout).toMatch(/^thread restarts 0$/m);
    expect(stdout).toMatch(/^elapsed \d+ ms$/m);
  });

  it('rejects a bad option with exit code 2', async () => {
    const { code, stderr } = await run('examples/actor-pool.mjs', '--workers', '0');
    expect(code).toBe(2);
    expect(stderr).toMatch(/--workers must be an integer >= 1/);
  });
});

describe('examples/supervision.mjs', () => {
  it('restarts a crashing actor and one whose thread hangs, and exits 0', { timeout: TIMEOUT }, async () => {
    const { code, stdout, stderr } = await run('examples/supervision.mjs', '--watchdog-ms', '200');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(10);
    expect(lines[0]).toMatch(/^started crasher 1\.0\.\d+ on thread 1$/);
    expect(lines[1]).toMatch(/^started spinner 2\.0\.\d+ on thread 2$/);
    expect(lines[2]).toMatch(/^crasher 1\.0\.\d+: pong$/);
    expect(lines[3]).toBe('crasher crashed: ERR_ACTOR_EXITED (E_CRASH crashed on purpose)');
    expect(lines[4]).toMatch(/^restarted crasher 1\.0\.\d+ on thread 1$/);
    const hung = /^spinner hung its thread: ERR_ACTOR_EXITED after (\d+) ms \(thread 2 is gone: thread 2 hung: .*\)$/.exec(lines[5]!);
    expect(hung).not.toBeNull();
    expect(Number(hung![1])).toBeLessThan(2 * 200 + 1000); // detected within 2 × watchdogMs, with slack for a loaded machine
    expect(lines[6]).toMatch(/^restarted spinner 2\.1\.\d+ on thread 2 \(thread 2 restarts: 1\)$/);
    expect(lines[7]).toMatch(/^crasher 1\.0\.\d+: pong$/);
    expect(lines[8]).toMatch(/^spinner 2\.1\.\d+: pong$/);
    expect(lines[9]).toBe('stopped');
    expect(stdout).not.toContain('UNEXPECTED');
  });
});

describe('examples/actor-echo-server.mjs', () => {
  const script = 'examples/actor-echo-server.mjs';

  it('echoes lines, including ones split across packets, byte for byte', { timeout: TIMEOUT }, async () => {
    const s = await start(script);
    const c = new Client(s.port);
    c.write('one\ntw');
    await c.until((d) => d === 'one\n');
    c.write('o\n');
    await c.until((d) => d.endsWith('two\n'));
    c.write('th');
    c.write('re');
    c.write('e\r\n\n');
    await c.until((d) => d.endsWith('\n\n'));
    expect(c.data).toBe('one\ntwo\nthree\r\n\n');
    await c.close();
    expect(await stop(s)).toBe(0);
    expect(s.stderr()).toBe('');
  });

  it('answers 2,000 pipelined lines in order', { timeout: TIMEOUT }, async () => {
    const s = await start(script);
    const c = new Client(s.port);
    const sent = Array.from({ length: 2000 }, (_, i) => `line ${i} ${'x'.repeat(i % 50)}`);
    c.write(sent.map((l) => `${l}\n`).join(''));
    expect(await c.lines(sent.length)).toEqual(sent);
    await c.close();
    expect(await stop(s)).toBe(0);
  });

  it('a reset client ends only its own connection; SIGINT exits 0 quietly', { timeout: TIMEOUT }, async () => {
    const s = await start(script);
    await resetEndsOnlyItsConnection(s);
    expect(await stop(s, 'SIGINT')).toBe(0);
    expect(s.stderr()).toBe('');
  });

  it('closes the connection after echoing when the client ends its side', { timeout: TIMEOUT }, async () => {
    const s = await start(script);
    const c = new Client(s.port);
    c.sock.end('last\n');
    await c.closed;
    expect(c.data).toBe('last\n');
    expect(await stop(s)).toBe(0);
  });

  for (const placement of ['least-loaded', 'round-robin', 'reuseport']) {
    it(`serves on several threads with --threads 2 --placement ${placement}`, { timeout: TIMEOUT }, async () => {
      const s = await start(script, '--threads', '2', '--placement', placement);
      const clients = Array.from({ length: 6 }, () => new Client(s.port));
      clients.forEach((c, i) => c.write(`hi ${i}\n`));
      await Promise.all(clients.map((c, i) => c.until((d) => d === `hi ${i}\n`)));
      // A second round on the same connections: each is still its actor's.
      clients.forEach((c, i) => c.write(`again ${i}\n`));
      await Promise.all(clients.map((c, i) => c.until((d) => d === `hi ${i}\nagain ${i}\n`)));
      await Promise.all(clients.map((c) => c.close()));
      expect(await stop(s)).toBe(0);
      expect(s.stderr()).toBe('');
    });
  }

  it('SIGTERM with connections open exits 0 and closes them', { timeout: TIMEOUT }, async () => {
    const s = await start(script, '--threads', '2');
    const c = new Client(s.port);
    c.write('open\n');
    await c.until((d) => d === 'open\n');
    expect(await stop(s)).toBe(0);
    await c.closed;
    expect(s.stderr()).toBe('');
  });

  it('rejects a bad --placement with exit code 2', async () => {
    const { code, stderr } = await run(script, '--port', '0', '--placement', 'random');
    expect(code).toBe(2);
    expect(stderr).toMatch(/unknown --placement random/);
  });
});
