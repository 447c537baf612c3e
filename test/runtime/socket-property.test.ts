// Property test of the read formats: random byte streams cut at random points and read with random formats
// and modes must give what a plain whole-stream model of cqueues-semantics.md §2.4–2.5 (with troupe's
// choices, see input.ts) gives, whatever the cut points. First InputBuffer directly, then real sockets.
//
// A failure names the case seed; PROP_CASE=<seed> runs only that case in every block (add -t '<block>'),
// PROP_SEED=<n> changes the base seed of a whole run.
import { describe, expect, it } from 'vitest';
import { Socket, sleep } from 'troupe';
import { InputBuffer, NEED_MORE, type Format, type ReadShape } from '../../runtime/socket/input.js';

// ---- randomness -----------------------------------------------------------------------------------------------

class Rng {
  #a: number;
  constructor(seed: number) {
    this.#a = seed >>> 0;
  }
  /** mulberry32: uniform in [0, 1). */
  next(): number {
    this.#a = (this.#a + 0x6d2b79f5) >>> 0;
    let t = this.#a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  weighted<T>(xs: readonly (readonly [T, number])[]): T {
    let x = this.next() * xs.reduce((s, [, w]) => s + w, 0);
    for (const [v, w] of xs) if ((x -= w) < 0) return v;
    return xs[xs.length - 1]![0];
  }
}

// ---- cases: stream, cuts, shape -------------------------------------------------------------------------------

type Family = 'lines' | 'headers' | 'boundary' | 'regexp' | 'mixed';

const BYTES = ['a', 'b', ' ', ':', '\r', '\n', '-', 'X', '\t'];
const HEADER_LINES = ['Name: value\r\n', 'Host:x\n', 'X-Y : z\r\n', ' continued\r\n', '\tmore\n', 'GET / HTTP/1.1\r\n', '\r\n', '\n', 'a:\r\n', 'Long-Header-Name: with a longer value\r\n'];
const MIME_PIECES = ['--XYZ\r\n', '\r\n--XYZ\r\n', '\n--XYZ', '\r\n--XYZ--\r\n', 'ab--XYZ', '--XY', 'body line\r\n', 'Content-Type: text/plain\r\n\r\n'];
const OTHER_PIECES = ['\r\n', '\n\n', 'ab:', 'a\n', ': '];
const BOUNDARY = '--XYZ';
const LITERALS = [':', '\n\n', 'ab', '--XYZ', 'a\n'];
const REGEXPS = new Map<RegExp, string>(LITERALS.map((l) => [new RegExp(l.replace(/[-\\^$.*+?()[\]{}|]/g, '\\$&')), l]));

interface Case {
  seed: number;
  family: Family;
  stream: string; // latin1: one char per byte
  cuts: number[]; // chunk end offsets, ascending, the last one is stream.length
  shape: ReadShape;
  capacity: number;
}

function genStream(r: Rng, family: Family): string {
  const len = r.int(0, 300);
  const pieces = family === 'headers' ? HEADER_LINES : family === 'boundary' ? MIME_PIECES : [...HEADER_LINES, ...MIME_PIECES, ...OTHER_PIECES];
  const pPiece = family === 'headers' ? 0.8 : family === 'boundary' ? 0.4 : 0.25;
  let s = '';
  while (s.length < len) {
    const x = r.next();
    if (x < 0.03) s += String.fromCharCode(r.int(0x80, 0xff));
    else if (x < 0.03 + pPiece) s += r.pick(pieces);
    else s += r.pick(BYTES);
  }
  return s.slice(0, len);
}

function genCuts(r: Rng, len: number): number[] {
  if (len > 0 && r.chance(0.1)) return Array.from({ length: len }, (_, k) => k + 1); // byte by byte
  const cuts = new Set<number>([len]);
  const k = r.int(0, 8);
  for (let i = 0; i < k; i++) cuts.add(r.int(0, len)); // 0 and repeats: empty chunks too
  return [...cuts].sort((a, b) => a - b);
}

