// Multi-core serving: one acceptor hands connections to worker threads (least-loaded, round-robin), or
// every worker listens itself with SO_REUSEPORT.
import { availableParallelism } from 'node:os';
import { Controller } from './controller.js';
import { invalidArgType, outOfRange } from './errors.js';
import { Socket } from './socket/socket.js';
import { thread, type Thread } from './thread.js';

/** Where connections go: the worker with fewest live connections, each worker in turn, or the kernel. */
export type Placement = 'least-loaded' | 'round-robin' | 'reuseport';

/** A module export run in each worker: `handler(sock)` per connection, or a Node `(req, res)` handler. */
export interface HandlerModule {
  module: string | URL;
  export?: string;
}

/** Options of {@link serve}. */
export interface ServeOptions {
  port: number;
  host?: string;
  /** Worker threads; default os.availableParallelism(). */
  threads?: number;
  placement?: Placement;
  /** Each connection is handed to `handler(sock)` as a task on the worker's root controller. */
  handler?: HandlerModule;
  /** Or served by Node's http.Server in each worker, with this `(req, res)` handler. */
  http?: HandlerModule;
  backlog?: number;
}

/** A running multi-core server. */
export interface Server {
  /** The port listened on (useful with port 0). */
  readonly port: number;
  readonly threads: number;
  /** Live connections per worker. */
  load(): number[];
  /** Connections handed out so far (0 in reuseport mode, where the kernel places them). */
  readonly accepted: number;
  /** Stops accepting, ends the workers (their connections close) and waits for them. */
  close(): Promise<void>;
}

/** @internal What a serving worker is given. */
export interface ServeWorkerArgs {
  index: number;
  load: SharedArrayBuffer;
  handler?: { module: string; export: string };
  http?: { module: string; export: string };
  listen?: { host: string; port: number; backlog: number };
}

const WORKER = new URL('./serve-worker.js', import.meta.url);

/**
 * Serves connections on several threads.
 * @example
 * const server = await serve({ port: 8080, threads: 2, handler: { module: new URL('./echo.mjs', import.meta.url) } });
 */
export async function serve(opts: ServeOptions): Promise<Server> {
  if (opts === null || typeof opts !== 'object') throw invalidArgType('opts', 'of type object', opts);
  const threads = opts.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) throw outOfRange('opts.threads', 'an integer >= 1', threads);
  const placement = opts.placement ?? 'least-loaded';
  if (!['least-loaded', 'round-robin', 'reuseport'].includes(placement)) {
    throw invalidArgType('opts.placement', "'least-loaded', 'round-robin' or 'reuseport'", placement);
  }
  if ((opts.handler === undefined) === (opts.http === undefined)) throw invalidArgType('opts', 'exactly one of handler and http', opts);
  const spec = (h: HandlerModule | undefined) =>
    h === undefined ? undefined : { module: h.module instanceof URL ? h.module.href : h.module, export: h.export ?? 'default' };
  const host = opts.host ?? '0.0.0.0';
  const backlog = opts.backlog ?? 511;
  const load = new SharedArrayBuffer(4 * threads);
  const counts = new Int32Array(load);

  // reuseport: every worker binds the same port; the first one's bind picks it when port is 0.
  let listener: Socket | undefined;
  let port = opts.port;
  if (placement === 'reuseport') {
    const probe = Socket.listen({ host, port, reuseport: true, backlog });
    port = (probe.localname() as { port: number }).port;
    listener = probe; // kept until the workers listen, so an ephemeral port stays ours
  } else {
    listener = Socket.listen({ host, port, backlog });
    port = (listener.localname() as { port: number }).port;
  }

  const workers: [Thread, Socket][] = [];
  try {
    for (let i = 0; i < threads; i++) {
      const args: ServeWorkerArgs = { index: i, load, handler: spec(opts.handler), http: spec(opts.http) };
      if (placement === 'reuseport') args.listen = { host, port, backlog };
      workers.push(await thread.start(WORKER, args));
    }
  } catch (err) {
    listener.close();
    for (const [t, chan] of workers) {
      chan.close();
      await t.terminate();
    }
    throw err;
  }
  if (placement === 'reuseport') {
    // Each worker says when it listens; then the probe can go (it would take a share of connections).
    await Promise.all(workers.map(([, chan]) => chan.read()));
    listener.close();
    listener = undefined;
  }

  let accepted = 0;
  let next = 0;
  const pick = (): number => {
    if (placement === 'round-robin') return next++ % threads;
    let best = 0;
    for (let i = 1; i < threads; i++) if (Atomics.load(counts, i) < Atomics.load(counts, best)) best = i;
    return best;
  };
  const acceptor = listener === undefined
    ? undefined
    : Controller.root().wrap(async (l: Socket) => {
        for await (const conn of l.clients()) {
          const w = pick();
          // NB: counted here, so the next pick already sees it; the worker counts it down at the end.
          Atomics.add(counts, w, 1);
          accepted++;
          try {
            await workers[w]![1].sendfd('c', conn);
          } catch {
            Atomics.sub(counts, w, 1);
            conn.close();
          }
        }
      }, listener);

  let closed: Promise<void> | undefined;
  return {
    port,
    threads,
    load: () => Array.from(counts),
    get accepted() {
      return accepted;
    },
    close() {
      closed ??= (async () => {
        listener?.close();
        await acceptor?.done.catch(() => {});
        for (const [t, chan] of workers) {
          chan.close(); // the worker sees EOF on its channel and ends
          await t.join(5000).catch(() => t.terminate());
        }
      })();
      return closed;
    },
  };
}
