// notify: cqueues' directory watcher on inotify — changes per name, coalesced until taken, filtered by globs.
import { isUtf8 } from 'node:buffer';
import { closeSync, constants as fsConstants, openSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import picomatch from 'picomatch';
import { Controller, cancelFd, monotime } from './controller.js';
import { EPOLLIN, addon } from './native.js';
import { RuntimeError, SystemError, check, invalidArgType, outOfRange, validateTimeout } from './errors.js';
import type { Pollable } from './waiter.js';

/** A file (or the directory, ".") was created, or moved in. */
export const CREATE = 1;
/** Its attributes changed: mode, owner, times, link count. */
export const ATTRIB = 2;
/** Its contents were written. */
export const MODIFY = 4;
/**
 * The watch ended: the directory (".") or an add()ed file's file system went away, or an add()ed name's new
 * file could not be watched ({@link FileChange.error} says why). An add()ed name's REVOKE comes whatever flags
 * it was add()ed with.
 */
export const REVOKE = 8;
/** It was deleted, or moved out. */
export const DELETE = 16;
/** Every flag. */
export const ALL = 31;

const NAMES = ['CREATE', 'ATTRIB', 'MODIFY', 'REVOKE', 'DELETE'] as const;
// What an overflowed kernel queue may have hidden: anything but the end of the watch.
const ANY_CHANGE = CREATE | ATTRIB | MODIFY | DELETE;

const IN = addon.inotifyConstants as Record<string, number>;
const IN_MODIFY = IN.IN_MODIFY!;
const IN_ATTRIB = IN.IN_ATTRIB!;
const IN_CREATE = IN.IN_CREATE!;
const IN_DELETE = IN.IN_DELETE!;
const IN_MOVED_FROM = IN.IN_MOVED_FROM!;
const IN_MOVED_TO = IN.IN_MOVED_TO!;
const IN_DELETE_SELF = IN.IN_DELETE_SELF!;
const IN_MOVE_SELF = IN.IN_MOVE_SELF!;
const IN_UNMOUNT = IN.IN_UNMOUNT!;
const IN_IGNORED = IN.IN_IGNORED!;
const IN_Q_OVERFLOW = IN.IN_Q_OVERFLOW!;
// The directory: its entries' changes by name, and its own end. IN_EXCL_UNLINK: a file written after it was
// unlinked (through an fd still open) is no longer a change of that name.
const DIR_MASK =
  IN_CREATE | IN_DELETE | IN_MODIFY | IN_ATTRIB | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF |
  IN.IN_EXCL_UNLINK! | IN.IN_ONLYDIR!;
// An add()ed file itself: also writes through its other hard links, and its inode's end. A symlink is
// watched itself, not followed (as the original opens it O_NOFOLLOW).
const FILE_MASK = IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_UNMOUNT | IN.IN_DONT_FOLLOW!;

const EAGAIN = -addon.constants.EAGAIN!;
const EINVAL = -22;
const ENOENT = -2;
const ENAMETOOLONG = -36;
const NAME_MAX = 255;
// Reads per drain: bounds the work one get() does while something floods the directory.
const MAX_READS = 8;
const READ_SIZE = 16384;
// The most records one read can hold (the smallest is 16 bytes), so the most names it can add.
const READ_RECORDS = READ_SIZE / 16;
// NB: names pending at most: a read is made only while one more full buffer still fits under it. Past it,
// records wait in the kernel's queue, which is bounded (fs.inotify.max_queued_events) and reports its
// overflow. So memory stays bounded when changes to ever new names outrun the get() calls. (An overflow
// record adds "." and each add()ed name on top.)
const MAX_PENDING = 4096;
// O_PATH (Linux's generic value, as on x86 and arm; alpha, parisc, sparc differ): an fd naming a file
// without opening it, through which a name that is not UTF-8 is watched (inotifyAddWatch takes a string).
const O_PATH = 0o10000000;
/**
 * For tests only, not API: a getter on a Notifier giving the count of names read and pending, to check the
 * cap. A registered symbol, so that tests reach it whichever copy of this module they load.
 * @internal
 */
export const kPendingCount: unique symbol = Symbol.for('troupe.notify.pendingCount(test-only)');
const NOT_ASCII = /[^\x00-\x7f]/;
// NB: one read buffer per thread: records are decoded synchronously, before anything else can read.
let readBuf: Buffer | undefined;
let records: Int32Array | undefined;

/** One change of {@link Notifier.get}: the flags that came together since the name was last taken. */
export interface FileChange<N extends string | Buffer = string> {
  /** CREATE | ATTRIB | MODIFY | REVOKE | DELETE bits. */
  flags: number;
  /**
   * The entry's name in the directory, or "." for the directory itself: a string, or with encoding 'buffer'
   * its bytes. With 'utf8', a name that is not valid UTF-8 is reported as "." with CREATE | ATTRIB | MODIFY |
   * DELETE ("rescan": read the directory with encoding 'buffer').
   */
  name: N;
  /**
   * Only with REVOKE of an add()ed name whose file could not be watched again when the name was replaced
   * (or after a queue overflow): why, e.g. a SystemError ENOSPC or EACCES from inotify_add_watch.
   */
  error?: SystemError;
}

/** Options of {@link notify.watch}. */
export interface WatchOptions {
  /**
   * Report only names that match one of these patterns (picomatch syntax, one path segment: no "/"; "*"
   * does not match a leading dot). "." and add()ed names are always reported. `[]` matches no name.
   */
  glob?: string | string[];
  /** The controller get() waits through. Default: the thread's root controller. */
  controller?: Controller;
  /**
   * How names are given: 'utf8' (default) strings, or 'buffer' Buffers holding the name's bytes, as
   * fs.watch's option. Globs match the names decoded as UTF-8 either way.
   */
  encoding?: 'utf8' | 'utf-8' | 'buffer';
}

/** A name as add() and remove() take it: a string, or its bytes. */
export type FileName = string | Uint8Array;

/** An add()ed name: the changes it reports and the watch on its file (-1: none, e.g. no such file now). */
interface Added {
  flags: number;
  wd: number;
}

/**
 * A directory watch (cqueues' notifier) on one inotify descriptor. Changes are kept per name, OR-ed together
 * until get() takes them, oldest name first. Pollable: readable when the kernel has records, timeout() 0
 * when changes are already waiting.
 *
 * @example
 * await using n = notify.watch('/var/log', { glob: '*.log' });
 * for await (const { flags, name } of n.changes()) if (flags & notify.MODIFY) console.log(name);
 */
export class Notifier<N extends string | Buffer = string> implements Pollable, AsyncDisposable {
  /** The watched directory, absolute. */
  readonly path: string;
  readonly #ctl: Controller;
  readonly #fd: number;
  #dirWd: number;
  readonly #match: ((name: string) => boolean) | undefined;
  readonly #buffers: boolean;
  // NB: names are keyed by their bytes, as a latin1 string (one char per byte): names that decode to the
  // same UTF-8 string are still apart, and the key of an ASCII name is the name itself.
  readonly #added = new Map<string, Added>();
  // NB: a watch per inode, so hard links that are both add()ed share one wd: it goes when its last name does.
  readonly #byWd = new Map<number, Set<string>>();
  readonly #pending = new Map<string, number>();
  // Why an add()ed name's watch could not be renewed, reported with its REVOKE.
  readonly #errors = new Map<string, SystemError>();
  #revoked = false;
  #closed = false;

  /** Use {@link notify.watch}. */
  constructor(dir: string, opts: WatchOptions = {}) {
    if (typeof dir !== 'string') throw invalidArgType('dir', 'of type string', dir);
    if (dir.includes('\0')) throw invalidArgValue('dir', 'a path without null bytes', dir);
    if (opts === null || typeof opts !== 'object') throw invalidArgType('opts', 'of type object', opts);
    if (opts.controller !== undefined && !(opts.controller instanceof Controller)) {
      throw invalidArgType('opts.controller', 'an instance of Controller', opts.controller);
    }
    const enc = opts.encoding ?? 'utf8';
    if (enc !== 'utf8' && enc !== 'utf-8' && enc !== 'buffer') {
      throw invalidArgValue('opts.encoding', "'utf8' or 'buffer'", enc);
    }
    this.#buffers = enc === 'buffer';
    this.#match = opts.glob === undefined ? undefined : matcher(opts.glob);
    this.#ctl = opts.controller ?? Controller.root();
    this.path = resolvePath(dir);
    const fd = check(addon.inotifyInit(), 'inotify_init1');
    // NB: owned fds are closed by the addon's cleanup hook if the thread ends (terminate) first.
    addon.own(fd);
    const wd = addon.inotifyAddWatch(fd, this.path, DIR_MASK);
    if (wd < 0) {
      addon.close(fd);
      throw new SystemError(wd, 'inotify_add_watch', { path: dir });
    }
    this.#fd = fd;
    this.#dirWd = wd;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Watches the file `name` in the directory more closely: its changes are reported whatever the glob, only
   * those in `flags`, and writes through its other hard links count too. A name that does not exist yet
   * is watched once it is created. Adding a name again sets its flags. A name is a string or its bytes (a
   * name that is not UTF-8 only with encoding 'buffer'). Should the name later be replaced by a file that
   * cannot be watched, it is reported with REVOKE and the error (see {@link FileChange.error}).
   * @throws TypeError ERR_INVALID_ARG_VALUE for "", ".", "..", or a name with "/" or a null byte;
   *   SystemError ENAMETOOLONG, ENOSPC (the watch limit), EACCES; ERR_HANDLE_CLOSED.
   */
  add(name: FileName, flags: number = ALL): void {
    const key = nameKey(name);
    validateName(name, key, this.#buffers);
    if (!Number.isInteger(flags) || flags < 1 || flags > ALL) throw outOfRange('flags', `an integer from 1 to ${ALL}`, flags);
    this.#usable();
    if (key.length > NAME_MAX) throw new SystemError(ENAMETOOLONG, 'inotify_add_watch', { path: this.#pathOf(key) });
    const known = this.#added.get(key);
    if (known !== undefined) {
      known.flags = flags;
      return;
    }
    const entry: Added = { flags, wd: -1 };
    if (!this.#revoked) {
      const rc = this.#attach(key, entry);
      if (rc < 0 && rc !== ENOENT) throw new SystemError(rc, 'inotify_add_watch', { path: this.#pathOf(key) });
    }
    this.#added.set(key, entry);
  }

  /**
   * Stops watching `name` closely (its file's watch is freed); it is reported again only as the glob says.
   * Returns whether it was add()ed. @throws ERR_HANDLE_CLOSED
   */
  remove(name: FileName): boolean {
    const key = nameKey(name);
    this.#usable();
    const entry = this.#added.get(key);
    if (entry === undefined) return false;
    this.#detach(key, entry);
    this.#added.delete(key);
    this.#errors.delete(key);
    return true;
  }

  /**
   * The next change: `{ flags, name }`, or null when timeoutMs passes first — or at once, once the
   * directory is gone and its REVOKE was taken (nothing can follow it).
   * @throws SystemError from read(2); ERR_HANDLE_CLOSED (also when closed while waiting).
   */
  get(timeoutMs?: number): Promise<FileChange<N> | null> {
    const t = validateTimeout('timeoutMs', timeoutMs);
    return this.#get(t === undefined ? Infinity : monotime() + t);
  }

  /**
   * Iterates over get(timeoutMs): ends when a get() times out, when the notifier is closed, and after the
   * directory's REVOKE.
   * @throws ERR_HANDLE_CLOSED when already closed.
   */
  changes(timeoutMs?: number): AsyncIterableIterator<FileChange<N>> {
    validateTimeout('timeoutMs', timeoutMs);
    this.#usable();
    return this.#changes(timeoutMs);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<FileChange<N>> {
    return this.changes();
  }

  /**
   * Closes the inotify descriptor, which frees every watch. A get() waiting on it rejects with
   * ERR_HANDLE_CLOSED; a changes() iteration ends. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // SAFETY: wake and deregister every poller of the fd before its number can be reused.
    cancelFd(this.#fd);
    addon.close(this.#fd);
    this.#added.clear();
    this.#byWd.clear();
    this.#pending.clear();
    this.#errors.clear();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  // ---- pollable ---------------------------------------------------------------------------------------------

  /** The inotify descriptor (undefined once closed). */
  pollfd(): number | undefined {
    return this.#closed ? undefined : this.#fd;
  }

  events(): 'r' {
    return 'r';
  }

  /** 0 while changes already read wait to be taken (or the end is there to report), else undefined. */
  timeout(): number | undefined {
    return !this.#closed && (this.#pending.size > 0 || this.#revoked) ? 0 : undefined;
  }

  /** For tests only (see {@link kPendingCount}): the names read and not yet taken. @internal */
  get [kPendingCount](): number {
    return this.#pending.size;
  }

  // ---- internals --------------------------------------------------------------------------------------------

  async #get(deadline: number): Promise<FileChange<N> | null> {
    for (;;) {
      this.#usable();
      const c = this.#next();
      if (c !== null) return c;
      if (this.#revoked) return null;
      const left = deadline - monotime();
      if (left <= 0) return null;
      await this.#ctl.waitFd(this.#fd, EPOLLIN, left === Infinity ? undefined : left);
    }
  }

  async *#changes(timeoutMs: number | undefined): AsyncIterableIterator<FileChange<N>> {
    for (;;) {
      let c: FileChange<N> | null;
      try {
        c = await this.get(timeoutMs);
      } catch (err) {
        if (this.#closed) return;
        throw err;
      }
      if (c === null) return;
      yield c;
    }
  }

  #usable(): void {
    if (this.#closed) throw new RuntimeError('ERR_HANDLE_CLOSED', 'notifier is closed');
  }

  /** Reads what the kernel queued, then takes the oldest pending name. */
  #next(): FileChange<N> | null {
    this.#drain();
    for (const [key, flags] of this.#pending) {
      this.#pending.delete(key);
      const name = (this.#buffers ? Buffer.from(key, 'latin1') : utf8Name(key)) as N;
      const error = this.#errors.get(key);
      if (error === undefined) return { flags, name };
      this.#errors.delete(key);
      return { flags, name, error };
    }
    return null;
  }

  #drain(): void {
    readBuf ??= Buffer.allocUnsafe(READ_SIZE);
    records ??= new Int32Array(READ_RECORDS * 5);
    for (let i = 0; i < MAX_READS && !this.#revoked && this.#pending.size <= MAX_PENDING - READ_RECORDS; i++) {
      const n = addon.inotifyRead(this.#fd, readBuf, records);
      if (n === EAGAIN) return;
      if (n < 0) throw new SystemError(n, 'read', { path: this.path });
      for (let k = 0; k < n * 5; k += 5) {
        const len = records[k + 4]!;
        const off = records[k + 3]!;
        // NB: the bytes as they are (latin1: one char per byte), decoded only when reported.
        this.#handle(records[k]!, records[k + 1]!, len === 0 ? '' : readBuf.toString('latin1', off, off + len));
      }
    }
  }

  /** One inotify record: wd, mask, and the entry's name key ('' for the watched object itself). */
  #handle(wd: number, mask: number, name: string): void {
    if (this.#revoked) return;
    if (mask & IN_Q_OVERFLOW) return this.#overflowed();
    if (wd === this.#dirWd) {
      if (name === '') return this.#dirEvent(mask);
      const added = this.#added.get(name);
      if (added !== undefined && mask & (IN_DELETE | IN_MOVED_FROM | IN_CREATE | IN_MOVED_TO)) {
        // The name now stands for another file, or for none: move its watch along.
        this.#detach(name, added);
        if (mask & (IN_CREATE | IN_MOVED_TO)) this.#reattach(name, added);
      }
      this.#record(name, decode(mask));
      return;
    }
    const names = this.#byWd.get(wd);
    // A wd already given up (its records can still be queued), or an entry of an add()ed subdirectory.
    if (names === undefined || name !== '') return;
    let flags = 0;
    if (mask & IN_MODIFY) flags |= MODIFY;
    if (mask & IN_ATTRIB) flags |= ATTRIB;
    if (mask & IN_DELETE_SELF) flags |= DELETE;
    if (mask & IN_UNMOUNT) flags |= REVOKE;
    for (const n of names) this.#record(n, flags);
    if (mask & IN_IGNORED) {
      // The kernel dropped the watch itself (the file is gone): nothing to remove any more.
      for (const n of names) this.#added.get(n)!.wd = -1;
      this.#byWd.delete(wd);
    }
  }

  /** A record about the directory itself. */
  #dirEvent(mask: number): void {
    if (mask & (IN_DELETE_SELF | IN_MOVE_SELF)) this.#revoke(DELETE | REVOKE);
    else if (mask & (IN_UNMOUNT | IN_IGNORED)) this.#revoke(REVOKE);
    else if (mask & IN_ATTRIB) this.#record('.', ATTRIB);
  }

  /** Makes `flags` of the name keyed `key` pending, as its add() flags or the glob let them. */
  #record(key: string, flags: number): void {
    const added = this.#added.get(key);
    // NB: an add()ed name's REVOKE (the end of its own watch) is reported whatever flags it asked for.
    if (added !== undefined) flags &= added.flags | REVOKE;
    if (flags === 0) return;
    if (added === undefined && key !== '.') {
      if (this.#match !== undefined && !this.#match(NOT_ASCII.test(key) ? Buffer.from(key, 'latin1').toString('utf8') : key)) return;
      // A name a string cannot give back: "rescan" (the directory, every kind of change).
      if (!this.#buffers && utf8Name(key) === undefined) return this.#record('.', ANY_CHANGE);
    }
    // NB: Map.set on a pending name keeps its place: names come out in the order they first changed.
    this.#pending.set(key, (this.#pending.get(key) ?? 0) | flags);
  }

  /**
   * The kernel's queue overflowed and records were lost: which names changed is unknown. "." reports every
   * kind of change (rescan the directory), as does each add()ed name, whose watch is renewed; and the
   * directory is checked to be still there.
   */
  #overflowed(): void {
    const wd = addon.inotifyAddWatch(this.#fd, this.path, DIR_MASK);
    if (wd !== this.#dirWd) {
      // Gone, or the path names another directory now: the one watched went away unseen.
      if (wd >= 0) addon.inotifyRmWatch(this.#fd, wd);
      this.#record('.', ANY_CHANGE);
      return this.#revoke(DELETE | REVOKE);
    }
    this.#record('.', ANY_CHANGE);
    for (const [name, added] of this.#added) {
      this.#detach(name, added);
      this.#record(name, ANY_CHANGE);
      this.#reattach(name, added);
    }
  }

  /** The directory is gone: report it, and free every watch. Nothing is read after this. */
  #revoke(flags: number): void {
    this.#record('.', flags);
    this.#revoked = true;
    for (const [name, added] of this.#added) this.#detach(name, added);
    // -EINVAL when the kernel removed it already (deleted, unmounted).
    addon.inotifyRmWatch(this.#fd, this.#dirWd);
    this.#dirWd = -1;
  }

  /**
   * Watches the file `name` again (it was replaced): a failure other than its absence ends the name's own
   * watch, which is reported as its REVOKE with the error. It stays add()ed, watched again once replaced.
   */
  #reattach(name: string, added: Added): void {
    const rc = this.#attach(name, added);
    if (rc >= 0 || rc === ENOENT) return;
    this.#errors.set(name, new SystemError(rc, 'inotify_add_watch', { path: this.#pathOf(name) }));
    this.#record(name, REVOKE);
  }

  /** Watches the file `name` (if it exists); returns 0 or -errno. */
  #attach(name: string, added: Added): number {
    const wd = this.#addWatch(name);
    if (wd < 0) return wd;
    added.wd = wd;
    let names = this.#byWd.get(wd);
    if (names === undefined) this.#byWd.set(wd, (names = new Set()));
    names.add(name);
    return 0;
  }

  /** inotify_add_watch of the file keyed `key`: the wd or -errno. */
  #addWatch(key: string): number {
    const name = utf8Name(key);
    if (name !== undefined) return addon.inotifyAddWatch(this.#fd, `${this.path}/${name}`, FILE_MASK);
    // NB: a name a string cannot spell: watched through an O_PATH fd of it, by its /proc link, which is
    // followed to that very file (to a symlink itself, as IN_DONT_FOLLOW would, since it is O_NOFOLLOW).
    let fd: number;
    try {
      fd = openSync(Buffer.concat([Buffer.from(`${this.path}/`), Buffer.from(key, 'latin1')]), O_PATH | fsConstants.O_NOFOLLOW);
    } catch (err) {
      const errno = (err as NodeJS.ErrnoException).errno;
      if (typeof errno === 'number') return errno;
      throw err;
    }
    try {
      return addon.inotifyAddWatch(this.#fd, `/proc/self/fd/${fd}`, FILE_MASK & ~IN.IN_DONT_FOLLOW!);
    } finally {
      closeSync(fd);
    }
  }

  /** The path of the name keyed `key`, for errors. */
  #pathOf(key: string): string {
    return `${this.path}/${NOT_ASCII.test(key) ? Buffer.from(key, 'latin1').toString('utf8') : key}`;
  }

  /** Lets go of the watch on `name`'s file; the watch itself goes with its last name. */
  #detach(name: string, added: Added): void {
    const wd = added.wd;
    if (wd < 0) return;
    added.wd = -1;
    const names = this.#byWd.get(wd);
    names?.delete(name);
    if (names !== undefined && names.size > 0) return;
    this.#byWd.delete(wd);
    // NB: inotify numbers watches cyclically, so records of this wd still queued cannot be taken for those of
    // a watch made later; -EINVAL means the kernel dropped it already.
    const rc = addon.inotifyRmWatch(this.#fd, wd);
    if (rc < 0 && rc !== EINVAL) throw new SystemError(rc, 'inotify_rm_watch', { path: this.#pathOf(name) });
  }
}

/** A name's flags from a record of the directory's watch. */
function decode(mask: number): number {
  let flags = 0;
  if (mask & (IN_CREATE | IN_MOVED_TO)) flags |= CREATE;
  if (mask & (IN_DELETE | IN_MOVED_FROM)) flags |= DELETE;
  if (mask & IN_MODIFY) flags |= MODIFY;
  if (mask & IN_ATTRIB) flags |= ATTRIB;
  return flags;
}

function matcher(glob: unknown): (name: string) => boolean {
  const patterns = typeof glob === 'string' ? [glob] : glob;
  if (!Array.isArray(patterns) || patterns.some((p) => typeof p !== 'string')) {
    throw invalidArgType('opts.glob', 'of type string or an array of strings', glob);
  }
  if (patterns.length === 0) return () => false;
  for (const p of patterns as string[]) {
    if (p === '' || p.includes('/')) throw invalidArgValue('opts.glob', 'a non-empty pattern without "/"', p);
  }
  try {
    return picomatch(patterns as string[]);
  } catch (err) {
    throw invalidArgValue('opts.glob', 'valid glob patterns', glob, err);
  }
}

/** A name's key: its bytes as a latin1 string. */
function nameKey(name: unknown): string {
  if (typeof name === 'string') return NOT_ASCII.test(name) ? Buffer.from(name, 'utf8').toString('latin1') : name;
  if (name instanceof Uint8Array) return Buffer.from(name.buffer, name.byteOffset, name.byteLength).toString('latin1');
  throw invalidArgType('name', 'of type string or an instance of Buffer or Uint8Array', name);
}

/** The name keyed `key` as a string, or undefined when its bytes are not UTF-8. */
function utf8Name(key: string): string | undefined {
  if (!NOT_ASCII.test(key)) return key;
  const bytes = Buffer.from(key, 'latin1');
  return isUtf8(bytes) ? bytes.toString('utf8') : undefined;
}

function validateName(name: FileName, key: string, buffers: boolean): void {
  if (key === '' || key === '.' || key === '..' || key.includes('/') || key.includes('\0')) {
    throw invalidArgValue('name', 'a file name in the directory (no "/", not "." or "..")', name);
  }
  if (!buffers && utf8Name(key) === undefined) {
    throw invalidArgValue('name', "valid UTF-8 (other names need encoding 'buffer')", name);
  }
}

/** A Node-style TypeError with code ERR_INVALID_ARG_VALUE. */
function invalidArgValue(name: string, expected: string, actual: unknown, cause?: unknown): TypeError {
  const err = new TypeError(`The argument '${name}' must be ${expected}. Received ${JSON.stringify(actual)}`, cause === undefined ? undefined : { cause });
  return Object.assign(err, { code: 'ERR_INVALID_ARG_VALUE' });
}

/** Watches the directory `dir`. @see Notifier @throws SystemError ENOENT, ENOTDIR, EACCES, EMFILE, ENOSPC */
function watch(dir: string, opts: WatchOptions & { encoding: 'buffer' }): Notifier<Buffer>;
function watch(dir: string, opts?: WatchOptions): Notifier<string>;
function watch(dir: string, opts?: WatchOptions): Notifier<string | Buffer> {
  return new Notifier(dir, opts);
}

/** The names of the flags set in `flags`, lowest bit first (`strflag(5)` → `['CREATE', 'MODIFY']`). */
function strflag(flags: number): string[] {
  return NAMES.filter((_, i) => flags & (1 << i));
}

/** Each single flag set in `flags`, lowest first. */
function* flagsOf(flags: number): IterableIterator<number> {
  for (let bit = 1; bit <= ALL; bit <<= 1) if (flags & bit) yield bit;
}

/**
 * File notifications (cqueues.notify): `notify.watch(dir, { glob })` → a {@link Notifier}; the flags
 * CREATE 1, ATTRIB 2, MODIFY 4, REVOKE 8, DELETE 16, ALL 31; `strflag(flags)` and `flags(flags)` as the
 * original's.
 */
export const notify = Object.freeze({ watch, CREATE, ATTRIB, MODIFY, REVOKE, DELETE, ALL, strflag, flags: flagsOf });
