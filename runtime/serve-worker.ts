// A serving thread: takes connections from its channel (or listens itself with SO_REUSEPORT) and runs
// the handler on each, or gives each to Node's http.Server.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Controller } from './controller.js';
import type { ServeWorkerArgs } from './serve.js';
import { Socket } from './socket/socket.js';

/** Runs until its channel closes (the server closed). */
export default async function serveWorker(chan: Socket, args: ServeWorkerArgs): Promise<void> {
  const counts = new Int32Array(args.load);
  const i = args.index;
  const root = Controller.root();
  let take: (sock: Socket) => void;
  if (args.http !== undefined) {
    const { createServer } = await import('node:http');
    const handler = (await import(args.http.module))[args.http.export] as (req: IncomingMessage, res: ServerResponse) => void;
    const server = createServer(handler);
    take = (sock) => {
      const ns = sock.toNodeSocket();
      ns.once('close', () => Atomics.sub(counts, i, 1));
      server.emit('connection', ns);
    };
  } else {
    const handler = (await import(args.handler!.module))[args.handler!.export] as (sock: Socket) => unknown;
    take = (sock) => {
      root.wrap(async () => {
        try {
          await handler(sock);
        } catch {
          // One connection's failure ends that connection only.
        } finally {
          sock.close();
          Atomics.sub(counts, i, 1);
        }
      });
    };
  }
  if (args.listen !== undefined) {
    const l = Socket.listen({ ...args.listen, reuseport: true });
    await chan.write('listening\n');
    root.wrap(async () => {
      for await (const conn of l.clients()) {
        Atomics.add(counts, i, 1);
        take(conn);
      }
    });
    await chan.read(); // until the server closes the channel
    l.close();
    return;
  }
  for (;;) {
    let got: { socket: Socket | null };
    try {
      got = await chan.recvfd();
    } catch {
      return; // the channel failed: the server is gone
    }
    if (got.socket === null) return; // EOF: the server closed
    take(got.socket);
  }
}
