// System files that exist but cannot be read (EACCES): as the C library, the defaults when the file is the
// system's, an error when the path was given. Tests may run as root, which reads anything: open(2) is faked.
import fs, { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dns } from 'troupe';
import { loadResolvConf } from '../../dist/runtime/dns/config.js';

// Node's builtin ESM bindings follow the CommonJS object after syncBuiltinESMExports(): open(2) of the
// denied paths fails with EACCES, whichever of openSync/readFileSync asks for it.
const real = { openSync: fs.openSync, readFileSync: fs.readFileSync };
const denied = (p: unknown): boolean => p === '/etc/resolv.conf' || (typeof p === 'string' && p.endsWith('.denied'));
function deny<F extends (...a: any[]) => any>(f: F): F {
  return ((p: unknown, ...rest: unknown[]) => {
    if (denied(p)) throw Object.assign(new Error(`EACCES: permission denied, open '${String(p)}'`), { code: 'EACCES', errno: -13, syscall: 'open', path: p });
    return f(p, ...rest);
  }) as F;
}
beforeAll(() => {
  fs.openSync = deny(real.openSync);
  fs.readFileSync = deny(real.readFileSync);
  syncBuiltinESMExports();
});
afterAll(() => {
  Object.assign(fs, real);
  syncBuiltinESMExports();
});

const dir = mkdtempSync(join(tmpdir(), 'troupe-dns-eacces-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('an unreadable resolv.conf / hosts file', () => {
  it('/etc/resolv.conf that cannot be read (EACCES) is taken as absent: the defaults, no error on each query', async () => {
    expect(loadResolvConf('/etc/resolv.conf', false)).toMatchObject({ servers: [], ndots: 1, timeoutMs: 5000, attempts: 2, rotate: false, edns0: false });
    expect(() => new dns.Resolver({ hosts: false }).close()).not.toThrow();
    const p = await dns.query('localhost.', 'A', 'IN', 2000); // the default pool: from /etc/hosts
    expect(p.answer.map((x) => x.data)).toContain('127.0.0.1');
    await expect(dns.query('localhost.', 'A', 'IN', 2000)).resolves.toMatchObject({ flags: { rcode: 'NOERROR' } });
  });

  it('a path given explicitly that cannot be read is an error, for resolv.conf and for hosts', () => {
    const conf = join(dir, 'resolv.conf.denied');
    const hosts = join(dir, 'hosts.denied');
    writeFileSync(conf, 'nameserver 192.0.2.1\n');
    writeFileSync(hosts, '192.0.2.1 x.test\n');
    expect(() => new dns.Resolver({ resolvConf: conf, hosts: false })).toThrow(expect.objectContaining({ code: 'EACCES' }));
    expect(() => new dns.Resolver({ resolvConf: false, hosts })).toThrow(expect.objectContaining({ code: 'EACCES' }));
  });
});
