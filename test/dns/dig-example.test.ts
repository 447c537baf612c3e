// examples/dig.mjs as a child process against a fake name server in this process.
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT } from '../lib/example-process.js';
import { closedPort, dualServer, reply, udpServer } from '../lib/fake-dns.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Runs dig.mjs with args; resolves with its exit code and output once it is gone. */
function dig(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, ['examples/dig.mjs', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })));
}

describe('examples/dig.mjs', () => {
  it('prints the header, flags and sections of the answer, as dig', { timeout: 20_000 }, async () => {
    const s = await udpServer((q) => {
      const name = q.questions![0]!.name;
      return reply(q, {
        flags: 0x0580, // AA RD RA
        answers: [
          { name, type: 'MX', ttl: 300, data: { preference: 10, exchange: 'mail.example.com' } },
          { name, type: 'MX', ttl: 300, data: { preference: 20, exchange: 'backup.example.com' } },
        ],
        authorities: [{ name, type: 'NS', ttl: 600, data: 'ns1.example.com' }],
        additionals: [{ name: 'mail.example.com', type: 'A', ttl: 600, data: '192.0.2.25' }],
      });
    });
    cleanups.push(() => s.close());
    const r = await dig(`@127.0.0.1:${s.port}`, 'example.com', 'MX');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(s.queries[0]!.questions).toEqual([{ name: 'example.com', type: 'MX', class: 'IN' }]);
    expect(r.out).toContain(`;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: ${s.queries[0]!.id}\n`);
    expect(r.out).toContain(';; flags: qr aa rd ra; QUERY: 1, ANSWER: 2, AUTHORITY: 1, ADDITIONAL: 1\n');
    expect(r.out).toContain(';; QUESTION SECTION:\n;example.com.\t\tIN\tMX\n');
    expect(r.out).toContain(';; ANSWER SECTION:\nexample.com.\t300\tIN\tMX\t10 mail.example.com.\nexample.com.\t300\tIN\tMX\t20 backup.example.com.\n');
    expect(r.out).toContain(';; AUTHORITY SECTION:\nexample.com.\t600\tIN\tNS\tns1.example.com.\n');
    expect(r.out).toContain(';; ADDITIONAL SECTION:\nmail.example.com.\t600\tIN\tA\t192.0.2.25\n');
    expect(r.out).toContain(`;; SERVER: 127.0.0.1#${s.port}(127.0.0.1) (UDP)\n`);
  });

  it('asks over TCP with +tcp; an NXDOMAIN answer has no answer section and exits 0', { timeout: 20_000 }, async () => {
    const d = await dualServer(() => null, (q) => reply(q, { rcode: 'NXDOMAIN' }));
    cleanups.push(() => d.close());
    const r = await dig(`@127.0.0.1:${d.port}`, 'gone.example', 'AAAA', '+tcp');
    expect(r.code).toBe(0);
    expect(d.udp.queries).toHaveLength(0);
    expect(r.out).toContain('status: NXDOMAIN');
    expect(r.out).toContain(';gone.example.\t\tIN\tAAAA\n');
    expect(r.out).not.toContain('ANSWER SECTION');
    expect(r.out).toContain('(TCP)');
  });

  it('reports a refused server and a silent one as dig does, with exit status 9; usage errors exit 1', { timeout: 20_000 }, async () => {
    const refused = await dig(`@127.0.0.1:${await closedPort()}`, 'example.com');
    expect(refused.code).toBe(9);
    expect(refused.out).toContain('connection refused');
    const silent = await udpServer(() => null);
    cleanups.push(() => silent.close());
    const timedOut = await dig(`@127.0.0.1:${silent.port}`, 'example.com', '+time=100', '+tries=2');
    expect(timedOut.code).toBe(9);
    expect(timedOut.out).toContain(';; connection timed out; no servers could be reached');
    await silent.received(2); // the datagrams may be read here after dig's exit is seen
    expect(silent.queries).toHaveLength(2);
    const bad = await dig('example.com', 'NOTATYPE');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('ERR_INVALID_ARG_VALUE');
  });
});
