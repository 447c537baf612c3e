// TLS for sockets: options and the contexts they make, the session a socket reads and writes through, the
// handshake with peer verification, and what checktls() reports.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { checkServerIdentity as nodeCheckServerIdentity, rootCertificates, type PeerCertificate } from 'node:tls';
import { EPOLLIN, EPOLLOUT, addon, type NativeTlsContext, type NativeTlsError, type NativeTlsSession } from '../native.js';
import { RuntimeError, SystemError, invalidArgType } from '../errors.js';
import type { Channel } from './channel.js';

const EAGAIN = -11;
// An OpenSSL error (error() describes it): outside the errno range, as kTlsFailed in native/sys/tls.h.
const TLS_FAILED = -0x10000;
const WANT_WRITE = 2;
const ERR_LIB_SSL = 20;

type Pem = string | Buffer | Uint8Array;

/** Contexts built and default root stores parsed so far: tests check both stay few (not exported by the package). */
export const tlsCounts = { contexts: 0, rootStores: 0 };

/** TLS options, shaped like Node's `tls.connect` / `new TLSSocket` options. */
export interface TlsOptions {
  /** Take the server side of the handshake (Node's TLSSocket option). Default false: a client. */
  isServer?: boolean;
  /** Certificate chain, PEM, leaf first (several: joined). A server needs one. */
  cert?: Pem | Pem[];
  /** Private key, PEM; `passphrase` decrypts an encrypted one. A server needs one. */
  key?: Pem | Pem[];
  passphrase?: string;
  /** Certificates to trust instead of Node's default: its root CAs and those NODE_EXTRA_CA_CERTS names. */
  ca?: Pem | Pem[];
  /**
   * SNI name a client sends. Default: the host given to `Socket.connect` unless it is an IP address, as
   * the original's `sendname`; `false` sends none. Also the name the certificate is checked against.
   */
  servername?: string | false;
  /** ALPN protocols: offered by a client; a server picks the first of its own the client offers. */
  ALPNProtocols?: string[] | Uint8Array;
  /**
   * Client: refuse a peer whose certificate does not verify, or is not for the host (default true, as
   * Node; the original did not verify). Server: refuse a client certificate that does not verify, with
   * `requestCert` (default true).
   */
  rejectUnauthorized?: boolean;
  /** Server: ask the client for a certificate. */
  requestCert?: boolean;
  /** OpenSSL cipher list; TLS 1.3 suites (`TLS_…`) may be mixed in, as Node. */
  ciphers?: string;
  /** Lowest protocol version (default 'TLSv1.2', as Node) and highest. */
  minVersion?: TlsVersion;
  maxVersion?: TlsVersion;
  /** A client's host name check (default: Node's `tls.checkServerIdentity`): an Error refuses the peer. */
  checkServerIdentity?: (hostname: string, cert: PeerCertificate) => Error | undefined;
}

export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/** A TLS connection's state after its handshake (Socket.checktls). */
export interface TlsInfo {
  /** 'TLSv1.3', 'TLSv1.2', … */
  protocol: string;
  /** As Node's `getCipher()`: OpenSSL name, IETF name, and the lowest protocol version it belongs to. */
  cipher: { name: string; standardName: string; version: string };
  /** The ALPN protocol agreed on, or false. */
  alpnProtocol: string | false;
  /** The SNI name sent (client) or received (server), or false. */
  servername: string | false;
  /** The peer's certificate, or null when it sent none. */
  peerCertificate: X509Certificate | null;
  /** The peer's certificate verified (and, for a client, is for the host). A server without `requestCert`: false. */
  authorized: boolean;
  /** Why not, as Node's codes ('DEPTH_ZERO_SELF_SIGNED_CERT', 'ERR_TLS_CERT_ALTNAME_INVALID', …). */
  authorizationError: string | undefined;
  isServer: boolean;
  sessionReused: boolean;
}

/** Checked options, and the context they make (built once, on first use). @internal */
export interface TlsConfig {
  readonly server: boolean;
  readonly opts: TlsOptions;
  context(): NativeTlsContext;
}

const VERSIONS: Record<string, number> = { TLSv1: 0x301, 'TLSv1.1': 0x302, 'TLSv1.2': 0x303, 'TLSv1.3': 0x304 };

/**
 * Validates TLS options (undefined: a verifying client with Node's root CAs).
 * @throws TypeError ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE, ERR_TLS_INVALID_PROTOCOL_VERSION
 */
