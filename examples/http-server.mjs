// A small HTTP/1.1 keep-alive server on troupe sockets, on one thread or several (serve()).
//
//   node examples/http-server.mjs --port P [--threads N] [--node-http]
//
// GET /            -> "hello"
// GET /work?us=N   -> burns N µs of CPU, then answers "worked N us"
// --node-http serves with Node's own http.Server in each worker instead of troupe's reader.
// Prints "listening P" once it accepts. This file is also the handler module the workers load.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { monotime, serve } from 'troupe';

/** Busy-waits `us` microseconds: the CPU work a request asks for. */
function burn(us) {
  const until = monotime() + us / 1000;
  while (monotime() < until);
}

/** The answer to one request target: [status, body]. */
function answer(target) {
  if (target === '/') return [200, 'hello'];
  if (target.startsWith('/work')) {
    const us = Math.max(0, Math.min(1e6, Number(new URL(target, 'http://h').searchParams.get('us')) || 0));
    burn(us);
    return [200, `worked ${us} us`];
  }
  return [404, 'not found'];
}

/** troupe's handler: requests read with the line format, answers written as one flush per batch. */
export default async function handle(sock) {
  // Text input (CRLF stripped from lines), binary output with full buffering and autoflush: answers are
  // flushed when the next read would wait, so pipelined requests get one write for all their answers.
  sock.setmode('t', 'bf');
  for (;;) {
    const line = await sock.read('*l');
    if (line === null) return;
    if (line === '') continue; // tolerate stray EOLs between requests
    let length = 0;
    let close = line.endsWith('HTTP/1.0');
    for (;;) {
      const h = await sock.read('*l');
      if (h === null) return;
      if (h === '') break;
      const colon = h.indexOf(':');
      const name = h.slice(0, colon).trim().toLowerCase();
      const value = h.slice(colon + 1).trim().toLowerCase();
      if (name === 'content-length') length = Number(value) || 0;
      else if (name === 'connection') close = value === 'close';
    }
    if (length > 0) await sock.readBytes(length, { mode: 'b' });
    const [status, body] = answer(line.split(' ')[1] ?? '/');
    await sock.write(
      `HTTP/1.1 ${status} ${status === 200 ? 'OK' : 'Not Found'}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${close ? 'Connection: close\r\n' : ''}\r\n${body}`,
    );
    if (close) {
      await sock.flush();
      return;
    }
  }
}

/** Node's (req, res) handler for --node-http. */
export function nodeHandler(req, res) {
  const [status, body] = answer(req.url ?? '/');
  res.writeHead(status, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '0.0.0.0' },
      threads: { type: 'string', default: '1' },
      placement: { type: 'string', default: 'least-loaded' },
      'node-http': { type: 'boolean', default: false },
    },
  });
  const module = import.meta.url;
  const server = await serve({
    port: Number(values.port),
    host: values.host,
    threads: Number(values.threads),
    placement: values.placement,
    ...(values['node-http'] ? { http: { module, export: 'nodeHandler' } } : { handler: { module } }),
  });
  console.log(`listening ${server.port}`);
  const stop = async () => {
    await server.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
