// HTTPS GET with a troupe socket: connect with TLS, send the request, read the status line, the headers
// ('*h') and the body (by Content-Length, chunked, or to the end), all with logically synchronous reads.
//
// Usage: node examples/https-client.mjs URL [--insecure] [--timeout MS]
//
// Prints the body on stdout; the TLS session and the status on stderr. Exit status 0 for a 2xx answer, 1 for
// another status, 2 when the request failed (the error's code on stderr: DEPTH_ZERO_SELF_SIGNED_CERT,
// ERR_TLS_CERT_ALTNAME_INVALID, ECONNREFUSED, ETIMEDOUT, ...). --insecure skips verifying the server's
// certificate (`rejectUnauthorized: false`). Certificates are checked against Node's root CAs and the file
// NODE_EXTRA_CA_CERTS names, as Node's own https does.
import { parseArgs } from 'node:util';
import { Socket } from 'troupe';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { insecure: { type: 'boolean', default: false }, timeout: { type: 'string', default: '10000' } },
});
if (positionals.length !== 1) {
  console.error('usage: node examples/https-client.mjs URL [--insecure] [--timeout MS]');
  process.exit(2);
}

try {
  const status = await get(new URL(positionals[0]), { insecure: args.insecure, timeoutMs: Number(args.timeout) });
  process.exitCode = status >= 200 && status < 300 ? 0 : 1;
} catch (err) {
  console.error(`https-client: ${err.code ?? err.name}: ${err.message}`);
  process.exitCode = 2;
}

/** GETs `url`, writing the body to stdout; resolves with the HTTP status. */
async function get(url, { insecure, timeoutMs }) {
  if (url.protocol !== 'https:') throw Object.assign(new Error(`not an https URL: ${url.href}`), { code: 'ERR_INVALID_URL_SCHEME' });
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const sock = Socket.connect(host, Number(url.port || 443), {
    timeoutMs, // every call's deadline (the socket's timeout)
    tls: { rejectUnauthorized: !insecure, ALPNProtocols: ['http/1.1'] },
  });
  try {
    // Text mode (the default) sends each '\n' as CRLF and reads CRLF lines as plain lines.
    await sock.write(`GET ${url.pathname}${url.search} HTTP/1.1\n`, `Host: ${url.host}\n`, 'User-Agent: troupe-https-client\n', 'Connection: close\n\n');
    await sock.flush();
    const tls = sock.checktls();
    console.error(`${tls.protocol} ${tls.cipher.standardName} alpn=${tls.alpnProtocol || '-'} ${tls.authorized ? 'verified' : `not verified (${tls.authorizationError})`}`);

    const statusLine = await sock.read('*l');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '');
    if (!m) throw Object.assign(new Error(`bad status line: ${JSON.stringify(statusLine)}`), { code: 'ERR_BAD_RESPONSE' });
    console.error(statusLine);
    const headers = new Map();
    for (let h = await sock.read('*h'); h !== null; h = await sock.read('*h')) {
      const colon = h.indexOf(':');
      headers.set(h.slice(0, colon).trim().toLowerCase(), h.slice(colon + 1).trim());
    }
    await sock.read('*l'); // the blank line that ends the headers
    sock.setmode('b'); // the body is bytes: no CRLF translation
    for await (const chunk of body(sock, headers)) process.stdout.write(chunk);
    return Number(m[1]);
  } finally {
    sock.close();
  }
}

/** The body's bytes, as the headers frame it. */
async function* body(sock, headers) {
  if (/\bchunked\b/i.test(headers.get('transfer-encoding') ?? '')) {
    for (;;) {
      const size = parseInt((await sock.read('*l')) ?? '', 16); // "1a3f[;extensions]\r"
      if (!(size >= 0)) throw Object.assign(new Error('bad chunk size'), { code: 'ERR_BAD_RESPONSE' });
      if (size === 0) return; // (trailers, if any, are not read: the connection closes)
      yield await exactly(sock, size);
      await sock.read('*l'); // the CRLF after the chunk
    }
  }
  if (headers.has('content-length')) {
    const n = Number(headers.get('content-length'));
    if (n > 0) yield await exactly(sock, n);
    return;
  }
  for (let b = await sock.readBytes(-65536); b !== null; b = await sock.readBytes(-65536)) yield b;
}

async function exactly(sock, n) {
  const b = await sock.readBytes(n);
  if (b === null || b.length < n) throw Object.assign(new Error('the body ended early'), { code: 'ERR_BAD_RESPONSE' });
  return b;
}
