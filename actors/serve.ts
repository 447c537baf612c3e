// system.serve: connections to actors on the system's threads, or Node http handlers (runtime serve()).
import { Controller, Socket, serve as serveThreads, type Placement } from 'troupe';
import type { ActorContext } from './cell.js';
import { defineActor, isDefinition, load, specOf, type ActorSpec, type ModuleSpec } from './define.js';
import { Down, type ActorRef } from './ref.js';
import type { ActorSystem } from './system.js';

/** Options of ActorSystem.serve. */
export interface ServeOptions {
  port: number;
  host?: string;
  /** Worker threads that take connections; default all of the system's (actor), or availableParallelism (http). */
  threads?: number;
  placement?: Placement;
  /** Each connection goes to a new actor of this definition: its first message is the Socket (also ctx.handles()). */
  actor?: unknown;
  /** Or: a Node `(req, res)` handler run by http.Server in each of the runtime's serving threads. */
  http?: ActorSpec;
  backlog?: number;
}

/** A running server. */
export interface Server {
  readonly port: number;
  readonly threads: number;
  /** Connections handed out so far (0 with reuseport, where the kernel places them). */
  readonly accepted: number;
  close(): Promise<void>;
}

interface AcceptorInit {
  spec: ModuleSpec;
  listen?: { host: string; port: number; backlog: number };
}

type AcceptorMsg = 'ready' | 'close' | 'conn' | Down;

/** @internal One per serving thread: starts an actor per connection, handed over or accepted here. */
export const acceptor = defineActor<AcceptorMsg, AcceptorInit>(async (ctx: ActorContext<AcceptorMsg>, init: AcceptorInit) => {
  const def = await load(init.spec);
  // The connection is its actor's; when the actor ends, so does the connection, and all end with the server.
  const conns = new Map<string, Socket>();
  const start = async (sock: Socket): Promise<void> => {
    const ref = await ctx.spawn(def, undefined, { thread: 'local' });
    conns.set(ref.id, sock);
    ctx.monitor(ref);
    await ref.send(sock, { handles: [sock] }).catch(() => sock.close());
  };
  let listener: Socket | undefined;
  if (init.listen !== undefined) {
    const l = (listener = Socket.listen({ ...init.listen, reuseport: true }));
    ctx.controller.wrap(async () => {
      for await (const conn of l.clients()) await start(conn);
    });
  }
  try {
    for await (const m of ctx) {
      if (m instanceof Down) {
        conns.get(m.ref.id)?.close();
        conns.delete(m.ref.id);
      } else if (m === 'ready') ctx.reply(true);
      else if (m === 'close') break;
      else for (const sock of ctx.handles()) await start(sock);
    }
  } finally {
    listener?.close();
    for (const s of conns.values()) s.close();
  }
});

export async function serveActors(system: ActorSystem, opts: ServeOptions): Promise<Server> {
  if (opts === null || typeof opts !== 'object') throw Object.assign(new TypeError('serve(): opts must be an object'), { code: 'ERR_INVALID_ARG_TYPE' });
  if ((opts.actor === undefined) === (opts.http === undefined)) {
    throw Object.assign(new TypeError('serve(): give exactly one of actor and http'), { code: 'ERR_INVALID_ARG_VALUE' });
  }
  if (opts.http !== undefined) return serveThreads({ port: opts.port, host: opts.host, threads: opts.threads, placement: opts.placement, http: opts.http, backlog: opts.backlog });
  if (!isDefinition(opts.actor)) throw Object.assign(new TypeError('serve(): actor must be an actor definition'), { code: 'ERR_INVALID_ARG_TYPE' });
  const spec = await specOf(opts.actor);
  const threads = Math.min(opts.threads ?? system.threads, system.threads);
  const placement = opts.placement ?? 'least-loaded';
  if (!['least-loaded', 'round-robin', 'reuseport'].includes(placement)) {
    throw Object.assign(new TypeError(`serve(): placement must be 'least-loaded', 'round-robin' or 'reuseport'. Received ${String(placement)}`), { code: 'ERR_INVALID_ARG_VALUE' });
  }
  const host = opts.host ?? '0.0.0.0';
  const backlog = opts.backlog ?? 511;
  const acceptors: ActorRef<AcceptorMsg>[] = [];
  let listener: Socket | undefined;
  let port = opts.port;
  if (placement === 'reuseport') {
    listener = Socket.listen({ host, port, reuseport: true, backlog }); // holds the port until the acceptors listen
    port = (listener.localname() as { port: number }).port;
  } else {
    listener = Socket.listen({ host, port, backlog });
    port = (listener.localname() as { port: number }).port;
  }
  const where = (i: number): number | 'local' => (threads === 0 ? 'local' : i + 1);
  for (let i = 0; i < Math.max(1, threads); i++) {
    const init: AcceptorInit = { spec, listen: placement === 'reuseport' ? { host, port, backlog } : undefined };
    acceptors.push(await system.spawn(acceptor, init, { thread: where(i) }));
  }
  // NB: an acceptor runs (and listens, with reuseport) once it has loaded the actor's module; a round trip
  // to each says it has. Then no thread is still importing when the server (or the system) closes: a
  // worker that exits mid-import leaks the descriptor of the file being read.
  await Promise.all(acceptors.map((a) => a.ask('ready', { timeoutMs: 5000 }).catch(() => {})));
  if (placement === 'reuseport') {
    listener.close();
    listener = undefined;
  }
  let accepted = 0;
  let next = 0;
  const pick = (): ActorRef<AcceptorMsg> => {
    if (placement === 'round-robin' || threads <= 1) return acceptors[next++ % acceptors.length]!;
    // Least-loaded: the serving thread with the fewest actors (each connection is one), counting the
    // connections handed out since its last report.
    return acceptors[system.leastLoaded(acceptors.length) - 1]!;
  };
  const acceptTask = listener === undefined
    ? undefined
    : Controller.root().wrap(async (l: Socket) => {
        for await (const conn of l.clients()) {
          accepted++;
          await pick().send('conn', { handles: [conn] }).catch(() => conn.close());
        }
      }, listener);
  let closed: Promise<void> | undefined;
  return {
    port,
    threads: acceptors.length,
    get accepted() {
      return accepted;
    },
    close() {
      closed ??= (async () => {
        listener?.close();
        await acceptTask?.done.catch(() => {});
        await Promise.all(acceptors.map((a) => a.send('close').catch(() => {})));
      })();
      return closed;
    },
  };
}