function genCase(seed: number, family: Family, opts: { text?: boolean; minBufsiz?: number } = {}): Case {
  const r = new Rng(seed);
  const stream = genStream(r, family);
  const cuts = genCuts(r, stream.length);
  const text = r.chance(0.5);
  const shape: ReadShape = {
    text: opts.text ?? text,
    maxline: r.chance(0.2) ? 4096 : r.int(1, 40),
    bufsiz: r.chance(0.2) ? 4096 : r.int(opts.minBufsiz ?? 1, 64),
  };
  return { seed, family, stream, cuts, shape, capacity: r.pick([1, 16, 4096]) };
}

// ---- formats ----------------------------------------------------------------------------------------------------

type Kind = '*l' | '*L' | '*a' | '*h' | '*H' | 'n' | '-n' | '0' | '--' | 're';

const KINDS: Record<Family, [Kind, number][]> = {
  lines: [['*l', 4], ['*L', 3], ['n', 3], ['-n', 3], ['0', 1], ['*a', 0.3]],
  headers: [['*h', 5], ['*H', 4], ['*l', 2], ['-n', 1]],
  boundary: [['--', 5], ['*l', 3], ['n', 1], ['-n', 1]],
  regexp: [['re', 6], ['*l', 2], ['n', 1], ['-n', 1]],
  mixed: [['*l', 3], ['*L', 2], ['n', 2], ['-n', 2], ['0', 0.5], ['*a', 0.2], ['*h', 2], ['*H', 2], ['--', 3], ['re', 3]],
};
/** Formats that can return null without consuming anything: after such a null, read something else. */
const STALLS = new Set<Kind>(['*h', '*H', '--', '0']);

function pickFormat(r: Rng, family: Family, needProgress: boolean): Format {
  const kinds = needProgress ? KINDS[family].filter(([k]) => !STALLS.has(k)) : KINDS[family];
  const kind = r.weighted(kinds);
  switch (kind) {
    case 'n':
      return r.int(1, 20);
    case '-n':
      return -r.int(1, 20);
    case '0':
      return 0;
    case '--':
      return BOUNDARY;
    case 're':
      return r.pick([...REGEXPS.keys()]);
    default:
      return kind;
  }
}

// ---- the reference model: the whole remaining stream at once, EOF at its end ------------------------------------

interface Result {
  out: string | null;
  used: number; // raw bytes consumed
}

const NULL: Result = { out: null, used: 0 };
const lf = (s: string, text: boolean): string => (text ? s.replace(/\r\n/g, '\n') : s);

/** A line longer than maxline is split after maxline bytes; in text mode never between CR and LF. */
function split(s: string, sh: ReadShape): Result {
  let take = sh.maxline;
  if (sh.text && take > 1 && s[take - 1] === '\r') take--;
  return { out: lf(s.slice(0, take), sh.text), used: take };
}