export function tlsConfig(opts: TlsOptions | undefined, name = 'opts'): TlsConfig {
  if (opts === undefined) return DEFAULT_CLIENT;
  if (opts === null || typeof opts !== 'object') throw invalidArgType(name, 'an object', opts);
  const o = opts;
  for (const k of ['isServer', 'rejectUnauthorized', 'requestCert'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'boolean') throw invalidArgType(`${name}.${k}`, 'of type boolean', o[k]);
  }
  for (const k of ['cert', 'key', 'ca'] as const) if (o[k] !== undefined) pems(o[k], `${name}.${k}`);
  for (const k of ['passphrase', 'ciphers'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'string') throw invalidArgType(`${name}.${k}`, 'of type string', o[k]);
  }
  if (o.servername !== undefined && o.servername !== false && typeof o.servername !== 'string') {
    throw invalidArgType(`${name}.servername`, 'a string or false', o.servername);
  }
  if (o.checkServerIdentity !== undefined && typeof o.checkServerIdentity !== 'function') {
    throw invalidArgType(`${name}.checkServerIdentity`, 'a function', o.checkServerIdentity);
  }
  for (const k of ['minVersion', 'maxVersion'] as const) {
    if (o[k] !== undefined && VERSIONS[o[k] as string] === undefined) {
      const err = new TypeError(`"${String(o[k])}" is not a valid ${k}`);
      throw Object.assign(err, { code: 'ERR_TLS_INVALID_PROTOCOL_VERSION' });
    }
  }
  if (o.ALPNProtocols !== undefined) alpnWire(o.ALPNProtocols, `${name}.ALPNProtocols`);
  const server = o.isServer === true;
  if (server && (o.cert === undefined || o.key === undefined)) {
    throw Object.assign(new TypeError(`The "${name}" argument of a server must have a cert and a key`), { code: 'ERR_INVALID_ARG_VALUE' });
  }
  let cached = CONFIGS.get(o);
  if (cached === undefined || cached.server !== server) CONFIGS.set(o, (cached = lazyConfig(Object.freeze({ ...o }), server)));
  return cached;
}

// NB: contexts are made once per options object (a server passing the same object to every starttls
// parses its key once); the objects themselves are the cache keys, and what is kept is a copy of their
// first state: the context and the checks after the handshake (rejectUnauthorized, servername,
// checkServerIdentity, ...) agree, and changing the object after use has no effect.
const CONFIGS = new WeakMap<TlsOptions, TlsConfig>();
const DEFAULT_CLIENT = lazyConfig(Object.freeze({}), false);

function lazyConfig(opts: TlsOptions, server: boolean): TlsConfig {
  let ctx: NativeTlsContext | undefined;
  return { server, opts, context: () => (ctx ??= makeContext(opts, server)) };
}

// NB: Node's ~140 root certificates take tens of milliseconds to parse: they make one store per thread,
// which every context trusting them shares (a fresh options object costs no parse).
let roots: NativeTlsContext | undefined;

function rootStore(): NativeTlsContext {
  if (roots === undefined) {
    const ctx = new addon.TlsContext(false);
    if (!ctx.ok() || ctx.ca(defaultCas()) < 0) throw sslError(ctx.error(), 'starttls');
    tlsCounts.rootStores++;
    roots = ctx;
  }
  return roots;
}

/** What Node trusts by default: its bundled root CAs, and the PEM file NODE_EXTRA_CA_CERTS names. */
function defaultCas(): Buffer {
  let extra = '';
  const file = process.env.NODE_EXTRA_CA_CERTS;
  try {
    if (file) extra = readFileSync(file, 'utf8');
  } catch {
    // Node warns about an unreadable file once, at startup; it is not this socket's error.
  }
  return Buffer.from([...rootCertificates, extra].join('\n'));
}

