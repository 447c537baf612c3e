// examples/http-server.mjs with its fixed command line: keep-alive, pipelining, /work, and --node-http.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../../examples/http-server.mjs', import.meta.url));
let child: ChildProcess | undefined;

afterEach(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  child = undefined;
});

function start(...args: string[]): Promise<number> {
  child = spawn(process.execPath, [SCRIPT, '--port', '0', '--host', '127.0.0.1', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child!.stdout!.on('data', (d) => {
      out += d;
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child!.once('exit', (code) => reject(new Error(`exited with ${code} before listening`)));
  });
}

/** Sends raw request bytes on one connection and collects `n` responses' bodies. */
function exchange(port: number, raw: string, n: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1');
    let buf = '';
    const bodies: string[] = [];
    c.on('data', (d) => {
      buf += d;
      for (;;) {
        const head = buf.indexOf('\r\n\r\n');
        if (head < 0) break;
        const len = Number(/content-length: (\d+)/i.exec(buf.slice(0, head))![1]);
        if (buf.length < head + 4 + len) break;
        bodies.push(buf.slice(head + 4, head + 4 + len));
        buf = buf.slice(head + 4 + len);
      }
      if (bodies.length === n) {
        c.destroy();
        resolve(bodies);
      }
    });
    c.on('error', reject);
    c.write(raw);
  });
}

const PIPELINED = 'GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /work?us=300 HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\n\r\n';

describe('examples/http-server.mjs', () => {
  it('answers pipelined keep-alive requests in order, on 2 threads', async () => {
    const port = await start('--threads', '2');
    expect(await exchange(port, PIPELINED, 3)).toEqual(['hello', 'worked 300 us', 'not found']);
  });

  it("serves the same with Node's http in each worker (--node-http)", async () => {
    const port = await start('--threads', '2', '--node-http');
    expect(await exchange(port, PIPELINED, 3)).toEqual(['hello', 'worked 300 us', 'not found']);
  });
});