const model = {
  line(s: string, keepEol: boolean, sh: ReadShape): Result {
    if (s === '') return NULL;
    const nl = s.indexOf('\n');
    if (nl >= 0 && nl < sh.maxline) {
      let body = s.slice(0, nl);
      if (!sh.text) return { out: keepEol ? `${body}\n` : body, used: nl + 1 };
      if (body.endsWith('\r')) body = body.slice(0, -1);
      return { out: keepEol ? `${body}\n` : body, used: nl + 1 };
    }
    if (s.length >= sh.maxline) return split(s, sh);
    return { out: s, used: s.length }; // a last line without EOL, at EOF
  },

  all(s: string, sh: ReadShape): Result {
    return s === '' ? NULL : { out: lf(s, sh.text), used: s.length };
  },

  /** n > 0: n bytes (text: translated chars), fewer only at EOF. */
  count(s: string, n: number, sh: ReadShape): Result {
    if (s === '') return NULL;
    let out = '';
    let i = 0;
    while (i < s.length && out.length < n) {
      if (sh.text && s[i] === '\r' && s[i + 1] === '\n') {
        out += '\n';
        i += 2;
      } else {
        out += s[i++];
      }
    }
    return { out, used: i };
  },

  /** One header field; null (nothing consumed) at the blank line, a non-header, EOF or past maxline. */
  header(s: string, raw: boolean, sh: ReadShape): Result {
    const name = /^[\x21-\x39\x3b-\x7e]+[ \t]*:/.exec(s);
    if (name === null) return NULL;
    let from = name[0].length;
    for (;;) {
      const nl = s.indexOf('\n', from);
      if (nl < 0) return NULL; // ended by EOF: not a header
      const after = nl + 1;
      if (after > sh.maxline || after === s.length) return NULL;
      if (s[after] === ' ' || s[after] === '\t') {
        from = after;
        continue;
      }
      const field = s.slice(0, after);
      return { out: raw ? lf(field, sh.text) : field.replace(/\r?\n/g, ''), used: after };
    }
  },

  /** The whole part up to the boundary (its EOL stripped; the boundary stays), or to EOF. */
  part(s: string, sh: ReadShape): Result {
    if (s === '' || s.startsWith(BOUNDARY)) return NULL;
    const at = s.indexOf(`\n${BOUNDARY}`);
    if (at < 0) return { out: lf(s, sh.text), used: s.length };
    const end = at > 0 && s[at - 1] === '\r' ? at - 1 : at;
    return { out: lf(s.slice(0, end), sh.text), used: at + 1 };
  },

  /**
   * Up to and including the first match, matched against the stream as the reader sees it (translated in
   * text mode), if it ends within maxline bytes; else a maxline split as '*l'; at EOF the rest.
   */
  regexp(s: string, literal: string, sh: ReadShape): Result {
    if (s === '') return NULL;
    let t = '';
    const rawEnd: number[] = []; // rawEnd[j]: raw bytes covering t[0..j]
    for (let i = 0; i < s.length; ) {
      const crlf = sh.text && s[i] === '\r' && s[i + 1] === '\n';
      t += crlf ? '\n' : s[i];
      i += crlf ? 2 : 1;
      rawEnd.push(i);
    }
    const at = t.indexOf(literal);
    if (at >= 0) {
      const end = at + literal.length;
      if (rawEnd[end - 1]! <= sh.maxline) return { out: t.slice(0, end), used: rawEnd[end - 1]! };
    }
    if (s.length >= sh.maxline) return split(s, sh);
    return { out: t, used: s.length };
  },

  read(s: string, f: Format, sh: ReadShape): Result {
    if (typeof f === 'number') return f === 0 ? { out: '', used: 0 } : model.count(s, Math.abs(f), sh);
    if (f instanceof RegExp) return model.regexp(s, REGEXPS.get(f)!, sh);
    switch (f) {
      case '*l':
        return model.line(s, false, sh);
      case '*L':
        return model.line(s, true, sh);
      case '*a':
        return model.all(s, sh);
      case '*h':
        return model.header(s, false, sh);
      case '*H':
        return model.header(s, true, sh);
      default:
        return model.part(s, sh);
    }
  },
};

// ---- readers under test -----------------------------------------------------------------------------------------

interface Reader {
  read(f: Format): Buffer | null | Promise<Buffer | null>;
  /** Raw bytes consumed so far, when the reader can tell. */
  consumed?(): number;
}

class Failure extends Error {}

/** InputBuffer fed chunk by chunk: the next chunk whenever a format needs more, then EOF. */
class FedBuffer implements Reader {
  readonly #c: Case;
  readonly #bytes: Buffer;
  readonly #ib: InputBuffer;
  #next = 0;
  #arrived = 0;
  constructor(c: Case) {
    this.#c = c;
    this.#bytes = Buffer.from(c.stream, 'latin1');
    this.#ib = new InputBuffer({ capacity: c.capacity });
  }
  read(f: Format): Buffer | null {
    for (;;) {
      const got = this.#ib.read(f, this.#c.shape);
      if (got !== NEED_MORE) return got;
      if (this.#next < this.#c.cuts.length) {
        const end = this.#c.cuts[this.#next++]!;
        this.#ib.append(this.#bytes.subarray(this.#arrived, end));
        this.#arrived = end;
      } else if (!this.#ib.eof) {
        this.#ib.eof = true;
      } else {
        throw new Failure(`${show(f)} -> NEED_MORE at EOF (a socket read would spin forever)`);
      }
    }
  }
  consumed(): number {
    return this.#arrived - this.#ib.length;
  }
}