/** @throws RuntimeError ERR_OSSL_… / ERR_SSL_… (a bad PEM, a key that does not match the cert, …) */
function makeContext(o: TlsOptions, server: boolean): NativeTlsContext {
  const ctx = new addon.TlsContext(server);
  tlsCounts.contexts++;
  const ok = (rc: number): void => {
    if (rc < 0) throw sslError(ctx.error(), 'starttls');
  };
  if (!ctx.ok()) ok(TLS_FAILED);
  if (o.ca !== undefined) for (const pem of pems(o.ca, 'ca')) ok(ctx.ca(pem));
  else if (!server || o.requestCert) ctx.shareCa(rootStore());
  if (o.cert !== undefined) ok(ctx.cert(Buffer.concat(pems(o.cert, 'cert').map((p) => Buffer.concat([p, NL])))));
  if (o.key !== undefined) for (const pem of pems(o.key, 'key')) ok(ctx.key(pem, o.passphrase ?? ''));
  if (o.ciphers !== undefined) {
    const names = o.ciphers.split(':').filter((c) => c !== '');
    ok(ctx.ciphers(names.filter((c) => !c.startsWith('TLS_')).join(':'), names.filter((c) => c.startsWith('TLS_')).join(':')));
  }
  if (o.minVersion !== undefined || o.maxVersion !== undefined) ok(ctx.versions(VERSIONS[o.minVersion ?? ''] ?? 0, VERSIONS[o.maxVersion ?? ''] ?? 0));
  if (o.ALPNProtocols !== undefined) ok(ctx.alpn(alpnWire(o.ALPNProtocols, 'ALPNProtocols')));
  if (server && o.requestCert) ctx.requestCert(true, o.rejectUnauthorized !== false);
  return ctx;
}

const NL = Buffer.from('\n');

function pems(v: Pem | Pem[] | undefined, name: string): Buffer[] {
  const list = Array.isArray(v) ? v : [v];
  return list.map((p, k) => {
    if (typeof p === 'string') return Buffer.from(p);
    if (p instanceof Uint8Array) return Buffer.from(p.buffer, p.byteOffset, p.length);
    throw invalidArgType(Array.isArray(v) ? `${name}[${k}]` : name, 'a string, a Buffer or an array of them', p);
  });
}

/** ALPN names in wire format: each prefixed by its length. */
function alpnWire(v: string[] | Uint8Array, name: string): Buffer {
  if (v instanceof Uint8Array) return Buffer.from(v);
  if (!Array.isArray(v)) throw invalidArgType(name, 'an array of strings or a Uint8Array', v);
  return Buffer.concat(
    v.map((p, k) => {
      const b = typeof p === 'string' ? Buffer.from(p) : undefined;
      if (b === undefined || b.length === 0 || b.length > 255) throw invalidArgType(`${name}[${k}]`, 'a string of 1 to 255 bytes', p);
      return Buffer.concat([Buffer.of(b.length), b]);
    }),
  );
}

/**
 * Begins TLS on a socket's channel, after its pending connect if any: `prepare` runs first (the socket
 * flushes cleartext and hands over buffered input, then reads and writes through the layer), then the
 * handshake, all in the background the socket's I/O waits for as for a connect (Channel.begin).
 * @throws RuntimeError ERR_OSSL_… / ERR_SSL_… at once when the options make no context.
 */
export function startTls(ch: Channel, cfg: TlsConfig, host: string | undefined, prepare: (layer: TlsLayer) => Promise<void>): void {
  cfg.context();
  const connecting = ch.connecting; // never rejects: its failure is in connectError
  ch.begin(
    (async () => {
      if (connecting !== undefined) await connecting;
      if (ch.connectError !== undefined) throw ch.connectError;
      ch.usable();
      const layer = new TlsLayer(cfg, ch.fd, host);
      await prepare(layer);
      await layer.handshake(ch);
    })(),
  );
}

/**
 * A socket's TLS connection: the native session it reads and writes through once the handshake is done.
 * @internal Made by Socket.starttls and Socket.connect({ tls }).
 */
export class TlsLayer {
  readonly #s: NativeTlsSession;
  readonly #cfg: TlsConfig;
  readonly #host: string | undefined;
  readonly #servername: string | undefined;
  #info: TlsInfo | undefined;
  /** The handshake is over and the peer accepted: reads and writes go through. */
  done = false;

