// TLS bench: bulk throughput over troupe's starttls sockets against Node's tls, side by side.
//
// Usage: npm run bench:tls      (= node bench/tls.mjs: 3 runs of every variant, 256 MiB each way)
//        node bench/tls.mjs --runs 5 --mib 128
//
// Each run is a fresh process with both ends of one loopback TCP connection in it: the client sends `mib`
// MiB in 64 KiB writes while the server reads, then the other way round (each after an unmeasured 8 MiB). Reported per direction: MiB/s of
// wall time, and MiB per CPU-second of the process (utime + stime: encrypting, decrypting and both kernels'
// copies, for all the two ends did) — the steadier figure on a shared machine. Variants:
//   troupe-tls     Socket.connect({ tls }) / starttls({ isServer }): OpenSSL driven natively under the socket
//   troupe-duplex  Node's tls.TLSSocket over a stream.Duplex that bridges troupe sockets (the design not
//                  taken: it measures what TLS in JavaScript streams costs over troupe's I/O)
//   node-tls       tls.connect / tls.createServer
//   troupe-plain   troupe sockets without TLS (the socket layer's own cost)
// Binary mode, 64 KiB buffers on the troupe sockets; TLS 1.3 with TLS_AES_256_GCM_SHA384 pinned on both ends
// of every variant (each run reports the suite it got, and the table prints them); figures are medians.
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Socket, monotime } from 'troupe';
import { CHILD_FLAG, reportFromChild, runChild } from './lib/child.mjs';
import { fmt, machineInfo, median, sourceState, table } from './lib/report.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCRIPT = fileURLToPath(import.meta.url);
const CHUNK = 64 * 1024;
const MODES = ['b', 'bn'];
// NB: pinned on both sides, so every variant does the same cryptography; a run reports what it got.
const SUITE = 'TLS_AES_256_GCM_SHA384';
const PIN = { ciphers: SUITE, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' };

const VARIANTS = {
  'troupe-tls': { label: 'troupe starttls (native OpenSSL)', run: troupeTls },
  'troupe-duplex': { label: 'node:tls over a troupe Duplex', run: troupeDuplex },
  'node-tls': { label: 'node tls', run: nodeTls },
  'troupe-plain': { label: 'troupe, no TLS', run: troupePlain },
};

// ---- children ------------------------------------------------------------------------------------------

function creds() {
  const dir = process.env.TROUPE_BENCH_TLS_DIR;
  return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
}

function mib() {
  return Number(process.env.TROUPE_BENCH_TLS_MIB);
}

// NB: each direction first moves WARMUP bytes unmeasured, so the figures are of optimized code.
const WARMUP = 8 * 1024 * 1024;

/** Runs `fn(bytes)` once to warm up, then for mib() MiB, measured. */
async function measured(fn) {
  await fn(WARMUP);
  const c0 = process.cpuUsage();
  const t0 = monotime();
  await fn(mib() * 1024 * 1024);
  const wall = (monotime() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { mibPerS: mib() / wall, mibPerCpuS: mib() / ((c.user + c.system) / 1e6) };
}

/** Writes from troupe socket w while troupe socket r reads, measured. */
function troupePump(w, r) {
  return measured(async (total) => {
    const chunk = Buffer.alloc(CHUNK, 0x61);
    const reader = (async () => {
      for (let got = 0; got < total; ) got += (await r.readBytes(-CHUNK)).length;
    })();
    for (let sent = 0; sent < total; sent += CHUNK) await w.write(chunk);
    await w.flush();
    await reader;
  });
}

/** Writes from Node stream w while Node stream r reads, measured. */
function nodePump(w, r) {
  return measured(async (total) => {
    const chunk = Buffer.alloc(CHUNK, 0x61);
    const done = new Promise((resolve) => {
      let got = 0;
      const on = (b) => {
        got += b.length;
        if (got >= total) {
          r.off('data', on);
          resolve();
        }
      };
      r.on('data', on);
    });
    for (let sent = 0; sent < total; sent += CHUNK) if (!w.write(chunk)) await once(w, 'drain');
    await done;
  });
}

/** A connected pair of troupe sockets over loopback TCP: [client, server]. */
async function troupeTcp(clientTls) {
  const l = Socket.listen('127.0.0.1', 0);
  const c = Socket.connect('127.0.0.1', l.localname().port, { modes: MODES, ...(clientTls ? { tls: clientTls } : {}) });
  const s = await l.accept({ modes: MODES });
  l.close();
  for (const x of [c, s]) x.setbufsiz(CHUNK, CHUNK);
  return [c, s];
}

async function troupeTls() {
  const { key, cert } = creds();
  const [c, s] = await troupeTcp({ ca: cert, servername: 'localhost', ...PIN });
  await Promise.all([s.starttls({ isServer: true, key, cert, ...PIN }), c.connect()]);
  const { protocol, cipher } = c.checktls();
  const up = await troupePump(c, s);
  const down = await troupePump(s, c);
  c.close();
  s.close();
  return { up, down, protocol, suite: cipher.standardName };
}

async function troupePlain() {
  const [c, s] = await troupeTcp(undefined);
  const up = await troupePump(c, s);
  const down = await troupePump(s, c);
  c.close();
  s.close();
  return { up, down };
}

/** A Duplex whose reads and writes go to a troupe socket: what node:tls over troupe's I/O would need. */
function bridge(sock) {
  let reading = false;
  const d = new Duplex({
    read() {
      if (reading) return;
      reading = true;
      (async () => {
        for (;;) {
          const b = await sock.readBytes(-CHUNK);
          if (b === null) return void d.push(null);
          if (!d.push(b)) break;
        }
        reading = false;
      })().catch((err) => d.destroy(err));
    },
    write(chunk, _enc, cb) {
      sock.write(chunk).then(() => cb(), cb);
    },
  });
  return d;
}

async function troupeDuplex() {
  const { key, cert } = creds();
  const [c, s] = await troupeTcp(undefined);
  const ts = new tls.TLSSocket(bridge(s), { isServer: true, key, cert, ...PIN });
  const tc = tls.connect({ socket: bridge(c), ca: cert, servername: 'localhost', ...PIN });
  await once(tc, 'secureConnect');
  const up = await nodePump(tc, ts);
  const down = await nodePump(ts, tc);
  const protocol = tc.getProtocol();
  const suite = tc.getCipher().standardName;
  tc.destroy();
  ts.destroy();
  c.close();
  s.close();
  return { up, down, protocol, suite };
}

async function nodeTls() {
  const { key, cert } = creds();
  const srv = tls.createServer({ key, cert, ...PIN });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const accepted = once(srv, 'secureConnection');
  const tc = tls.connect({ port: srv.address().port, host: '127.0.0.1', ca: cert, servername: 'localhost', ...PIN });
  await once(tc, 'secureConnect');
  const [ts] = await accepted;
  const up = await nodePump(tc, ts);
  const down = await nodePump(ts, tc);
  const protocol = tc.getProtocol();
  const suite = tc.getCipher().standardName;
  tc.destroy();
  ts.destroy();
  srv.close();
  return { up, down, protocol, suite };
}

// ---- parent --------------------------------------------------------------------------------------------

function options() {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, mib: { type: 'string', default: '256' } } });
  const o = { runs: Number(values.runs), mib: Number(values.mib) };
  if (!Number.isInteger(o.runs) || o.runs < 1) throw new Error(`--runs must be a positive integer, got ${values.runs}`);
  if (!(o.mib > 0)) throw new Error(`--mib must be positive, got ${values.mib}`);
  return o;
}

