// examples/https-client.mjs as a child process against a local Node https server with generated certificates.
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../lib/example-process.js';
import { makeCerts, type Certs } from '../lib/tls-certs.js';

let certs: Certs;
beforeAll(() => {
  certs = makeCerts();
});
afterAll(() => certs.remove());

const BIG = Buffer.alloc(200_000, 'troupe\r\n'); // CRLFs: the body must come back untranslated

/** A local https server: '/' answers with Content-Length, '/chunked' in chunks, '/missing' 404. */
async function server(cred: { key: Buffer; cert: Buffer }, host = '127.0.0.1'): Promise<{ url: string; close(): Promise<void> }> {
  const srv = https.createServer(cred, (req, res) => {
    if (req.url === '/') {
      res.setHeader('Content-Length', 6);
      res.end('hello\n');
    } else if (req.url === '/chunked?x=1') {
      res.write(BIG.subarray(0, 70_000));
      setTimeout(() => res.end(BIG.subarray(70_000)), 10);
    } else {
      res.statusCode = 404;
      res.end('no\n');
    }
  });
  srv.listen(0, host);
  await once(srv, 'listening');
  const { port } = srv.address() as AddressInfo;
  return {
    url: `https://localhost:${port}`,
    close: () => new Promise((resolve) => srv.close(() => resolve())),
  };
}

interface Run {
  code: number;
  stdout: Buffer;
  stderr: string;
}

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['examples/https-client.mjs', ...args], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'buffer', maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr: stderr.toString() });
    });
  });
}

describe('examples/https-client.mjs', () => {
  it('GETs from a server whose CA it trusts (NODE_EXTRA_CA_CERTS), by Content-Length and chunked', { timeout: 30_000 }, async () => {
    const s = await server(certs.server);
    const env = { NODE_EXTRA_CA_CERTS: `${certs.dir}/ca.pem` };
    const plain = await run([`${s.url}/`], env);
    expect(plain.stderr).toMatch(/TLSv1\.3 .* alpn=http\/1\.1 verified/);
    expect(plain.stderr).toMatch(/HTTP\/1\.1 200 OK/);
    expect(plain).toMatchObject({ code: 0 });
    expect(plain.stdout.toString()).toBe('hello\n');
    const chunked = await run([`${s.url}/chunked?x=1`], env);
    expect(chunked.code).toBe(0);
    expect(chunked.stdout.equals(BIG)).toBe(true);
    const missing = await run([`${s.url}/missing`], env);
    expect(missing.code).toBe(1);
    expect(missing.stdout.toString()).toBe('no\n');
    await s.close();
  });

  it('refuses a self-signed server unless --insecure', { timeout: 30_000 }, async () => {
    const s = await server(certs.self);
    const refused = await run([`${s.url}/`]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/DEPTH_ZERO_SELF_SIGNED_CERT/);
    expect(refused.stdout.length).toBe(0);
    const insecure = await run([`${s.url}/`, '--insecure']);
    expect(insecure.code).toBe(0);
    expect(insecure.stderr).toMatch(/not verified \(DEPTH_ZERO_SELF_SIGNED_CERT\)/);
    expect(insecure.stdout.toString()).toBe('hello\n');
    await s.close();
  });

  it('reports a wrong host name and a refused connection by code', { timeout: 30_000 }, async () => {
    const s = await server(certs.server, '0.0.0.0'); // reachable as 127.0.0.2 too, a name not in its certificate
    const env = { NODE_EXTRA_CA_CERTS: `${certs.dir}/ca.pem` };
    const wrongName = await run([s.url.replace('localhost', '127.0.0.2') + '/'], env);
    expect(wrongName.code).toBe(2);
    expect(wrongName.stderr).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
    const port = new URL(s.url).port;
    await s.close();
    const refused = await run([`https://127.0.0.1:${port}/`]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/ECONNREFUSED/);
  });
});
