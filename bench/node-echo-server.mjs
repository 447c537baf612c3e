// The baseline for bench/echo.mjs: a minimal Node `net` line echo server, batched as examples/echo-server.mjs.
//
// Usage: node bench/node-echo-server.mjs --port P [--host H]
//
// Prints `listening P`. Each 'data' chunk's complete lines (with any partial line left from before) go back
// in one socket.write(); a partial last line waits for its '\n'. SIGINT/SIGTERM close and exit 0.
import net from 'node:net';
import { parseArgs } from 'node:util';

const LF = 0x0a;
const { values: args } = parseArgs({ options: { port: { type: 'string' }, host: { type: 'string', default: '::' } } });

const server = net.createServer((sock) => {
  let tail = null; // a partial line from earlier chunks
  sock.on('data', (chunk) => {
    const last = chunk.lastIndexOf(LF);
    if (last < 0) {
      tail = tail === null ? chunk : Buffer.concat([tail, chunk]);
      return;
    }
    const lines = last === chunk.length - 1 ? chunk : chunk.subarray(0, last + 1);
    sock.write(tail === null ? lines : Buffer.concat([tail, lines]));
    tail = last === chunk.length - 1 ? null : chunk.subarray(last + 1);
  });
  sock.on('error', () => sock.destroy());
});

server.listen(Number(args.port), args.host, () => console.log(`listening ${server.address().port}`));
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    server.close();
    process.exit(0);
  });
}
