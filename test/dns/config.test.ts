// dns.Resolver's configuration: its own resolv.conf and hosts files, the search list with ndots.
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { dns } from 'troupe';
import { parses } from '../../dist/runtime/dns/files.js';
import { aAnswer, closedPort, reply, udpServer, type UdpServer } from '../lib/fake-dns.js';

const dir = mkdtempSync(join(tmpdir(), 'troupe-dns-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function resolver(opts: dns.ResolverOptions): dns.Resolver {
  const r = new dns.Resolver(opts);
  cleanups.push(() => r.close());
  return r;
}

/** A server that knows only `known` (A 192.0.2.1) and says NXDOMAIN to everything else. */
async function zone(...known: string[]): Promise<UdpServer> {
  const s = await udpServer((q) => (known.includes(q.questions![0]!.name) ? aAnswer(q, '192.0.2.1') : reply(q, { rcode: 'NXDOMAIN' })));
  cleanups.push(() => s.close());
  return s;
}

const asked = (s: UdpServer) => s.queries.map((q) => q.questions![0]!.name);

describe('resolv.conf', () => {
  it('takes nameserver ([addr]:port too), search, and options timeout/attempts/ndots from the file', async () => {
    const a = await udpServer((q) => reply(q, { rcode: 'SERVFAIL' }));
    cleanups.push(() => a.close());
    const b = await zone('host.two.test');
    const conf = file(
      'resolv-1.conf',
      [
        '# a comment',
        `nameserver [127.0.0.1]:${a.port}`,
        `nameserver 127.0.0.1:${b.port}`,
        'domain ignored.test',
        'search one.test two.test ; the last of search/domain wins',
        'options timeout:3 attempts:1 ndots:2 bogus',
      ].join('\n'),
    );
    const r = resolver({ resolvConf: conf, hosts: false });
    const p = await r.query('host', 'A', 'IN', 10_000);
    expect(p.question[0]!.name).toBe('host.two.test');
    expect(p.answer.map((x) => x.data)).toEqual(['192.0.2.1']);
    // host.one.test: SERVFAIL from a, then NXDOMAIN from b; then host.two.test from a (SERVFAIL), b.
    expect(asked(a)).toEqual(['host.one.test', 'host.two.test']);
    expect(asked(b)).toEqual(['host.one.test', 'host.two.test']);
  });

  it('uses at most 3 of its nameservers (MAXNS), as the C library; the servers option is not limited', async () => {
    const closed = [await closedPort(), await closedPort(), await closedPort()];
    const s = await zone('x.test');
    const servers = [...closed.map((p) => `127.0.0.1:${p}`), `127.0.0.1:${s.port}`];
    const conf = file('resolv-maxns.conf', servers.map((a) => `nameserver ${a}\n`).join(''));
    // The three refuse at once (ICMP); the fourth, the only one that answers, is never asked.
    const r = resolver({ resolvConf: conf, hosts: false, timeoutMs: 5000 });
    await expect(r.query('x.test', 'A', 'IN', 20_000)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(s.queries).toHaveLength(0);
    const all = resolver({ resolvConf: conf, hosts: false, servers, timeoutMs: 5000 });
    expect((await all.query('x.test', 'A', 'IN', 20_000)).answer.map((x) => x.data)).toEqual(['192.0.2.1']);
  });

  it('options given to the constructor win over the file', async () => {
    const s = await zone('x.test');
    const conf = file('resolv-2.conf', 'nameserver 192.0.2.99\nsearch far.test\noptions ndots:5\n');
    const r = resolver({ resolvConf: conf, hosts: false, servers: [`127.0.0.1:${s.port}`], search: [], ndots: 1 });
    expect((await r.query('x.test', 'A', 'IN', 2000)).answer).toHaveLength(1);
    expect(asked(s)).toEqual(['x.test']);
  });
});

describe('search list and ndots', () => {
  it('a name with fewer dots than ndots tries the search domains first, then itself', async () => {
    const s = await zone('db');
    const r = resolver({ resolvConf: false, hosts: false, servers: [`127.0.0.1:${s.port}`], search: ['a.test', 'b.test'], ndots: 1 });
    const p = await r.query('db', 'A', 'IN', 2000);
    expect(asked(s)).toEqual(['db.a.test', 'db.b.test', 'db']);
    expect(p.question[0]!.name).toBe('db');
  });

  it('a name with at least ndots dots is tried as it is first; the first name answered wins', async () => {
    const s = await zone('www.corp.b.test');
    const r = resolver({ resolvConf: false, hosts: false, servers: [`127.0.0.1:${s.port}`], search: ['a.test', 'b.test'], ndots: 1 });
    const p = await r.query('www.corp', 'A', 'IN', 2000);
    expect(asked(s)).toEqual(['www.corp', 'www.corp.a.test', 'www.corp.b.test']);
    expect(p.question[0]!.name).toBe('www.corp.b.test');
  });

  it('when no name has an answer, the answer for the name as given is returned', async () => {
    const s = await zone();
    const r = resolver({ resolvConf: false, hosts: false, servers: [`127.0.0.1:${s.port}`], search: ['a.test'], ndots: 3 });
    const p = await r.query('nothing.here', 'A', 'IN', 2000);
    expect(asked(s)).toEqual(['nothing.here.a.test', 'nothing.here']);
    expect(p.flags.rcode).toBe('NXDOMAIN');
    expect(p.question[0]!.name).toBe('nothing.here');
  });

  it('an absolute name (trailing dot) is never searched', async () => {
    const s = await zone();
    const r = resolver({ resolvConf: false, hosts: false, servers: [`127.0.0.1:${s.port}`], search: ['a.test'], ndots: 5 });
    await r.query('db.', 'A', 'IN', 2000);
    expect(asked(s)).toEqual(['db']);
  });

  it('an answer without the type asked (NODATA) moves on to the next name, as the original', async () => {
    const s = await udpServer((q) => {
      const name = q.questions![0]!.name;
      if (name === 'svc.a.test') return reply(q); // NOERROR, no records
      if (name === 'svc.b.test') return aAnswer(q, '192.0.2.2');
      return reply(q, { rcode: 'NXDOMAIN' });
    });
    cleanups.push(() => s.close());
    const r = resolver({ resolvConf: false, hosts: false, servers: [`127.0.0.1:${s.port}`], search: ['a.test', 'b.test'] });
    const p = await r.query('svc', 'A', 'IN', 2000);
    expect(p.answer.map((x) => x.data)).toEqual(['192.0.2.2']);
  });
});

describe('hosts file', () => {
  const hosts = [
    '127.0.0.1\tlocalhost',
    '# a comment line',
    '192.0.2.20  web.example.test web www   # trailing comment',
    '192.0.2.21  web.example.test',
    '2001:db8::20 web.example.test',
    '::ffff:192.0.2.30 mapped.test',
    'not-an-address name',
    '',
  ].join('\n');

  async function setup(extra: dns.ResolverOptions = {}) {
    const s = await zone('net.test');
    const r = resolver({ resolvConf: false, hosts: file('hosts', hosts), servers: [`127.0.0.1:${s.port}`], ...extra });
    return { s, r };
  }

  it('answers A and AAAA for names and aliases locally, without asking a server', async () => {
    const { s, r } = await setup();
    const a = await r.query('WWW', 'A', 'IN', 2000);
    expect(a.answer).toEqual([{ name: 'WWW', type: 'A', class: 'IN', ttl: 0, data: '192.0.2.20' }]);
    expect(a.flags.rcode).toBe('NOERROR');
    expect(a.server).toBeUndefined();
    const both = await r.query('web.example.test', 'A', 'IN', 2000);
    expect(both.answer.map((x) => x.data)).toEqual(['192.0.2.20', '192.0.2.21']);
    const six = await r.query('web.example.test.', 'AAAA', 'IN', 2000);
    expect(six.answer.map((x) => x.data)).toEqual(['2001:db8::20']);
    expect(s.queries).toHaveLength(0);
  });

  it('answers PTR for IPv4 and IPv6 reverse names with the canonical name', async () => {
    const { s, r } = await setup();
    const v4 = await r.query('20.2.0.192.in-addr.arpa', 'PTR', 'IN', 2000);
    expect(v4.answer).toEqual([{ name: '20.2.0.192.in-addr.arpa', type: 'PTR', class: 'IN', ttl: 0, data: 'web.example.test' }]);
    const nibbles = '0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa';
    expect((await r.query(nibbles, 'PTR', 'IN', 2000)).answer.map((x) => x.data)).toEqual(['web.example.test']);
    const mapped = 'e.1.2.0.0.0.0.c.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa';
    expect((await r.query(mapped, 'PTR', 'IN', 2000)).answer.map((x) => x.data)).toEqual(['mapped.test']);
    expect(s.queries).toHaveLength(0);
  });

  it('a name the file lacks, another type or class goes to the server; the search list applies to the file too', async () => {
    const { s, r } = await setup({ search: ['example.test'] });
    expect((await r.query('net.test', 'A', 'IN', 2000)).answer).toHaveLength(1);
    await r.query('web.example.test', 'MX', 'IN', 2000);
    await r.query('web.example.test', 'A', 'CH', 2000);
    expect(asked(s)).toEqual(['net.test', 'web.example.test', 'web.example.test.example.test', 'web.example.test', 'web.example.test.example.test']);
    // "web" with the search domain is web.example.test: found in the file, before any server is asked.
    s.queries.length = 0;
    expect((await r.query('web', 'AAAA', 'IN', 2000)).answer.map((x) => x.data)).toEqual(['2001:db8::20']);
    expect(s.queries).toHaveLength(0);
  });

  it('entries can be given directly; with no servers a miss is a SERVFAIL packet, as the original', async () => {
    const r = resolver({ resolvConf: false, hosts: [{ address: '192.0.2.40', names: ['direct.test'] }], servers: [] });
    expect((await r.query('direct.test')).answer.map((x) => x.data)).toEqual(['192.0.2.40']);
    const miss = await r.query('other.test');
    expect(miss.flags.rcode).toBe('SERVFAIL');
    expect(miss.question).toEqual([{ name: 'other.test', type: 'A', class: 'IN' }]);
  });

  it('a hosts path that cannot be read is an error; the default missing is not', () => {
    expect(() => new dns.Resolver({ resolvConf: false, hosts: join(dir, 'missing') })).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});

describe('the files are parsed once per thread while unchanged', () => {
  it('an unchanged hosts file or resolv.conf is not parsed again for another resolver or pool; a changed one is', async () => {
    const hosts = file('hosts-cached', '192.0.2.50 cached.test\n');
    const conf = file('resolv-cached.conf', 'nameserver 192.0.2.1\nsearch one.test\n');
    const before = { hosts: parses.hosts ?? 0, conf: parses['resolv.conf'] ?? 0 };
    const count = () => ({ hosts: (parses.hosts ?? 0) - before.hosts, conf: (parses['resolv.conf'] ?? 0) - before.conf });
    const opts = { resolvConf: conf, hosts, servers: [] };
    const r1 = resolver(opts);
    expect(count()).toEqual({ hosts: 1, conf: 1 });
    for (let i = 0; i < 5; i++) resolver(opts);
    const pool = new dns.ResolverPool({ ...opts, maxIdle: 0 });
    cleanups.push(() => pool.close());
    expect(count()).toEqual({ hosts: 1, conf: 1 });
    expect((await pool.query('cached.test')).answer.map((x) => x.data)).toEqual(['192.0.2.50']);
    // Changed (another size, so even a coarse timestamp tells): parsed again, the new text applies.
    writeFileSync(hosts, '192.0.2.51 cached.test\n192.0.2.52 more.three.test\n');
    writeFileSync(conf, 'nameserver 192.0.2.2\nsearch two.test three.test\n');
    const r2 = resolver(opts);
    expect(count()).toEqual({ hosts: 2, conf: 2 });
    expect((await r2.query('cached.test')).answer.map((x) => x.data)).toEqual(['192.0.2.51']);
    expect((await r2.query('more')).answer.map((x) => x.data)).toEqual(['192.0.2.52']); // with the new search list
    // Resolvers made before keep what they read.
    expect((await r1.query('cached.test')).answer.map((x) => x.data)).toEqual(['192.0.2.50']);
    // Replaced by another file (rename): a new inode, read again.
    const next = file('hosts-cached.next', '192.0.2.53 cached.test\n');
    renameSync(next, hosts);
    expect((await resolver(opts).query('cached.test')).answer.map((x) => x.data)).toEqual(['192.0.2.53']);
    expect(count()).toEqual({ hosts: 3, conf: 2 });
  });
});