const show = (x: unknown): string => (x instanceof RegExp ? String(x) : JSON.stringify(x));
const kindOf = (f: Format): string => (typeof f !== 'number' ? show(f) : f > 0 ? 'n' : f < 0 ? '-n' : '0');

interface Mismatch {
  kind: string; // the format that failed, for the tally
  text: string;
}
const str = (b: Buffer | null): string | null => (b === null ? null : b.toString('latin1'));

/**
 * Reads the case's stream with random formats until it is exhausted, comparing each result with the model.
 * Returns undefined, or a description of the first mismatch.
 */
async function drive(c: Case, reader: Reader): Promise<Mismatch | undefined> {
  const r = new Rng(c.seed ^ 0x5eed);
  const sh = c.shape;
  const log: string[] = [];
  let pos = 0;
  let needProgress = false;
  let afterEnd = 0;
  let f: Format = '*l';
  const fail = (msg: string): Mismatch => ({
    kind: kindOf(f),
    text: [
      `case seed ${c.seed} (${c.family}): ${msg}`,
      `  stream ${show(c.stream)}`,
      `  cuts ${show(c.cuts)}  shape ${show(sh)}  capacity ${c.capacity}`,
      `  reads (last 12 of ${log.length}): ${log.slice(-12).join(' | ')}`,
    ].join('\n'),
  });
  try {
    for (let step = 0; ; step++) {
      if (step > 3000) return fail('no progress after 3000 reads');
      if (pos === c.stream.length && afterEnd++ >= 2) return undefined;
      f = pickFormat(r, c.family, needProgress);
      const rest = c.stream.slice(pos);
      needProgress = false;
      if (typeof f === 'string' && f.startsWith('--')) {
        // Chunk sizes may depend on arrival: compare the whole part, chunks concatenated, up to the null.
        const want = model.part(rest, sh);
        const chunks: string[] = [];
        for (let got = str(await reader.read(f)); got !== null; got = str(await reader.read(f))) {
          chunks.push(got);
          if (chunks.length > 1000) return fail(`${show(f)} never returns null`);
        }
        log.push(`${show(f)} -> ${chunks.map(show).join(', ')}${chunks.length > 0 ? ', ' : ''}null`);
        if (want.out === null ? chunks.length > 0 : chunks.join('') !== want.out) {
          return fail(`${show(f)}: chunks ${show(chunks)} then null, expected ${want.out === null ? 'null at once' : `part ${show(want.out)}`}`);
        }
        if (chunks.slice(0, -1).some((x) => x === '')) return fail(`${show(f)}: an empty chunk before the last`);
        pos += want.used;
        needProgress = true;
      } else if (typeof f === 'number' && f < 0) {
        // 1..-n of whatever has arrived: a prefix of what -n gives with everything there.
        const got = str(await reader.read(f));
        const want = model.count(rest, -f, sh);
        log.push(`${show(f)} -> ${show(got)}`);
        if (got === null || want.out === null) {
          if (got !== want.out) return fail(`${show(f)} -> ${show(got)}, expected ${show(want.out)}`);
        } else {
          if (got.length < 1 || got.length > -f || !want.out.startsWith(got)) {
            return fail(`${show(f)} -> ${show(got)}, expected 1..${-f} bytes of ${show(want.out)}`);
          }
          pos += model.count(rest, got.length, sh).used;
        }
      } else {
        const got = str(await reader.read(f));
        const want = model.read(rest, f, sh);
        log.push(`${show(f)} -> ${show(got)}`);
        if (got !== want.out) return fail(`${show(f)} -> ${show(got)}, expected ${show(want.out)}`);
        pos += want.used;
        if (got === null && (f === '*h' || f === '*H')) needProgress = true;
      }
      if (reader.consumed !== undefined && reader.consumed() !== pos) {
        return fail(`after ${show(f)} consumed ${reader.consumed()} bytes, expected ${pos}`);
      }
    }
  } catch (err) {
    if (err instanceof Failure) return fail(err.message);
    throw err;
  }
}