function main() {
  const { runs, mib: size } = options();
  const t0 = monotime();
  const started = new Date();
  const load = machineInfo().load1;
  const dir = mkdtempSync(join(tmpdir(), 'troupe-bench-tls-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    process.env.TROUPE_BENCH_TLS_DIR = dir;
    process.env.TROUPE_BENCH_TLS_MIB = String(size);
    const results = Object.fromEntries(Object.keys(VARIANTS).map((v) => [v, []]));
    for (let r = 0; r < runs; r++) for (const v of Object.keys(VARIANTS)) results[v].push(runChild(SCRIPT, v));
    report(results, { runs, size, started, load, took: (monotime() - t0) / 1000 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function report(results, { runs, size, started, load, took }) {
  const m = machineInfo();
  console.log(`TLS bulk throughput — ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${m.node}, ${m.cpu}, nproc ${m.nproc}, load ${fmt(load, 2)} before`);
  console.log(`commit ${sourceState(ROOT, ['runtime', 'native'])}; ${size} MiB each way per run, median of ${runs} runs (fresh processes, interleaved)\n`);
  const base = results['node-tls'];
  const med = (v, dir, key) => median(results[v].map((x) => x[dir][key]));
  const rows = [];
  for (const [v, { label }] of Object.entries(VARIANTS)) {
    for (const dir of ['up', 'down']) {
      const wall = med(v, dir, 'mibPerS');
      const cpu = med(v, dir, 'mibPerCpuS');
      const ratio = (x, key) => (v === 'node-tls' || base === undefined ? '' : fmt(x / med('node-tls', dir, key), 2));
      // Every run's protocol and suite (one name when all runs agree, as they should with the pin).
      const seen = (key) => [...new Set(results[v].map((x) => x[key] ?? '-'))].join(' / ');
      rows.push([label, dir === 'up' ? 'client → server' : 'server → client', seen('protocol'), seen('suite'), fmt(wall), ratio(wall, 'mibPerS'), fmt(cpu), ratio(cpu, 'mibPerCpuS')]);
    }
  }
  console.log(table(['variant', 'direction', 'protocol', 'cipher suite', 'MiB/s', 'ratio', 'MiB/CPU-s', 'ratio'], rows, new Set([4, 5, 6, 7])));
  console.log('\nAll runs (MiB/s; MiB/CPU-s), up / down:');
  for (const v of Object.keys(VARIANTS)) {
    const list = (dir, key) => results[v].map((x) => fmt(x[dir][key])).join(' / ');
    console.log(`- ${v}: up ${list('up', 'mibPerS')}; ${list('up', 'mibPerCpuS')} — down ${list('down', 'mibPerS')}; ${list('down', 'mibPerCpuS')}`);
  }
  console.log(`\nbench took ${fmt(took, 1)} s`);
}

if (process.argv[2] === CHILD_FLAG) {
  const variant = VARIANTS[process.argv[3]];
  if (variant === undefined) throw new Error(`unknown variant ${process.argv[3]}; one of ${Object.keys(VARIANTS).join(', ')}`);
  await reportFromChild(variant.run);
} else {
  main();
}
