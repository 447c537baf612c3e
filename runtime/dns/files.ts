// The system files (resolv.conf, hosts) parsed once per path and thread, re-read when they change.
import { closeSync, fstatSync, openSync, readFileSync, statSync, type BigIntStats } from 'node:fs';

interface Entry {
  /** The file's identity and change times when it was read: device, inode, size, mtime, ctime. */
  stamp: string;
  value: unknown;
}

// Per thread (each worker has its own module instance), shared by every resolver and pool of the thread.
const cache = new Map<string, Entry>();

/** Parses done so far, by kind: tests check that an unchanged file is not parsed again (not exported by the package). */
export const parses: Record<string, number> = {};

/**
 * The file at `path` parsed by `parse`, from the cache while the file is unchanged. As glibc checks
 * resolv.conf, "unchanged" is the same device, inode, size, mtime and ctime (stat(2) each call, no read).
 * @throws the fs error of stat/open/read (ENOENT, EACCES, …)
 */
export function cachedParse<T>(kind: string, path: string, parse: (text: string) => T): T {
  const key = `${kind}\0${path}`;
  const hit = cache.get(key);
  if (hit !== undefined && hit.stamp === stamp(statSync(path, { bigint: true }))) return hit.value as T;
  const fd = openSync(path, 'r');
  let st: BigIntStats;
  let text: string;
  try {
    st = fstatSync(fd, { bigint: true });
    text = readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
  const value = parse(text);
  parses[kind] = (parses[kind] ?? 0) + 1;
  cache.set(key, { stamp: stamp(st), value });
  return value;
}

function stamp(st: BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

// glibc's res_init takes these failures to open resolv.conf as "no file": the defaults apply.
const ABSENT = new Set(['ENOENT', 'EACCES', 'EPERM', 'EISDIR', 'ELOOP', 'ENOTDIR']);

/** Whether a failure to read a system file means "use the defaults" (when the file was not named explicitly). */
export function isAbsent(err: unknown): boolean {
  return ABSENT.has((err as { code?: string } | null)?.code ?? '');
}