  /** @throws RuntimeError ERR_OSSL_… / ERR_SSL_… when the options make no context. */
  constructor(cfg: TlsConfig, fd: number, host: string | undefined) {
    this.#cfg = cfg;
    this.#host = host;
    this.#s = new addon.TlsSession(cfg.context(), fd);
    const sni = cfg.opts.servername;
    this.#servername = sni === false ? undefined : (sni ?? (host !== undefined && isIP(host) === 0 ? host : undefined));
    if (!cfg.server && this.#servername !== undefined && this.#s.servername(this.#servername) < 0) {
      const err = sslError(this.#s.error(), 'starttls');
      this.#s.free();
      throw err;
    }
  }

  /** Replays bytes read before TLS started into the handshake (input mode 'p'). */
  pushback(data: Buffer): void {
    this.#s.pushback(data, 0, data.length);
  }

  /**
   * Plaintext into buf, as addon.read: n, 0 at the end, or -errno (-EAGAIN: wait, see wantsWrite). A short
   * n means the fd ran dry, unless held().
   */
  read(buf: Uint8Array, off: number, len: number): number {
    // NB: before the handshake is over nothing may pass (an SSL_read would finish the handshake itself,
    // past the peer's verification): the socket's I/O waits for the handshake to settle instead.
    return this.done ? this.#s.read(buf, off, len) : EAGAIN;
  }

  /** The end of the stream or an error came with the last read's plaintext: the next read returns it at once. */
  held(): boolean {
    return this.#s.held();
  }

  /** Encrypts and sends plaintext, as addon.writev: bytes taken, or -errno. An empty list only flushes. */
  writev(iov: Uint8Array[]): number {
    return this.done ? this.#s.writev(iov, iov.length) : EAGAIN;
  }

  /** Ciphertext still waiting for the kernel. */
  queued(): number {
    return this.#s.queued();
  }

  /** The last -EAGAIN waits for writability (queued ciphertext) rather than input. */
  wantsWrite(): boolean {
    return this.#s.want() === WANT_WRITE;
  }

  /** The error for a negative result of read/writev/handshake. */
  error(rc: number, op: string): SystemError | RuntimeError {
    return rc === TLS_FAILED ? sslError(this.#s.error(), op) : new SystemError(rc, op);
  }

  /**
   * Runs the handshake to its end, then verifies the peer. Waits without a deadline: the caller waits
   * for this with its own (the socket's connect/settle protocol), and closing the socket ends it.
   * @throws the handshake's error: SystemError (ECONNRESET when the peer closed first), RuntimeError
   *   ERR_SSL_… (an alert, no protocol in common, …), a verification code (DEPTH_ZERO_SELF_SIGNED_CERT,
   *   UNABLE_TO_VERIFY_LEAF_SIGNATURE, ERR_TLS_CERT_ALTNAME_INVALID, …), ERR_HANDLE_CLOSED.
   */
  async handshake(ch: Channel): Promise<void> {
    const s = this.#s;
    for (let rc = s.handshake(); rc !== 1; rc = s.handshake()) {
      if (rc !== EAGAIN) throw this.error(rc, 'starttls');
      await ready(ch, s.want() === WANT_WRITE ? EPOLLOUT : EPOLLIN);
    }
    // The last flight (a client's Finished) goes out before the handshake counts as done.
    for (let q = s.flush(); q !== 0; q = s.flush()) {
      if (q < 0) throw this.error(q, 'starttls');
      await ready(ch, EPOLLOUT);
    }
    this.#verify();
    this.done = true;
  }

  /** Records what checktls() reports, and throws what refuses the peer. */
  #verify(): void {
    const raw = this.#s.info()!;
    const der = this.#s.peerCertificate();
    const cert = der !== undefined ? new X509Certificate(der) : null;
    const { server, opts } = this.#cfg;
    let err: Error | undefined;
    if (!server || opts.requestCert) {
      if (raw.verifyError !== 0) err = verifyError(raw.verifyError, raw.verifyReason);
      else if (!server) err = this.#identity(cert!);
    }
    this.#info = {
      protocol: raw.protocol,
      cipher: { name: raw.cipher, standardName: raw.standardName, version: raw.cipherVersion },
      alpnProtocol: raw.alpn === '' ? false : raw.alpn,
      servername: raw.servername === '' ? false : raw.servername,
      peerCertificate: cert,
      authorized: (!server || opts.requestCert === true) && err === undefined,
      authorizationError: (err as { code?: string } | undefined)?.code,
      isServer: server,
      sessionReused: raw.reused,
    };
    if (err !== undefined && opts.rejectUnauthorized !== false) throw err;
  }

  /** The host name check of a client: Node's, or the caller's `checkServerIdentity`. */
  #identity(cert: X509Certificate): Error | undefined {
    const host = this.#cfg.opts.servername || this.#host || 'localhost';
    const legacy = cert.toLegacyObject() as unknown as PeerCertificate;
    const custom = this.#cfg.opts.checkServerIdentity;
    if (custom !== undefined) return custom(host, legacy) ?? undefined;
    const e = nodeCheckServerIdentity(host, legacy) as (Error & { code?: string; reason?: string; host?: string }) | undefined;
    if (e === undefined) return undefined;
    return Object.assign(new RuntimeError(e.code ?? 'ERR_TLS_CERT_ALTNAME_INVALID', e.message, { cause: e }), { reason: e.reason, host: e.host });
  }

  /** checktls(): null until the handshake has run to its end. */
  info(): TlsInfo | null {
    return this.#info ?? null;
  }

  /**
   * Sends close_notify (once), as far as the kernel takes it now; `unsent` plaintext bytes that could not
   * be written, or ciphertext still queued, mean the stream is cut short: no close_notify then (the peer
   * sees a truncation, not an authenticated end), only the queued ciphertext as far as it goes.
   */
  shutdown(unsent: number): void {
    if (this.#info === undefined) return;
    if (unsent > 0) this.#s.flush();
    else this.#s.shutdown();
  }

  /** Frees the OpenSSL state now (the native finalizer would, later). */
  free(): void {
    this.done = false;
    this.#s.free();
  }
}

