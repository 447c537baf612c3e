// comlink over troupe's transport: a proxy's calls are asks; an exposed actor answers them.
import type { Endpoint, Remote } from 'comlink';
import { expose as comlinkExpose, transferHandlers, wrap } from 'comlink/dist/esm/comlink.mjs';
import type { AskToken, Cell } from './cell.js';
import { COMLINK, type ActorNode } from './node.js';
import type { ActorRef } from './ref.js';

type Listener = (ev: { data: unknown }) => void;

// NB: comlink's own "throw" handler keeps only message, name and stack. Over troupe's wire an Error travels
// whole (code, errno, syscall, cause), so the handler passes it through. This changes the comlink
// instance troupe loads (its ESM build), not one an application imports itself.
const thrown = transferHandlers.get('throw')!;
transferHandlers.set('throw', {
  canHandle: thrown.canHandle,
  serialize: ({ value }: { value: unknown }) => [{ isError: value instanceof Error, value }, []],
  deserialize: (s: { isError: boolean; value: unknown }) => {
    if (s.isError) throw s.value instanceof Error ? s.value : Object.assign(new Error(String((s.value as { message?: unknown })?.message)), s.value);
    throw s.value;
  },
} as never);

/** A comlink Remote whose every call is an ask to ref; calls reject (never hang) once the actor exits. */
export function proxy<T>(ref: ActorRef<unknown>): Remote<T> {
  const listeners = new Set<Listener>();
  const dispatch = (data: unknown): void => {
    for (const l of listeners) l({ data });
  };
  const ep: Endpoint = {
    postMessage(msg: { id?: string }) {
      // NB: no timeout: a call lasts as long as the method runs; the actor's exit (or its thread's) ends it.
      // ask() throws when no system runs here any more (comlink releases a collected proxy at any time).
      let reply: Promise<unknown>;
      try {
        reply = ref.ask({ [COMLINK]: msg }, { timeoutMs: Infinity });
      } catch (err) {
        reply = Promise.reject(err);
      }
      reply.then(dispatch, (err: unknown) =>
        dispatch({ id: msg.id, type: 'HANDLER', name: 'throw', value: { isError: err instanceof Error, value: err } }),
      );
    },
    addEventListener: (_type: string, l: Listener) => listeners.add(l),
    removeEventListener: (_type: string, l: Listener) => listeners.delete(l),
  } as unknown as Endpoint;
  return wrap<T>(ep);
}

/** Makes cell answer comlink calls on obj: each call arrives as an ask and is answered when done. */
export function installExposer(node: ActorNode): void {
  node.exposer = (cell: Cell, obj: object) => {
    const asks = new Map<string, AskToken>();
    let listener: Listener | undefined;
    const ep: Endpoint = {
      postMessage(resp: { id?: string }) {
        const token = resp.id === undefined ? undefined : asks.get(resp.id);
        if (token === undefined) return;
        asks.delete(resp.id!);
        if (cell.openAsks?.delete(token) === true) node.reply(token, true, resp);
      },
      addEventListener: (_type: string, l: Listener) => (listener = l),
      removeEventListener: () => (listener = undefined),
    } as unknown as Endpoint;
    comlinkExpose(obj, ep);
    cell.comlink = (msg, token) => {
      const id = (msg as { id?: unknown })?.id;
      if (typeof id !== 'string' || listener === undefined) {
        cell.openAsks?.delete(token);
        node.reply(token, false, Object.assign(new TypeError('not a comlink message'), { code: 'ERR_INVALID_ARG_VALUE' }));
        return;
      }
      // NB: every proxy of this actor shares its one exposure: a proxy's release (releaseProxy, or comlink's
      // finalizer once the proxy is collected) must not end it for the others. It is answered here.
      if ((msg as { type?: unknown }).type === 'RELEASE') {
        if (cell.openAsks?.delete(token) === true) node.reply(token, true, { id, type: 'RAW', value: undefined });
        return;
      }
      asks.set(id, token);
      listener({ data: msg });
    };
  };
}
