// Error classes with stable codes: SystemError from -errno at the await site, RuntimeError for ERR_* states.
import { getSystemErrorName } from 'node:util';

/** Fields a {@link SystemError} may carry besides its code. */
export interface SystemErrorInfo {
  address?: string;
  port?: number;
  path?: string;
  cause?: unknown;
}

/**
 * A failed system call, shaped like Node's own: `code` ('ECONNRESET'), `errno` (negative, as Node),
 * `syscall`, and `address`/`port`/`path` when known. Check `code`, never the message.
 */
export class SystemError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  address?: string;
  port?: number;
  path?: string;

  constructor(errno: number, syscall: string, info: SystemErrorInfo = {}) {
    const n = errno > 0 ? -errno : errno;
    const code = errnoName(n);
    const where = info.path ?? (info.address !== undefined ? `${info.address}${info.port !== undefined ? `:${info.port}` : ''}` : '');
    super(where ? `${syscall} ${code} ${where}` : `${syscall} ${code}`, info.cause !== undefined ? { cause: info.cause } : undefined);
    this.code = code;
    this.errno = n;
    this.syscall = syscall;
    if (info.address !== undefined) this.address = info.address;
    if (info.port !== undefined) this.port = info.port;
    if (info.path !== undefined) this.path = info.path;
  }

  override get name(): string {
    return 'SystemError';
  }
}

/** Codes of {@link RuntimeError}s: states of troupe objects rather than of the kernel. */
export type RuntimeErrorCode =
  | 'ERR_CONTROLLER_CLOSED'
  | 'ERR_CONTROLLER_RUNNING'
  | 'ERR_HANDLE_CLOSED'
  | 'ERR_HANDLE_TRANSFERRED'
  | 'ERR_TASK_FAILED'
  | 'ERR_THREAD_DIED'
  | 'ERR_ACTOR_EXITED'
  | 'ERR_MAILBOX_FULL'
  | 'ERR_SUPERVISOR_GAVE_UP'
  | 'ERR_UNCHECKED_ERRORS'
  | 'ERR_INVALID_FORMAT'
  | 'ERR_FUTURE_SETTLED'
  | (string & {});

/** A troupe object refused an operation in its current state; `code` is one of {@link RuntimeErrorCode}. */
export class RuntimeError extends Error {
  readonly code: RuntimeErrorCode;

  constructor(code: RuntimeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  override get name(): string {
    return 'RuntimeError';
  }
}

/** An operation was aborted through its `signal`; `code` is 'ABORT_ERR', as Node's own AbortError. */
export class AbortError extends Error {
  readonly code = 'ABORT_ERR';

  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
  }

  override get name(): string {
    return 'AbortError';
  }
}

const ETIMEDOUT = -110;

/** The error of any use of a closed controller. */
export function controllerClosed(): RuntimeError {
  return new RuntimeError('ERR_CONTROLLER_CLOSED', 'controller is closed');
}

/** Node's name for a negative errno ('EAGAIN'), or 'UNKNOWN' for a number it does not know. */
export function errnoName(errno: number): string {
  try {
    return getSystemErrorName(errno);
  } catch {
    return 'UNKNOWN';
  }
}

/** The SystemError for an expired deadline. */
export function timeoutError(syscall: string): SystemError {
  return new SystemError(ETIMEDOUT, syscall);
}

/** Throws a SystemError if `rc` is a negative errno; returns `rc` otherwise. */
export function check(rc: number, syscall: string, info?: SystemErrorInfo): number {
  if (rc < 0) throw new SystemError(rc, syscall, info);
  return rc;
}

/** A Node-style argument TypeError with code ERR_INVALID_ARG_TYPE. */
export function invalidArgType(name: string, expected: string, actual: unknown): TypeError {
  const err = new TypeError(`The "${name}" argument must be ${expected}. Received ${describe(actual)}`);
  (err as TypeError & { code: string }).code = 'ERR_INVALID_ARG_TYPE';
  return err;
}

/** A Node-style RangeError with code ERR_OUT_OF_RANGE. */
export function outOfRange(name: string, range: string, actual: unknown): RangeError {
  const err = new RangeError(`The value of "${name}" is out of range. It must be ${range}. Received ${describe(actual)}`);
  (err as RangeError & { code: string }).code = 'ERR_OUT_OF_RANGE';
  return err;
}

/** A Node-style argument TypeError with code ERR_INVALID_ARG_VALUE: right type, unacceptable value. */
export function invalidArgValue(name: string, value: unknown, reason = 'is invalid'): TypeError {
  const err = new TypeError(`The argument '${name}' ${reason}. Received ${describe(value)}`);
  (err as TypeError & { code: string }).code = 'ERR_INVALID_ARG_VALUE';
  return err;
}

/** Validates an optional millisecond timeout: undefined, or a non-NaN number (negative counts as 0). */
export function validateTimeout(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (Number.isNaN(value)) throw outOfRange(name, 'a number of milliseconds', value);
  return value < 0 ? 0 : value;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'function') return `function ${v.name || '<anonymous>'}`;
  if (typeof v === 'object') return `an instance of ${(v as object).constructor?.name ?? 'Object'}`;
  if (typeof v === 'string') return `type string ('${v.length > 28 ? `${v.slice(0, 25)}...` : v}')`;
  return `type ${typeof v} (${String(v)})`;
}
