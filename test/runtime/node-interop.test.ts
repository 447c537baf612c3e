// Connections cross between Node's net and troupe, mid-request, and between threads.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { Socket, thread } from 'troupe';

function readAll(c: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    c.setEncoding('utf8');
    c.on('data', (d) => (got += d));
    c.on('end', () => resolve(got));
    c.on('error', reject);
  });
}

describe('Node interop', () => {
  it('a connection Node read part of a request from is finished by a troupe task in a worker', async () => {
    let taken: Promise<unknown> | undefined;
    let tookFirst!: () => void;
    const first = new Promise<void>((r) => (tookFirst = r));
    const server = net.createServer((c) => {
      c.once('data', (chunk) => {
        // Node has read (and handed out) part of the request: put it back, then give the connection away.
        c.pause();
        c.unshift(chunk);
        const sock = Socket.fromNodeSocket(c);
        taken = thread.start(new URL('../fixtures/finish-request.mjs', import.meta.url), sock).then(async ([t, chan]) => {
          const lines = await t.join(10_000);
          chan.close();
          return lines;
        });
        tookFirst();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const client = net.connect(port, '127.0.0.1');
    const reply = readAll(client);
    client.write('GET /partial HTTP/1.1\r\nHo');
    await first; // Node read the first part; the rest goes out only after troupe has the connection
    client.write('st: example\r\n\r\n');
    expect(await reply).toMatch(/^HTTP\/1.1 200 OK\r\n[\s\S]*GET \/partial HTTP\/1.1$/);
    expect(await taken).toEqual(['GET /partial HTTP/1.1', 'Host: example']);
    client.destroy();
    server.close();
  });

  it("a troupe-accepted connection is served by Node's http.Server in a worker, buffered bytes included", async () => {
    const listener = Socket.listen('127.0.0.1', 0);
    const port = (listener.localname() as { port: number }).port;
    const client = net.connect(port, '127.0.0.1');
    const reply = readAll(client);
    client.write('GET /from-troupe HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
    const conn = await listener.accept();
    expect(await conn.fill(10, 5000)).toBe(true); // the request sits in troupe's buffer now
    expect(conn.pending().input).toBeGreaterThan(0);
    const [t, chan] = await thread.start(new URL('../fixtures/node-http-serve.mjs', import.meta.url), conn);
    const text = await reply;
    expect(text).toMatch(/^HTTP\/1.1 200 OK/);
    expect(text).toMatch(/node saw GET \/from-troupe host=h$/);
    expect(await t.join(10_000)).toBe('closed');
    chan.close();
    listener.close();
  });
});