// ---- running ----------------------------------------------------------------------------------------------------

const BASE_SEED = Number(process.env.PROP_SEED ?? 20240611) >>> 0;
const ONLY = process.env.PROP_CASE === undefined ? undefined : Number(process.env.PROP_CASE) >>> 0;

function seeds(block: number, n: number): number[] {
  if (ONLY !== undefined) return [ONLY];
  return Array.from({ length: n }, (_, i) => (BASE_SEED + block * 1_000_003 + i) >>> 0);
}

/**
 * Runs the cases. On failure reports how many failed, per failing format, and for each format the failing
 * case with the shortest stream (easiest to read).
 */
async function property(block: number, n: number, run: (seed: number) => Promise<[Case, Mismatch | undefined]>): Promise<void> {
  let failed = 0;
  const byKind = new Map<string, { count: number; c: Case; m: Mismatch }>();
  for (const seed of seeds(block, n)) {
    const [c, m] = await run(seed);
    if (m === undefined) continue;
    failed++;
    const k = byKind.get(m.kind);
    if (k === undefined) byKind.set(m.kind, { count: 1, c, m });
    else if ((k.count++, c.stream.length < k.c.stream.length)) Object.assign(k, { c, m });
  }
  const report = [`${failed} of ${n} cases failed`];
  for (const [kind, { count, c, m }] of byKind) {
    report.push(`- ${count} at ${kind}; the shortest (reproduce: PROP_CASE=${c.seed}):\n${m.text}`);
  }
  expect(failed, report.join('\n')).toBe(0);
}

const engineCase = async (seed: number, family: Family, text?: boolean): Promise<[Case, Mismatch | undefined]> => {
  const c = genCase(seed, family, { text });
  return [c, await drive(c, new FedBuffer(c))];
};

describe('InputBuffer formats, any cut points, against the whole-stream model', () => {
  const blocks: [Family, number, boolean?][] = [
    ['lines', 2000],
    ['headers', 2000],
    ['boundary', 2000],
    ['regexp', 1000, false],
    ['regexp', 1000, true],
    ['mixed', 2000],
  ];
  blocks.forEach(([family, n, text], block) => {
    const mode = text === undefined ? '' : text ? ' (text mode)' : ' (binary mode)';
    it(`${family}${mode}: ${n} cases`, async () => {
      await property(block, n, (seed) => engineCase(seed, family, text));
    });
  });
});

describe('Socket.readBytes over a socket pair, written in pieces', () => {
  it('200 cases', async () => {
    await property(99, 200, async (seed) => {
      // NB: bufsiz >= 2: with 1 the '--boundary' engine bug (NEED_MORE at EOF) would spin readBytes forever.
      const c = genCase(seed, 'mixed', { minBufsiz: 2 });
      const [w, rd] = Socket.pair();
      let writer: Promise<void> | undefined;
      try {
        w.setmode('b', 'bn');
        rd.setmode(c.shape.text ? 't' : 'b', 'bn');
        rd.setmaxline(c.shape.maxline);
        rd.setbufsiz(c.shape.bufsiz);
        const bytes = Buffer.from(c.stream, 'latin1');
        writer = (async () => {
          let from = 0;
          for (const end of c.cuts) {
            await w.write(bytes.subarray(from, end));
            from = end;
            await sleep(0); // the reader runs and sees partial data
          }
          w.shutdown('w');
        })();
        const failure = await drive(c, { read: (f) => rd.readBytes(f, { timeoutMs: 5000 }) });
        await writer;
        return [c, failure];
      } finally {
        await writer?.catch(() => undefined);
        w.close();
        rd.close();
      }
    });
  });
});