/** Waits, without a deadline, until the fd is ready; throws ERR_HANDLE_CLOSED if the socket closed meanwhile. */
async function ready(ch: Channel, mask: number): Promise<void> {
  ch.usable();
  ch.events = mask === EPOLLOUT ? 'w' : 'r';
  await ch.ctl.waitFd(ch.fd, mask);
  ch.events = '';
  ch.usable();
}

// Node's codes for X509_V_ERR_* results (node/src/crypto/crypto_common.cc); others are 'UNSPECIFIED'.
const X509_CODES: Record<number, string> = {
  2: 'UNABLE_TO_GET_ISSUER_CERT',
  3: 'UNABLE_TO_GET_CRL',
  4: 'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  5: 'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
  6: 'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  7: 'CERT_SIGNATURE_FAILURE',
  8: 'CRL_SIGNATURE_FAILURE',
  9: 'CERT_NOT_YET_VALID',
  10: 'CERT_HAS_EXPIRED',
  11: 'CRL_NOT_YET_VALID',
  12: 'CRL_HAS_EXPIRED',
  13: 'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  14: 'ERROR_IN_CERT_NOT_AFTER_FIELD',
  15: 'ERROR_IN_CRL_LAST_UPDATE_FIELD',
  16: 'ERROR_IN_CRL_NEXT_UPDATE_FIELD',
  17: 'OUT_OF_MEM',
  18: 'DEPTH_ZERO_SELF_SIGNED_CERT',
  19: 'SELF_SIGNED_CERT_IN_CHAIN',
  20: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  21: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  22: 'CERT_CHAIN_TOO_LONG',
  23: 'CERT_REVOKED',
  25: 'PATH_LENGTH_EXCEEDED',
  26: 'INVALID_PURPOSE',
  27: 'CERT_UNTRUSTED',
  28: 'CERT_REJECTED',
  62: 'HOSTNAME_MISMATCH',
  79: 'INVALID_CA',
};

function verifyError(result: number, reason: string): RuntimeError {
  return Object.assign(new RuntimeError(X509_CODES[result] ?? 'UNSPECIFIED', reason), { reason });
}

// Node's short library names in codes ('ERR_OSSL_PEM_NO_START_LINE'); other libraries add none.
const LIBS: Record<number, string> = {
  2: 'SYS', 3: 'BN', 4: 'RSA', 5: 'DH', 6: 'EVP', 7: 'BUF', 8: 'OBJ', 9: 'PEM', 10: 'DSA', 11: 'X509', 13: 'ASN1',
  14: 'CONF', 15: 'CRYPTO', 16: 'EC', 32: 'BIO', 33: 'PKCS7', 34: 'X509V3', 35: 'PKCS12', 36: 'RAND', 37: 'DSO',
  38: 'ENGINE', 39: 'OCSP', 40: 'UI', 41: 'COMP', 42: 'ECDSA', 43: 'ECDH', 44: 'OSSL_STORE', 45: 'FIPS', 46: 'CMS',
  47: 'TS', 48: 'HMAC', 50: 'CT', 51: 'ASYNC', 52: 'KDF', 53: 'SM2', 128: 'USER',
};

/** An OpenSSL error as Node codes it: 'ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_OSSL_PEM_NO_START_LINE', … */
function sslError(e: NativeTlsError | undefined, op: string): RuntimeError {
  const reason = e?.reason || 'unknown';
  const r = reason.toUpperCase().replace(/ /g, '_');
  const code = e?.lib === ERR_LIB_SSL ? `ERR_SSL_${r}` : `ERR_OSSL_${LIBS[e?.lib ?? -1] ? `${LIBS[e!.lib]}_` : ''}${r}`;
  return Object.assign(new RuntimeError(code, `${op}: ${e?.message ?? reason}`), { library: e?.library, reason });
}
