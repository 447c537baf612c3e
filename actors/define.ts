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
  /** Its place among that module's definitions, in the order the module made them. */
  readonly index: number;
  readonly [DEF]: true;
}

/** Where to load an actor from: a module and its export (default 'default'). */
export interface ActorSpec {
  module: string | URL;
  export?: string;
}

/**
 * A spec in wire form: a module and an export name, or (for a definition) its index among the module's
 * definitions and a fingerprint of its behaviour (name and arity), checked where it is loaded.
 */
export interface ModuleSpec {
  module: string;
  export: string;
  index?: number;
  fingerprint?: string;
}

// Every definition this thread's modules made, by module, in order. NB: a module evaluates the same way in
// every thread, so the n-th definition of a module is the same actor everywhere; the fingerprint catches
// most modules that define conditionally (say, one behaviour on the main thread and another elsewhere).
const byModule = new Map<string, ActorDefinition<any, any>[]>();

/**
 * Defines an actor. Define it at the top level of a module: other threads load that module and find the
 * definition by its place among the module's definitions (exporting it is customary, not required).
 * @example
 * export const counter = defineActor<number>(async (ctx) => { let n = 0; for await (const k of ctx) n += k; });
 */
export function defineActor<Msg = unknown, Init = void>(behavior: (ctx: ActorContext<Msg>, init: Init) => unknown): ActorDefinition<Msg, Init> {
  if (typeof behavior !== 'function') {
    throw Object.assign(new TypeError(`The "behavior" argument must be of type function. Received ${typeof behavior}`), { code: 'ERR_INVALID_ARG_TYPE' });
  }
  const module = callerModule();
  let list: ActorDefinition<any, any>[] | undefined;
  if (module !== undefined) {
    list = byModule.get(module);
    if (list === undefined) byModule.set(module, (list = []));
  }
  const def = Object.freeze({ behavior, module, index: list?.length ?? -1, [DEF]: true as const });
  list?.push(def);
  return def;
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
 * Where a definition (or spec) can be loaded from in another thread. A definition needs no import here:
 * it names its module and its index there (so a module still evaluating, such as an entry script whose
 * top-level await is spawning, can spawn its own actors).
 * @throws TypeError ERR_INVALID_ARG_VALUE when a definition has no module file
 */
export async function specOf(target: unknown): Promise<ModuleSpec> {
  if (isDefinition(target)) {
    if (target.module === undefined || target.index < 0) throw noModule();
    return { module: target.module, export: '', index: target.index, fingerprint: fingerprint(target) };
  }
  if (typeof target === 'object' && target !== null && 'module' in target) {
    const s = target as ActorSpec;
    if (typeof s.module !== 'string' && !(s.module instanceof URL)) throw badTarget(target);
    if (s.export !== undefined && typeof s.export !== 'string') throw badTarget(target);
    return { module: toUrl(s.module), export: s.export ?? 'default' };
  }
  throw badTarget(target);
}

/**
 * What a definition's behaviour looks like from outside: its name and arity. NB: not a hash of its source,
 * which tools that transform modules (test runners, loaders) change per thread.
 */
function fingerprint(def: ActorDefinition<any, any>): string {
  return `${def.behavior.name}/${def.behavior.length}`;
}

const loaded = new Map<string, ActorDefinition<any, any>>();

/** The definition a spec names. @throws TypeError ERR_INVALID_ARG_VALUE if there is no such definition */
export async function load(spec: ModuleSpec): Promise<ActorDefinition<any, any>> {
  const key = spec.index !== undefined ? `${spec.module}#${spec.index}` : `${spec.module}#'${spec.export}'`;
  let def = loaded.get(key);
  if (def === undefined) {
    // NB: a module that made definitions here has run its top level already: no import (it may still be
    // evaluating, awaiting this very spawn).
    const ns = spec.index !== undefined && byModule.has(spec.module) ? {} : ((await import(spec.module)) as Record<string, unknown>);
    if (spec.index !== undefined) {
      const found = byModule.get(spec.module)?.[spec.index];
      if (found === undefined || fingerprint(found) !== spec.fingerprint) {
        throw Object.assign(new TypeError(`${spec.module} makes its actor definition #${spec.index} differently in this thread: define actors unconditionally, at the top level of their module`), { code: 'ERR_INVALID_ARG_VALUE' });
      }
      def = found;
    } else {
      const value = ns[spec.export];
      if (!isDefinition(value)) {
        throw Object.assign(new TypeError(`${spec.module} export '${spec.export}' is not an actor definition (defineActor)`), { code: 'ERR_INVALID_ARG_VALUE' });
      }
      def = value;
    }
    loaded.set(key, def);
  }
  return def;
}

function noModule(): TypeError {
  return Object.assign(new TypeError('an actor definition must be made in a module file to run on another thread'), {
    code: 'ERR_INVALID_ARG_VALUE',
  });
}

function badTarget(target: unknown): TypeError {
  return Object.assign(new TypeError(`spawn() takes an actor definition or { module, export? }. Received ${typeof target}`), { code: 'ERR_INVALID_ARG_TYPE' });
}
