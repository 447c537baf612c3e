// Actor definitions: a behaviour plus where it lives (module URL + export), so any thread can load it.
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ActorContext } from './cell.js';

const DEF = Symbol.for('troupe.actorDefinition');

/** An actor's behaviour, as defineActor() made it. */
export interface ActorDefinition<Msg = unknown, Init = void> {
  readonly behavior: (ctx: ActorContext<Msg>, init: Init) => unknown;
  /** The module that defined it (file URL), found from the call site. */
  readonly module: string | undefined;
  readonly [DEF]: true;
}

/** Where to load an actor from: a module and its export (default 'default'). */
export interface ActorSpec {
  module: string | URL;
  export?: string;
}

/** A spec in wire form. */
export interface ModuleSpec {
  module: string;
  export: string;
}

/**
 * Defines an actor. Export the result from a module: other threads load it by module URL and export name.
 * @example
 * export const counter = defineActor<number>(async (ctx) => { let n = 0; for await (const k of ctx) n += k; });
 */
export function defineActor<Msg = unknown, Init = void>(behavior: (ctx: ActorContext<Msg>, init: Init) => unknown): ActorDefinition<Msg, Init> {
  if (typeof behavior !== 'function') {
    throw Object.assign(new TypeError(`The "behavior" argument must be of type function. Received ${typeof behavior}`), { code: 'ERR_INVALID_ARG_TYPE' });
  }
  return Object.freeze({ behavior, module: callerModule(), [DEF]: true as const });
}

export function isDefinition(x: unknown): x is ActorDefinition<any, any> {
  return typeof x === 'object' && x !== null && (x as { [DEF]?: unknown })[DEF] === true;
}

/** The file URL of the module that called defineActor. */
function callerModule(): string | undefined {
  const prepare = Error.prepareStackTrace;
  try {
    Error.prepareStackTrace = (_e, sites) => sites;
    const holder: { stack?: NodeJS.CallSite[] } = {};
    Error.captureStackTrace(holder, defineActor);
    const file = holder.stack?.[0]?.getFileName() ?? undefined;
    if (file === undefined) return undefined;
    return /^[a-z]+:/i.test(file) ? file : pathToFileURL(file).href;
  } finally {
    Error.prepareStackTrace = prepare;
  }
}

function toUrl(module: string | URL): string {
  if (module instanceof URL) return module.href;
  return /^[a-z]+:/i.test(module) ? module : pathToFileURL(isAbsolute(module) ? module : resolve(module)).href;
}

/**
 * Where a definition (or spec) can be loaded from in another thread.
 * @throws TypeError ERR_INVALID_ARG_VALUE when a definition is not exported from the module that made it
 */
export async function specOf(target: unknown): Promise<ModuleSpec> {
  if (isDefinition(target)) {
    if (target.module === undefined) throw notExported();
    const ns = (await import(target.module)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(ns)) if (value === target) return { module: target.module, export: name };
    throw notExported();
  }
  if (typeof target === 'object' && target !== null && 'module' in target) {
    const s = target as ActorSpec;
    if (typeof s.module !== 'string' && !(s.module instanceof URL)) throw badTarget(target);
    if (s.export !== undefined && typeof s.export !== 'string') throw badTarget(target);
    return { module: toUrl(s.module), export: s.export ?? 'default' };
  }
  throw badTarget(target);
}

const loaded = new Map<string, ActorDefinition<any, any>>();

/** The definition a spec names. @throws TypeError ERR_INVALID_ARG_VALUE if that export is no actor definition */
export async function load(spec: ModuleSpec): Promise<ActorDefinition<any, any>> {
  const key = `${spec.module}#${spec.export}`;
  let def = loaded.get(key);
  if (def === undefined) {
    const ns = (await import(spec.module)) as Record<string, unknown>;
    const value = ns[spec.export];
    if (!isDefinition(value)) {
      throw Object.assign(new TypeError(`${spec.module} export '${spec.export}' is not an actor definition (defineActor)`), { code: 'ERR_INVALID_ARG_VALUE' });
    }
    def = value;
    loaded.set(key, def);
  }
  return def;
}

function notExported(): TypeError {
  return Object.assign(new TypeError('an actor definition must be exported from the module that defines it to run on another thread'), {
    code: 'ERR_INVALID_ARG_VALUE',
  });
}

function badTarget(target: unknown): TypeError {
  return Object.assign(new TypeError(`spawn() takes an actor definition or { module, export? }. Received ${typeof target}`), { code: 'ERR_INVALID_ARG_TYPE' });
}
