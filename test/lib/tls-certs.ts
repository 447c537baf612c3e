// Test certificates made at test time with the openssl binary (EC P-256, valid for two days), in a temp dir.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Certs {
  dir: string;
  /** A CA, and a server certificate it signed for localhost / 127.0.0.1 (leaf only in server.pem). */
  ca: Buffer;
  server: { cert: Buffer; key: Buffer; certPath: string; keyPath: string };
  /** A client certificate the CA signed. */
  client: { cert: Buffer; key: Buffer };
  /** A self-signed certificate for localhost. */
  self: { cert: Buffer; key: Buffer; certPath: string; keyPath: string };
  /** Another CA, which signed nothing used here. */
  otherCa: Buffer;
  remove(): void;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Makes the set of certificates in a new temp dir; call remove() when done. */
export function makeCerts(): Certs {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-tls-'));
  const ca = (name: string, cn: string): void =>
    openssl(dir, 'req', '-x509', ...EC, '-days', '2', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.pem`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  ca('ca', 'troupe test CA');
  ca('other-ca', 'troupe other CA');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, cn] of [['server', 'localhost'], ['client', 'troupe client']] as const) {
    openssl(dir, 'req', ...EC, '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2',
      '-extfile', `${name}.ext`, '-out', `${name}.pem`);
  }
  openssl(dir, 'req', '-x509', ...EC, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', 'self.key', '-out', 'self.pem');
  const read = (f: string): Buffer => readFileSync(join(dir, f));
  return {
    dir,
    ca: read('ca.pem'),
    otherCa: read('other-ca.pem'),
    server: { cert: read('server.pem'), key: read('server.key'), certPath: join(dir, 'server.pem'), keyPath: join(dir, 'server.key') },
    client: { cert: read('client.pem'), key: read('client.key') },
    self: { cert: read('self.pem'), key: read('self.key'), certPath: join(dir, 'self.pem'), keyPath: join(dir, 'self.key') },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
