// Errors across a thread boundary: plain objects that keep name, code, errno, syscall, message, stack, cause.
import { RuntimeError, SystemError } from './errors.js';

/** An error as plain, structured-cloneable data. */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  errno?: number;
  syscall?: string;
  address?: string;
  port?: number;
  path?: string;
  cause?: WireError | { value: unknown };
  /** A thrown non-Error value, as is (if it clones). */
  value?: unknown;
}

const KEYS = ['code', 'errno', 'syscall', 'address', 'port', 'path'] as const;
// The standard classes come back as themselves (instanceof keeps working); others as Error with their name.
const BUILTIN: Record<string, ErrorConstructor> = { TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError };

/** Turns anything thrown into WireError data. structuredClone alone would drop `code` (Node 20). */
export function toWire(err: unknown, depth = 0): WireError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err), value: cloneable(err) };
  const w: WireError = { name: err.name, message: err.message };
  if (err.stack !== undefined) w.stack = err.stack;
  const e = err as Error & Record<string, unknown>;
  for (const k of KEYS) if (e[k] !== undefined) (w as unknown as Record<string, unknown>)[k] = e[k];
  if (err.cause !== undefined && depth < 8) w.cause = err.cause instanceof Error ? toWire(err.cause, depth + 1) : { value: cloneable(err.cause) };
  return w;
}

/** Rebuilds an error: a SystemError or RuntimeError where the data says so, with the original stack. */
export function fromWire(w: WireError): unknown {
  if ('value' in w && w.value !== undefined && w.name === 'Error' && w.code === undefined) return w.value;
  const cause = w.cause === undefined ? undefined : 'value' in w.cause ? w.cause.value : fromWire(w.cause as WireError);
  const opts = cause !== undefined ? { cause } : undefined;
  let err: Error;
  if (typeof w.errno === 'number' && typeof w.syscall === 'string' && (w.name === 'SystemError' || w.name === 'Error')) {
    err = new SystemError(w.errno, w.syscall, { address: w.address, port: w.port, path: w.path, cause });
    err.message = w.message;
  } else if (typeof w.code === 'string' && w.name === 'RuntimeError') {
    err = new RuntimeError(w.code, w.message, opts);
  } else {
    const Builtin = BUILTIN[w.name];
    err = Builtin !== undefined ? new Builtin(w.message, opts) : new Error(w.message, opts);
    if (err.name !== w.name) Object.defineProperty(err, 'name', { value: w.name, configurable: true, writable: true });
    for (const k of KEYS) if (w[k] !== undefined) (err as unknown as Record<string, unknown>)[k] = w[k];
  }
  if (w.stack !== undefined) err.stack = w.stack;
  return err;
}

function cloneable(v: unknown): unknown {
  try {
    return structuredClone(v);
  } catch {
    return String(v);
  }
}
